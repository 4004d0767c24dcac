//! The `--faults` text form: `seed=N` and `KIND=RATE` items, comma-separated.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Error;

/// One kind of fault the server can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// Close the connection before the request reaches the routes: never applied, no answer.
    DropBefore,
    /// Run the request (a write commits), then close the connection without an answer.
    DropAfter,
    /// Answer 503 without `Retry-After`, without applying the request.
    Status503,
    /// Answer 503 with `Retry-After: 1`, without applying the request.
    Status503RetryAfter,
    /// Answer 500 without applying the request.
    Status500,
    /// Answer 502 without applying the request.
    Status502,
    /// Wait (the `delay` item's duration), then handle the request normally.
    Delay,
    /// Handle the request, then replace the answer's `ETag` with a malformed one.
    BadEtag,
    /// Handle the request, then cut the answer's body in half (a well-framed message whose
    /// JSON is cut short).
    TruncatedBody,
    /// Handle the request, then replace the answer's body with HTML.
    NonJsonBody,
    /// Answer 503 with `Retry-After: 1000000000000` (about 31,700 years), without applying.
    AbsurdRetryAfter,
    /// Answer a write with a version-conflict 409 whose `ETag` is not the current one,
    /// without applying it (reads are handled normally).
    Stale409,
}

impl FaultKind {
    /// Every kind, in the order the spec's help lists them.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::DropBefore,
        FaultKind::DropAfter,
        FaultKind::Status503,
        FaultKind::Status503RetryAfter,
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Delay,
        FaultKind::BadEtag,
        FaultKind::TruncatedBody,
        FaultKind::NonJsonBody,
        FaultKind::AbsurdRetryAfter,
        FaultKind::Stale409,
    ];

    /// The name used in the spec, e.g. `drop-after`.
    pub const fn name(self) -> &'static str {
        match self {
            FaultKind::DropBefore => "drop-before",
            FaultKind::DropAfter => "drop-after",
            FaultKind::Status503 => "status-503",
            FaultKind::Status503RetryAfter => "status-503-retry-after",
            FaultKind::Status500 => "status-500",
            FaultKind::Status502 => "status-502",
            FaultKind::Delay => "delay",
            FaultKind::BadEtag => "bad-etag",
            FaultKind::TruncatedBody => "truncated-body",
            FaultKind::NonJsonBody => "non-json-body",
            FaultKind::AbsurdRetryAfter => "absurd-retry-after",
            FaultKind::Stale409 => "stale-409",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which faults to inject, how often, and the seed of the draws.
///
/// Text form (what `--faults` takes): comma-separated items, each `seed=N` (a `u64`, default
/// 0) or `KIND=RATE`, where RATE is a probability in `0..=1` (`0.05`) and `delay` takes
/// `RATE:DURATION` (`0.05:200ms`; `ms` or `s`). Each request draws once: with the rates'
/// sum at most 1, it gets at most one fault. Rates are kept to one part in a million. The same seed gives the same sequence of draws.
///
/// ```
/// use std::time::Duration;
/// use ifmatch_server::{FaultKind, FaultSpec};
///
/// let spec: FaultSpec = "seed=7,drop-after=0.05,delay=0.1:200ms".parse().unwrap();
/// assert_eq!(spec.seed(), 7);
/// assert_eq!(spec.rate(FaultKind::DropAfter), 0.05);
/// assert_eq!(spec.delay(), Duration::from_millis(200));
/// assert_eq!(spec.to_string(), "seed=7,drop-after=0.05,delay=0.1:200ms");
/// assert!("drop-after=2".parse::<FaultSpec>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    seed: u64,
    /// Rates in parts per million, in [`FaultKind::ALL`] order; kinds not named have rate 0.
    rates: Vec<(FaultKind, u32)>,
    delay: Duration,
}

/// The valid forms, quoted by every parse error.
pub(crate) const SPEC_FORMS: &str = "comma-separated `seed=N` and `KIND=RATE` items, RATE a probability from 0 to 1 (rates summing to at most 1) and `delay=RATE:DURATION` (DURATION like 200ms or 2s); KIND is one of drop-before, drop-after, status-503, status-503-retry-after, status-500, status-502, delay, bad-etag, truncated-body, non-json-body, absurd-retry-after, stale-409 (e.g. seed=7,drop-after=0.05,delay=0.05:200ms)";

/// Longest `delay` accepted: longer would only look like a hung server.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);

impl FaultSpec {
    /// The seed of the draws.
    pub const fn seed(&self) -> u64 {
        self.seed
    }

    /// The probability of `kind` per request (0 when not named).
    pub fn rate(&self, kind: FaultKind) -> f64 {
        self.rates
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |(_, r)| f64::from(*r) / PER_MILLION)
    }

    /// How long a `delay` fault waits (zero when `delay` is not named).
    pub const fn delay(&self) -> Duration {
        self.delay
    }

    /// The kinds named with a non-zero rate, with their rates, in [`FaultKind::ALL`] order.
    pub fn rates(&self) -> impl Iterator<Item = (FaultKind, f64)> + '_ {
        self.rates
            .iter()
            .filter(|(_, r)| *r > 0)
            .map(|(k, r)| (*k, f64::from(*r) / PER_MILLION))
    }

    /// The fault for a uniform draw `u` in `0..1_000_000`: the rates laid end to end.
    pub(crate) fn pick(&self, u: u32) -> Option<FaultKind> {
        let mut edge = 0;
        for (kind, rate) in &self.rates {
            edge += rate;
            if u < edge {
                return Some(*kind);
            }
        }
        None
    }
}

