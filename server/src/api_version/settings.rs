//! The API-version part of [`Config`]: when v1 is deprecated and when it goes away.

use super::Timestamp;
use crate::Config;

impl Config {
    /// When v1 is (or was) deprecated: every v1 answer carries `Deprecation: @<seconds>`
    /// (RFC 9745), plus `Sunset` and a `Link` to its v2 successor. `None` turns the
    /// announcement off, `Sunset` included.
    ///
    /// ```
    /// use ifmatch_server::{Config, Timestamp, DEFAULT_V1_DEPRECATION};
    ///
    /// let config = Config::new()
    ///     .with_v1_deprecation(Some("2030-01-01T00:00:00Z".parse::<Timestamp>().unwrap()))
    ///     .with_v1_sunset(None);
    /// assert_eq!(config.v1_sunset(), None);
    /// assert_eq!(Config::new().v1_deprecation(), Some(DEFAULT_V1_DEPRECATION));
    /// ```
    pub const fn with_v1_deprecation(mut self, at: Option<Timestamp>) -> Self {
        self.retirement.deprecation = at;
        self
    }

    /// When v1 goes away, announced in `Sunset` (RFC 8594) next to the deprecation; it must be
    /// after the deprecation (else [`crate::router`] and [`crate::spawn`] fail with
    /// [`Error::InvalidValue`](crate::Error::InvalidValue)). `None`: no `Sunset`.
    pub const fn with_v1_sunset(mut self, at: Option<Timestamp>) -> Self {
        self.retirement.sunset = at;
        self
    }

    /// When v1 is deprecated (`None`: not announced).
    pub const fn v1_deprecation(&self) -> Option<Timestamp> {
        self.retirement.deprecation
    }

    /// When v1 goes away (`None`: not announced).
    pub const fn v1_sunset(&self) -> Option<Timestamp> {
        self.retirement.sunset
    }
}
