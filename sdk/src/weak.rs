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
/// [`WeakValidators::within`], until the server offers a strong tag (Apache `mod_dav` sends a
/// weak one for the second after a write, then a strong one); (b) if it is still weak and the
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
/// Re-read 3 times ([`WeakValidators::DEFAULT_REREADS`]) within 2 s
/// ([`WeakValidators::DEFAULT_WITHIN`]), never `If-Unmodified-Since`, never send the weak tag.
///
/// ```
/// use std::time::Duration;
/// use ifmatch::{Client, WeakValidators};
///
/// assert_eq!(WeakValidators::default().rereads(), 3);
/// assert_eq!(WeakValidators::default().within(), Duration::from_secs(2));
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
    /// How long the default policy's reads are spread over.
    pub const DEFAULT_WITHIN: Duration = Duration::from_secs(2);

    /// Read again up to `rereads` times, evenly spread over `within`, for a strong tag; then
    /// stop with `weak_validator` (unless [`WeakValidators::or_unmodified_since`]).
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
            return WeakStep::Reread(policy.within / policy.rereads)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> EntityTag {
        "W/\"a\"".parse().unwrap()
    }

    #[test]
    fn the_default_waits_three_reads_over_two_seconds_then_refuses() {
        let policy = WeakValidators::default();
        let date = HeaderValue::from_static("Wed, 02 Dec 2026 07:00:00 GMT");
        let pause = Duration::from_secs(2) / 3;
        for done in 0..3 {
            assert_eq!(
                weak_step(&policy, Some(&weak()), Some(&date), done),
                WeakStep::Reread(pause)
            );
        }
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