fn invalid(part: &str, why: &str) -> Error {
    Error::InvalidFaults {
        part: part.to_owned(),
        why: why.to_owned(),
        expected: SPEC_FORMS,
    }
}

/// Draws and rates are in parts per million.
pub(crate) const MILLION: u32 = 1_000_000;
const PER_MILLION: f64 = 1_000_000.0;

fn parse_rate(part: &str, text: &str) -> Result<u32, Error> {
    let rate: f64 = text
        .parse()
        .map_err(|_| invalid(part, "the rate is not a number"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(invalid(part, "the rate must be from 0 to 1"));
    }
    // In 0..=1, so the product fits.
    Ok((rate * PER_MILLION).round() as u32)
}

fn parse_duration(part: &str, text: &str) -> Result<Duration, Error> {
    let (digits, unit) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, Duration::from_millis(1))
    } else if let Some(s) = text.strip_suffix('s') {
        (s, Duration::from_secs(1))
    } else {
        return Err(invalid(part, "the duration needs a unit, ms or s"));
    };
    let n: u32 = digits
        .parse()
        .map_err(|_| invalid(part, "the duration is not a whole number"))?;
    let delay = unit * n;
    if delay > MAX_FAULT_DELAY {
        return Err(invalid(part, "the delay may be at most 60s"));
    }
    Ok(delay)
}

impl FromStr for FaultSpec {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let mut spec = FaultSpec {
            seed: 0,
            rates: Vec::new(),
            delay: Duration::ZERO,
        };
        let mut seed_seen = false;
        for part in text.split(',') {
            let Some((name, value)) = part.split_once('=') else {
                return Err(invalid(part, "not of the form NAME=VALUE"));
            };
            if name == "seed" {
                if seed_seen {
                    return Err(invalid(part, "the seed is given twice"));
                }
                seed_seen = true;
                spec.seed = value
                    .parse()
                    .map_err(|_| invalid(part, "the seed is not a whole number up to 2^64-1"))?;
                continue;
            }
            let kind = FaultKind::from_name(name).ok_or_else(|| invalid(part, "unknown fault"))?;
            if spec.rates.iter().any(|(k, _)| *k == kind) {
                return Err(invalid(part, "this fault is given twice"));
            }
            let rate = if kind == FaultKind::Delay {
                let (rate, duration) = value
                    .split_once(':')
                    .ok_or_else(|| invalid(part, "delay takes RATE:DURATION"))?;
                spec.delay = parse_duration(part, duration)?;
                parse_rate(part, rate)?
            } else {
                parse_rate(part, value)?
            };
            spec.rates.push((kind, rate));
        }
        if spec.rates.iter().map(|(_, r)| r).sum::<u32>() > MILLION {
            return Err(invalid(text, "the rates add up to more than 1"));
        }
        spec.rates
            .sort_by_key(|(k, _)| FaultKind::ALL.iter().position(|a| a == k));
        Ok(spec)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed={}", self.seed)?;
        for (kind, rate) in self.rates() {
            if kind == FaultKind::Delay {
                write!(f, ",delay={rate}:{}ms", self.delay.as_millis())?;
            } else {
                write!(f, ",{kind}={rate}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "seed=7,drop-before=0.05,drop-after=0.05,status-503=0.05,status-503-retry-after=0.05,status-500=0.02,status-502=0.02,delay=0.05:200ms,bad-etag=0.02,truncated-body=0.02,non-json-body=0.02,absurd-retry-after=0.02,stale-409=0.02";

    #[test]
    fn the_full_example_parses_and_round_trips() {
        let spec: FaultSpec = FULL.parse().unwrap();
        assert_eq!(spec.seed(), 7);
        assert_eq!(spec.rates().count(), 12);
        assert_eq!(spec.rate(FaultKind::Stale409), 0.02);
        assert_eq!(spec.delay(), Duration::from_millis(200));
        assert_eq!(spec.to_string(), FULL);
        assert_eq!(spec.to_string().parse::<FaultSpec>().unwrap(), spec);
    }

    #[test]
    fn draws_map_onto_the_rates_laid_end_to_end() {
        let spec: FaultSpec = "status-500=0.25,drop-before=0.25".parse().unwrap();
        // Sorted in ALL order: drop-before first.
        assert_eq!(spec.pick(0), Some(FaultKind::DropBefore));
        assert_eq!(spec.pick(249_999), Some(FaultKind::DropBefore));
        assert_eq!(spec.pick(250_000), Some(FaultKind::Status500));
        assert_eq!(spec.pick(499_999), Some(FaultKind::Status500));
        assert_eq!(spec.pick(500_000), None);
        assert_eq!(spec.pick(MILLION - 1), None);
        let none: FaultSpec = "seed=1".parse().unwrap();
        assert_eq!(none.pick(0), None);
        let all: FaultSpec = "status-503=1".parse().unwrap();
        assert_eq!(all.pick(MILLION - 1), Some(FaultKind::Status503));
    }

    #[test]
    fn parse_errors_name_the_bad_part_and_the_valid_forms() {
        let cases = [
            "seed=7,drop-afterr=0.1",
            "drop-after=1.5",
            "drop-after=lots",
            "delay=0.1",
            "delay=0.1:200",
            "delay=0.1:2m",
            "delay=0.1:61s",
            "seed=-1",
            "seed=1,seed=2",
            "status-500=0.1,status-500=0.2",
            "drop-before=0.6,drop-after=0.6",
            "drop-before",
            "",
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|c| format!("{c:?} → {}", c.parse::<FaultSpec>().unwrap_err()))
            .collect();
        insta::assert_snapshot!(messages.join("\n"));
    }
}
