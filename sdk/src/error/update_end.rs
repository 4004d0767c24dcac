//! Why a version conflict ended a `client.update()`, for its advice.

/// Why an update stopped at a version conflict instead of writing again; see
/// [`crate::Error::Conflict`]'s `ended_update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateEnd {
    /// Every write allowed ([`crate::RetryConfig::max_conflict_attempts`]) found a newer version.
    OutOfAttempts,
    /// Another write would have passed [`crate::RetryConfig::total_deadline`].
    OutOfTime,
    /// The strategy handed the conflict to the manual flow ([`crate::Strategy::Escalate`]).
    Escalated,
}
