//! Starts the reference server in-process when no `--base-url` is given.

use ifmatch_server::{Config, MismatchStatus, RateLimit, RunningServer};

use crate::check::SetupError;
use crate::rules::{NotifyConfig, Profile};

/// Token bucket used when the `rate-limit` profile is checked against the
/// embedded server: generous enough that the core rules rarely wait, small enough
/// that a burst of 300 meets a 429.
pub const EMBEDDED_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 100,
    burst: 100,
};

/// Waiters allowed per lock when the `locking` profile is checked against the
/// embedded server: small, so that `locking.queue-full-503` fills the queue with a
/// handful of requests.
pub const EMBEDDED_MAX_LOCK_WAITERS: usize = 4;

/// Heartbeat of conflict streams when the `notifications` profile is checked
/// against the embedded server: short, so that `notifications.stream-heartbeat`
/// is judged within a second (the server's default is 15 s).
pub const EMBEDDED_SSE_HEARTBEAT: std::time::Duration = std::time::Duration::from_millis(250);

/// The embedded servers of one run.
#[derive(Debug)]
pub struct EmbeddedServers {
    /// The server every rule is checked against.
    pub main: RunningServer,
    /// When the `rate-limit` profile is checked together with others: a second server, the
    /// only one with [`EMBEDDED_RATE_LIMIT`], for the rate-limit rules
    /// ([`crate::check::CheckConfig::rate_limit_base_url`]). The other rules then never wait
    /// for a `Retry-After` (a shared bucket cost them about 13 s in all) and need not finish
    /// before the rate-limit rules start.
    pub rate_limited: Option<RunningServer>,
}

impl EmbeddedServers {
    /// Stops the servers.
    pub async fn shutdown(self) {
        self.main.shutdown().await;
        if let Some(server) = self.rate_limited {
            server.shutdown().await;
        }
    }
}

/// Starts the servers `config` is checked against: [`start_with`] its profiles, and when
/// the `rate-limit` profile comes with others, a separate rate-limited server for it.
pub async fn start_for(config: &crate::check::CheckConfig) -> Result<EmbeddedServers, SetupError> {
    let (mismatch, notify) = (config.mismatch_status, &config.notifications);
    let others: Vec<Profile> = config
        .profiles
        .iter()
        .copied()
        .filter(|p| *p != Profile::RateLimit)
        .collect();
    if others.is_empty() || others.len() == config.profiles.len() {
        let main = start_with(&config.profiles, mismatch, notify).await?;
        return Ok(EmbeddedServers {
            main,
            rate_limited: None,
        });
    }
    let main = start_with(&others, mismatch, notify).await?;
    let rate_limited = start_with(&[Profile::RateLimit], mismatch, notify).await?;
    Ok(EmbeddedServers {
        main,
        rate_limited: Some(rate_limited),
    })
}

/// Starts the reference server on an ephemeral loopback port, configured to
/// match what the run declares: the mismatch status, and the behaviours the
/// selected profiles check.
pub async fn start(
    profiles: &[Profile],
    mismatch_status: u16,
) -> Result<RunningServer, SetupError> {
    start_with(profiles, mismatch_status, &NotifyConfig::default()).await
}

/// As [`start`]; when the `notifications` profile is checked, the server also
/// knows `notify`'s identities (the writer and the other client as clients, the
/// admin as an admin) and sends heartbeats every [`EMBEDDED_SSE_HEARTBEAT`].
pub async fn start_with(
    profiles: &[Profile],
    mismatch_status: u16,
    notify: &NotifyConfig,
) -> Result<RunningServer, SetupError> {
    let mismatch = if mismatch_status == 409 {
        MismatchStatus::Conflict
    } else {
        MismatchStatus::PreconditionFailed
    };
    let config = Config::new()
        .with_mismatch_status(mismatch)
        .with_require_preconditions(profiles.contains(&Profile::RequirePreconditions))
        .with_rate_limit(
            profiles
                .contains(&Profile::RateLimit)
                .then_some(EMBEDDED_RATE_LIMIT),
        );
    let config = if profiles.contains(&Profile::Locking) {
        config.with_max_lock_waiters(EMBEDDED_MAX_LOCK_WAITERS)
    } else {
        config
    };
    let config = if profiles.contains(&Profile::Notifications) {
        let clients = [&notify.writer, &notify.other].into_iter().flatten();
        let config = clients.fold(config, |c, id| c.with_client_token(&id.name, &id.token));
        let config = match &notify.admin {
            Some(admin) => config.with_admin_token(&admin.name, &admin.token),
            None => config,
        };
        config.with_sse_heartbeat(EMBEDDED_SSE_HEARTBEAT)
    } else {
        config
    };
    ifmatch_server::spawn(config)
        .await
        .map_err(|e| SetupError(format!("cannot start the embedded reference server: {e}")))
}
