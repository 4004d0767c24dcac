//! Retry policy: settings, server hints, backoff, the per-host budget and the pure decision.

mod backoff;
mod budget;
mod config;
mod conflict;
mod decide;
mod hint;
mod safety;
mod validate;

pub(crate) use backoff::Backoff;
pub(crate) use budget::RetryBudget;
pub use config::{LongWaitPolicy, RetryConfig};
pub(crate) use conflict::{
    after_conflict, carried_still_fresh, jittered, pause_ceiling, AfterConflict,
};
pub(crate) use decide::{decide_throttle, GiveUp, ThrottleDecision, Throttled};
pub use hint::HintSource;
pub(crate) use hint::{digits, read_hint};
pub(crate) use safety::{is_resend_safe_after_loss, is_resent_status, is_retry_safe};
