//! What `update()` does when the server offers only a weak ETag: the policy, and the pure
//! decision it makes after each read.

use std::time::Duration;

use http::HeaderValue;

use crate::{precondition::Header, EntityTag};

/// What `update()` does when a resource it read has only a weak ETag (`W/"…"`), which
/// `If-Match` never matches (RFC 9110 §13.1.1), and no version in the body. Set it with
/// [`crate::ClientBuilder::weak_validators`] (or one resource's
/// [`crate::Client::with_weak_validators`]).
///
/// In order: (a) read again, up to [`WeakValidators::rereads`] times spread over
/// [`WeakValidators::within`] with doubling pauses (the first soon, the last late), until the
/// server offers a strong tag (Apache `mod_dav` sends a weak one for up to a second after a
/// write, then a strong one); (b) if it is still weak and the
/// policy allows it ([`WeakValidators::or_unmodified_since`]), write with
/// `If-Unmodified-Since` set to the read's `Last-Modified`; (c) otherwise stop with
/// [`crate::Error::WeakValidator`] (code `weak_validator`), which says what the server sent
/// and which option to choose. It never writes unconditionally, unless
/// [`crate::MissingEtagPolicy::Unconditional`] asks for that explicitly.
///
/// `If-Unmodified-Since` has a resolution of one second: two writes within the same second
/// are not told apart, so a change made by someone else less than a second after the read can
/// be overwritten. Allow it only for resources that change less often than that.
///
/// # Defaults
/// Re-read 3 times ([`WeakValidators::DEFAULT_REREADS`]) within 1.75 s
/// ([`WeakValidators::DEFAULT_WITHIN`]), after pauses of 250 ms, 500 ms and 1 s, so the last
/// read comes well after `mod_dav`'s weak second; never `If-Unmodified-Since`, never send the
/// weak tag. Under writes more frequent than that second the tag stays weak: use
/// [`WeakValidators::or_unmodified_since`] or make the server send strong tags.
///
/// ```
/// use std::time::Duration;
/// use ifmatch::{Client, WeakValidators};
///
/// assert_eq!(WeakValidators::default().rereads(), 3);
/// assert_eq!(WeakValidators::default().within(), Duration::from_millis(1750));
/// assert!(!WeakValidators::default().unmodified_since());
/// // A WebDAV server: wait up to 5 reads over 3 s, then fall back to Last-Modified.
/// let dav = Client::builder()
///     .weak_validators(
///         WeakValidators::wait(5, Duration::from_secs(3)).or_unmodified_since(true),
///     )
///     .build()?;
/// // A FHIR server, which compares weak ETags in If-Match on purpose.
/// let fhir = Client::builder().weak_validators(WeakValidators::send_as_is()).build()?;
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeakValidators {
    rereads: u32,
    within: Duration,
    unmodified_since: bool,
    send_as_is: bool,
}

impl Default for WeakValidators {
    fn default() -> Self {
        Self::wait(Self::DEFAULT_REREADS, Self::DEFAULT_WITHIN)
    }
}

impl WeakValidators {
    /// How many times the default policy reads again for a strong tag.
    pub const DEFAULT_REREADS: u32 = 3;
    /// How long the default policy's reads are spread over (pauses of 250 ms, 500 ms, 1 s).
    pub const DEFAULT_WITHIN: Duration = Duration::from_millis(1750);

    /// Read again up to `rereads` times for a strong tag, spread over `within` with pauses
    /// that double (`wait(3, 1.75 s)`: 250 ms, 500 ms, 1 s; the pauses add up to `within`);
    /// then stop with `weak_validator` (unless [`WeakValidators::or_unmodified_since`]).
    /// `wait(0, _)` stops at once.
    pub const fn wait(rereads: u32, within: Duration) -> Self {
        Self {
            rereads,
            within,
            unmodified_since: false,
            send_as_is: false,
        }
    }

    /// When the tag is still weak after waiting and the read had `Last-Modified`, write with
    /// `If-Unmodified-Since` (one-second resolution: see the type's docs for the risk).
    pub const fn or_unmodified_since(mut self, allowed: bool) -> Self {
        self.unmodified_since = allowed;
        self
    }

    /// Send the weak tag in `If-Match` as it is, from `update()` and from a `put`, `patch` or
    /// `delete` given a weak tag (otherwise refused locally with `missing_etag`). Only for
    /// servers that compare weakly on purpose (FHIR); a server following RFC 9110 refuses every
    /// such write with 412.
    pub const fn send_as_is() -> Self {
        Self {
            rereads: 0,
            within: Duration::ZERO,
            unmodified_since: false,
            send_as_is: true,
        }
    }

    /// The number of re-reads for a strong tag.
    pub const fn rereads(&self) -> u32 {
        self.rereads
    }

    /// The time the re-reads are spread over.
    pub const fn within(&self) -> Duration {
        self.within
    }

