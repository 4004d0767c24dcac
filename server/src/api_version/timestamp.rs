//! A moment in whole seconds since the Unix epoch, written as RFC 3339 text: the form the
//! `--v1-deprecation` and `--v1-sunset` flags take.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;

/// A moment, in whole seconds since 1970-01-01T00:00:00Z. Text form: RFC 3339
/// (`2026-06-01T00:00:00Z`, any offset, fractions of a second dropped).
///
/// ```
/// use ifmatch_server::Timestamp;
///
/// let at: Timestamp = "2026-06-01T02:00:00+02:00".parse().unwrap();
/// assert_eq!(at, Timestamp::from_unix_seconds(1_780_272_000));
/// assert_eq!(at.to_string(), "2026-06-01T00:00:00Z");
/// assert!("2026-02-30T00:00:00Z".parse::<Timestamp>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The moment `seconds` after the Unix epoch.
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> u64 {
        self.0
    }

    /// The same moment as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }
}

const EXPECTED: &str =
    "an RFC 3339 time no earlier than 1970, e.g. 2026-06-01T00:00:00Z or 2026-06-01T02:00:00+02:00";

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        parse(text.as_bytes())
            .map(Self)
            .ok_or_else(|| Error::InvalidValue {
                what: "time",
                value: text.to_owned(),
                expected: EXPECTED,
            })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = i64::try_from(self.0 / 86_400).unwrap_or(i64::MAX);
        let rest = self.0 % 86_400;
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        )
    }
}

fn digits(bytes: &[u8], at: usize, len: usize) -> Option<i64> {
    let part = bytes.get(at..at + len)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        part.iter()
            .fold(0, |n, digit| n * 10 + i64::from(digit - b'0')),
    )
}

/// `YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|±HH:MM)` to Unix seconds.
fn parse(bytes: &[u8]) -> Option<u64> {
    let expect = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    let (year, month, day) = (
        digits(bytes, 0, 4)?,
        digits(bytes, 5, 2)?,
        digits(bytes, 8, 2)?,
    );
    let (hour, minute, second) = (
        digits(bytes, 11, 2)?,
        digits(bytes, 14, 2)?,
        digits(bytes, 17, 2)?,
    );
    let separators = expect(4, b"-")
        && expect(7, b"-")
        && expect(10, b"Tt ")
        && expect(13, b":")
        && expect(16, b":");
    if !separators || !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return None;
    }
    // 60 is a leap second; it counts as the next second's start.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    if expect(at, b".") {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return None;
        }
    }
    let offset = match bytes.get(at)? {
        b'Z' | b'z' if at + 1 == bytes.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == bytes.len() && expect(at + 3, b":") => {
            let (hours, minutes) = (digits(bytes, at + 1, 2)?, digits(bytes, at + 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(seconds).ok()
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Option<u64> {
        text.parse::<Timestamp>().ok().map(Timestamp::unix_seconds)
    }

    #[test]
    fn rfc_3339_forms_are_read() {
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(at("2026-06-01T00:00:00Z"), Some(1_780_272_000));
        assert_eq!(at("2027-06-01t00:00:00z"), Some(1_811_808_000));
        assert_eq!(at("2026-06-01 00:00:00.999Z"), Some(1_780_272_000));
        assert_eq!(at("2026-05-31T17:00:00-07:00"), Some(1_780_272_000));
        assert_eq!(at("2024-02-29T12:00:00Z"), Some(1_709_208_000));
    }

    #[test]
    fn malformed_or_impossible_times_are_refused() {
        for bad in [
            "",
            "none",
            "2026-06-01",
            "2026-06-01T00:00:00",
            "2026-06-01T00:00Z",
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-06-31T00:00:00Z",
            "2026-06-01T24:00:00Z",
            "2026-06-01T00:00:00.Z",
            "2026-06-01T00:00:00+0200",
            "2026-06-01T00:00:00Z ",
            "1969-12-31T23:59:59Z",
            "+026-06-01T00:00:00Z",
            "２０２６-06-01T00:00:00Z",
        ] {
            let err = bad.parse::<Timestamp>().unwrap_err().to_string();
            assert!(err.contains("RFC 3339"), "{bad:?}: {err}");
        }
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(seconds in 0u64..253_402_300_800) {
            let at = Timestamp::from_unix_seconds(seconds);
            prop_assert_eq!(at.to_string().parse::<Timestamp>().unwrap(), at);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<Timestamp>();
        }
    }
}
