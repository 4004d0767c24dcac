//! Starts the reference server in-process when no `--base-url` is given.

use ifmatch_server::{Config, MismatchStatus, RateLimit, RunningServer};

use crate::check::SetupError;
use crate::rules::Profile;

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

/// Starts the reference server on an ephemeral loopback port, configured to
/// match what the run declares: the mismatch status, and the behaviours the
/// selected profiles check.
pub async fn start(
    profiles: &[Profile],
    mismatch_status: u16,
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
    ifmatch_server::spawn(config)
        .await
        .map_err(|e| SetupError(format!("cannot start the embedded reference server: {e}")))
}