    /// Whether `If-Unmodified-Since` may be used.
    pub const fn unmodified_since(&self) -> bool {
        self.unmodified_since
    }

    /// Whether weak tags are sent in `If-Match` as they are.
    pub const fn sends_as_is(&self) -> bool {
        self.send_as_is
    }
}

/// What to do after a read that had no strong ETag (and no version in the body).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WeakStep {
    /// Wait this long, then read again.
    Reread(Duration),
    /// Write with this header.
    Send(Header),
    /// Nothing safe is left: stop (or, without any ETag, let the missing-ETag rules decide).
    Refuse,
}

/// The decision after the read numbered `rereads_done` (0: the first), which had `etag` (weak
/// or none) and `last_modified`.
pub(crate) fn weak_step(
    policy: &WeakValidators,
    etag: Option<&EntityTag>,
    last_modified: Option<&HeaderValue>,
    rereads_done: u32,
) -> WeakStep {
    match etag {
        Some(tag) if policy.send_as_is => return WeakStep::Send(Header::IfMatch(tag.clone())),
        // A weak tag may turn strong (mod_dav); with no tag at all none is coming.
        Some(_) if rereads_done < policy.rereads => {
            return WeakStep::Reread(pause(policy, rereads_done))
        }
        _ => {}
    }
    match last_modified {
        Some(date) if policy.unmodified_since => {
            WeakStep::Send(Header::IfUnmodifiedSince(date.clone()))
        }
        _ => WeakStep::Refuse,
    }
}

/// The pause before re-read number `done + 1`: `within` split into doubling parts
/// (1, 2, 4, … of 2^n − 1); more than 16 re-reads are spread evenly instead. The pauses
/// always add up to `within` (give or take rounding).
fn pause(policy: &WeakValidators, done: u32) -> Duration {
    match policy.rereads {
        n @ 1..=16 => (policy.within / ((1u32 << n) - 1)) * (1u32 << done.min(n - 1)),
        n => policy.within / n.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> EntityTag {
        "W/\"a\"".parse().unwrap()
    }

    #[test]
    fn the_default_waits_250_500_1000_ms_then_refuses() {
        let policy = WeakValidators::default();
        let date = HeaderValue::from_static("Wed, 02 Dec 2026 07:00:00 GMT");
        let mut total = Duration::ZERO;
        for (done, ms) in [250, 500, 1000].into_iter().enumerate() {
            let want = Duration::from_millis(ms);
            assert_eq!(
                weak_step(&policy, Some(&weak()), Some(&date), done as u32),
                WeakStep::Reread(want)
            );
            total += want;
        }
        // The last read comes after Apache mod_dav's weak second, and the wait is bounded.
        assert!(total >= Duration::from_millis(1500), "{total:?}");
        assert_eq!(total, WeakValidators::DEFAULT_WITHIN);
        assert_eq!(
            weak_step(&policy, Some(&weak()), Some(&date), 3),
            WeakStep::Refuse
        );
        assert_eq!(weak_step(&policy, None, Some(&date), 0), WeakStep::Refuse);
    }

    #[test]
    fn unmodified_since_only_when_allowed_and_after_waiting() {
        let policy = WeakValidators::wait(1, Duration::from_secs(1)).or_unmodified_since(true);
        let date = HeaderValue::from_static("Wed, 02 Dec 2026 07:00:00 GMT");
        assert_eq!(
            weak_step(&policy, Some(&weak()), Some(&date), 0),
            WeakStep::Reread(Duration::from_secs(1))
        );
        assert_eq!(
            weak_step(&policy, Some(&weak()), Some(&date), 1),
            WeakStep::Send(Header::IfUnmodifiedSince(date.clone()))
        );
        // No tag at all: no point waiting for one.
        assert_eq!(
            weak_step(&policy, None, Some(&date), 0),
            WeakStep::Send(Header::IfUnmodifiedSince(date))
        );
        assert_eq!(weak_step(&policy, Some(&weak()), None, 1), WeakStep::Refuse);
    }

    #[test]
    fn many_rereads_stay_within_their_bound() {
        for n in [1, 2, 16, 17, 40] {
            let policy = WeakValidators::wait(n, Duration::from_secs(4));
            let total: Duration = (0..n).map(|done| pause(&policy, done)).sum();
            assert!(total <= Duration::from_secs(4), "{n}: {total:?}");
            assert!(total >= Duration::from_millis(3990), "{n}: {total:?}");
        }
    }

    #[test]
    fn send_as_is_sends_the_weak_tag_at_once() {
        let policy = WeakValidators::send_as_is();
        assert_eq!(
            weak_step(&policy, Some(&weak()), None, 0),
            WeakStep::Send(Header::IfMatch(weak()))
        );
        assert_eq!(weak_step(&policy, None, None, 0), WeakStep::Refuse);
        assert_eq!(
            weak_step(
                &WeakValidators::wait(0, Duration::ZERO),
                Some(&weak()),
                None,
                0
            ),
            WeakStep::Refuse
        );
    }
}
