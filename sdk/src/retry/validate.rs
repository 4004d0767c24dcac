//! Checking a [`RetryConfig`] once, when the client is built, instead of clamping in silence.

use std::time::Duration;

use super::RetryConfig;
use crate::Error;

impl RetryConfig {
    /// Checks every setting; [`crate::ClientBuilder::build`] calls it.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first invalid setting, what is wrong and what would do.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |field: &'static str, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        let factor_ok = |f: f32| f.is_finite() && f >= 1.0;
        if self.max_attempts() == 0 {
            return invalid(
                "retry.max_attempts",
                "must be at least 1 (the first attempt counts); use 1 for no throttle retries",
            );
        }
        if self.max_conflict_attempts() == 0 {
            return invalid(
                "retry.max_conflict_attempts",
                "must be at least 1 (the first write counts); use 1 for no conflict recovery",
            );
        }
        if !factor_ok(self.factor()) {
            return invalid(
                "retry.factor",
                "must be a finite number of at least 1.0 (1.0 keeps the delay constant)",
            );
        }
        if !factor_ok(self.conflict_factor()) {
            return invalid(
                "retry.conflict_factor",
                "must be a finite number of at least 1.0 (1.0 keeps the pause constant)",
            );
        }
        if self
            .conflict_rtt_scale()
            .is_some_and(|scale| !(scale.is_finite() && scale > 0.0))
        {
            return invalid(
                "retry.conflict_rtt_scale",
                "must be a finite number above 0 (round trips of the refused write), or None for fixed pauses",
            );
        }
        if self.initial_delay() > self.max_delay() {
            return invalid(
                "retry.initial_delay",
                "is longer than retry.max_delay, which caps every wait; raise max_delay or lower initial_delay",
            );
        }
        if self.conflict_delay() > self.conflict_max_delay() {
            return invalid(
                "retry.conflict_delay",
                "is longer than retry.conflict_max_delay, which caps every pause; raise the cap or lower the delay",
            );
        }
        if self.min_delay() > self.max_retry_after() {
            return invalid(
                "retry.min_delay",
                "is longer than retry.max_retry_after, so every server hint would be refused; lower min_delay",
            );
        }
        if self.total_deadline() == Some(Duration::ZERO) {
            return invalid(
                "retry.total_deadline",
                "a zero deadline would fail every call; give a positive duration, or None for no limit",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(config: RetryConfig) -> &'static str {
        match config.validate() {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn the_presets_are_valid() {
        for config in [
            RetryConfig::new(),
            RetryConfig::contended(),
            RetryConfig::background_sync(),
            RetryConfig::disabled(),
        ] {
            assert!(config.validate().is_ok(), "{config:?}");
        }
    }

    #[test]
    fn invalid_values_are_named_instead_of_clamped() {
        let ms = Duration::from_millis;
        let base = RetryConfig::new;
        assert_eq!(field(base().with_max_attempts(0)), "retry.max_attempts");
        assert_eq!(
            field(base().with_max_conflict_attempts(0)),
            "retry.max_conflict_attempts"
        );
        assert_eq!(field(base().with_factor(0.5)), "retry.factor");
        assert_eq!(field(base().with_factor(f32::NAN)), "retry.factor");
        assert_eq!(
            field(base().with_conflict_factor(0.9)),
            "retry.conflict_factor"
        );
        for scale in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert_eq!(
                field(base().with_conflict_rtt_scale(Some(scale))),
                "retry.conflict_rtt_scale"
            );
        }
        assert_eq!(
            field(base().with_initial_delay(ms(30_000))),
            "retry.initial_delay"
        );
        assert_eq!(
            field(base().with_conflict_delay(ms(2_000))),
            "retry.conflict_delay"
        );
        assert_eq!(field(base().with_min_delay(ms(60_000))), "retry.min_delay");
        assert_eq!(
            field(base().with_total_deadline(Some(Duration::ZERO))),
            "retry.total_deadline"
        );
        // The values are kept as given, not silently corrected.
        assert_eq!(base().with_factor(0.5).factor(), 0.5);
    }
}
