//! Emulated servers for the `notifications` profile: the emulator behind the
//! front that serves its conflict stream, and a run configured with the
//! emulator's clients as its identities.

use std::time::Duration;

use ifmatch_conformance::check::CheckConfig;
use ifmatch_conformance::rules::{Identity, Level, Profile, CATALOGUE};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

use super::emulator::{start_front, ADMINS, CLIENTS};
use super::{assert_only_broken, check, config, fault_options, Emulator, Fault, Options};

/// How long a run waits for a heartbeat (the emulator sends one every 200 ms).
pub const SSE_WAIT: Duration = Duration::from_secs(1);

/// An emulated server reachable through its stream front.
pub struct Notifying {
    /// The wiremock server behind the front (kept alive with it).
    pub server: MockServer,
    /// The front's URL: check this one.
    pub base_url: String,
}

/// Emulator options with a conflict log and no fault.
pub fn notifying_options() -> Options {
    Options {
        conflicts: true,
        ..fault_options(None)
    }
}

/// Starts the emulator with `options` behind a stream front.
pub async fn emulated_notifying(options: Options) -> Notifying {
    let emulator = Emulator::new(options);
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(emulator.clone())
        .mount(&server)
        .await;
    let front = start_front(*server.address(), emulator.stream_source()).await;
    Notifying {
        server,
        base_url: format!("http://{front}"),
    }
}

fn identity((name, token): (&str, &str)) -> Option<Identity> {
    Some(Identity {
        name: name.into(),
        token: token.into(),
    })
}

/// Gives `config` the emulator's writer, other client and admin, and a short
/// heartbeat wait.
pub fn with_identities(mut config: CheckConfig) -> CheckConfig {
    config.notifications.writer = identity(CLIENTS[0]);
    config.notifications.other = identity(CLIENTS[1]);
    config.notifications.admin = identity(ADMINS[0]);
    config.notifications.sse_wait = SSE_WAIT;
    config
}

/// A run of `profiles` against `base_url` as the emulator's clients.
pub fn notify_config(base_url: &str, profiles: &[Profile]) -> CheckConfig {
    with_identities(config(base_url, profiles, 412))
}

/// Checks an emulated server with `fault` (behind the stream front, with every
/// identity) and asserts that exactly the fault's rules fail or warn.
pub async fn assert_notify_fault_breaks_only_its_rules(fault: Fault) {
    let server = emulated_notifying(fault_options(Some(fault))).await;
    let report = check(&notify_config(&server.base_url, &fault.profiles())).await;
    assert_only_broken(&report, &fault.breaks());
    let must_broken = fault.breaks().iter().any(|id| {
        CATALOGUE
            .iter()
            .any(|r| r.id == *id && r.level == Level::Must)
    });
    assert_eq!(
        report.exit_code(),
        i32::from(must_broken),
        "exit status for {fault:?}"
    );
}
