//! Which precondition a write carries: the version the caller's document came from.
//!
//! A write is conditional on what its caller read, never on what the shared cache holds now:
//! another task sharing the client may have refreshed the cache since, and writing with that
//! newer ETag would silently overwrite the other task's change (the lost update).

use crate::{EntityTag, Version, Versioned};

/// What `update()` does when the server gives no strong ETag for the resource it read, or the
/// resource does not exist.
///
/// # Default
/// [`MissingEtagPolicy::FetchFirst`]: fail rather than write without a version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissingEtagPolicy {
    /// Read first (as `update()` always does); without a strong ETag fail with
    /// [`crate::Error::MissingEtag`], and a missing resource fails with its 404.
    #[default]
    FetchFirst,
    /// Like `FetchFirst`, but a missing resource is created with `If-None-Match: *` (succeeds
    /// only if nobody created it meanwhile).
    CreateOnly,
    /// Write without any precondition when the server gives no strong ETag (lossy under
    /// concurrency; an explicit opt-in).
    Unconditional,
}

/// The version a `put`, `patch` or `delete` is conditional on. Every write names one.
///
/// Build it from what you read (`&Versioned<T>` converts, so `client.put(path, &doc, &read)`
/// is conditional on `read`'s ETag), from an [`EntityTag`] you kept, or choose explicitly to
/// create only or to write unconditionally. The client never fills it in from its cache.
///
/// ```
/// use ifmatch::{EntityTag, Precondition};
///
/// let tag = EntityTag::strong("v7")?;
/// assert_eq!(Precondition::from(&tag).if_match(), Some(&tag));
/// assert_eq!(Precondition::create_only().to_string(), "If-None-Match: *");
/// assert_eq!(Precondition::unconditional().to_string(), "no precondition");
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Precondition(pub(crate) Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `If-Match: <tag>`. A weak tag is refused locally: If-Match never matches one.
    IfMatch(EntityTag),
    /// A read that also named its version (a `Version` header, a version field in the body):
    /// `If-Match` with the tag as above, and with a version field the version in the body.
    Versioned {
        etag: Option<EntityTag>,
        version: Version,
    },
    /// A value read without any ETag: nothing to be conditional on, so the write is refused locally.
    Unversioned,
    /// `If-None-Match: *`.
    CreateOnly,
    /// No precondition.
    None,
}

impl Precondition {
    /// `If-Match: <tag>`: write only if the resource is still at this version.
    pub fn matching(tag: EntityTag) -> Self {
        Self(Kind::IfMatch(tag))
    }

    /// `If-None-Match: *`: create the resource, never overwrite an existing one.
    pub const fn create_only() -> Self {
        Self(Kind::CreateOnly)
    }

    /// No precondition: the write replaces whatever is there (last write wins). Lossy under
    /// concurrency; use it only where losing a concurrent change is acceptable.
    pub const fn unconditional() -> Self {
        Self(Kind::None)
    }

    /// The version `v`, for a server that keeps the version in the body
    /// ([`crate::ClientBuilder::version_field`]): writes put `v` there. (Without a version field
    /// there is no ETag to send, so a write with it is refused with
    /// [`crate::Error::MissingEtag`] before anything is sent.)
    pub fn at_version(v: impl Into<Version>) -> Self {
        Self(Kind::Versioned {
            etag: None,
            version: v.into(),
        })
    }

    /// The tag sent in `If-Match`, if this precondition sends one.
    pub fn if_match(&self) -> Option<&EntityTag> {
        match &self.0 {
            Kind::IfMatch(tag) => Some(tag),
            Kind::Versioned { etag, .. } => etag.as_ref(),
            _ => None,
        }
    }

    /// The version a write based on it puts in the body (with a version field), if known.
    pub fn version(&self) -> Option<&Version> {
        match &self.0 {
            Kind::Versioned { version, .. } => Some(version),
            _ => None,
        }
    }
}

impl std::fmt::Display for Precondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::IfMatch(tag) => write!(f, "If-Match: {tag}"),
            Kind::Versioned {
                etag: Some(tag),
                version,
            } => write!(f, "If-Match: {tag} (version {version})"),
            Kind::Versioned {
                etag: None,
                version,
            } => write!(f, "version {version}"),
            Kind::Unversioned => f.write_str("no known version"),
            Kind::CreateOnly => f.write_str("If-None-Match: *"),
            Kind::None => f.write_str("no precondition"),
        }
    }
}

impl From<EntityTag> for Precondition {
    fn from(tag: EntityTag) -> Self {
        Self::matching(tag)
    }
}

impl From<&EntityTag> for Precondition {
    fn from(tag: &EntityTag) -> Self {
        Self::matching(tag.clone())
    }
}

/// `Some(tag)`: `If-Match` with it; `None` (a version that was never known, e.g. the `etag` of
/// a read that had none): the write is refused with [`crate::Error::MissingEtag`] before
/// anything is sent.
impl From<Option<EntityTag>> for Precondition {
    fn from(tag: Option<EntityTag>) -> Self {
        tag.map_or(Self(Kind::Unversioned), Self::matching)
    }
}

impl From<Option<&EntityTag>> for Precondition {
    fn from(tag: Option<&EntityTag>) -> Self {
        tag.cloned().into()
    }
}

impl From<&Precondition> for Precondition {
    fn from(precondition: &Precondition) -> Self {
        precondition.clone()
    }
}

/// The version the value was read (or written) at: `If-Match` with its ETag. A value that came
/// without an ETag converts too, and the write is then refused with [`crate::Error::MissingEtag`]
/// before anything is sent.
impl<T> From<&Versioned<T>> for Precondition {
    fn from(read: &Versioned<T>) -> Self {
        match &read.version {
            Some(version) => Self(Kind::Versioned {
                etag: read.etag.clone(),
                version: version.clone(),
            }),
            None => read.etag.as_ref().into(),
        }
    }
}

impl From<Version> for Precondition {
    fn from(version: Version) -> Self {
        Self::at_version(version)
    }
}

/// The header a write sends, once the precondition is known to be usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// `If-Match: <strong etag>`.
    IfMatch(EntityTag),
    /// `If-None-Match: *`.
    IfNoneMatchAny,
    /// `If-Unmodified-Since: <Last-Modified of the read>` (a weak-validator fallback, which
    /// only `update()` chooses; see [`crate::WeakValidators`]).
    IfUnmodifiedSince(http::HeaderValue),
    /// No precondition.
    None,
}

/// Why a precondition cannot be sent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// No ETag at all, or only a weak one (`weak`), which If-Match never matches.
    NoStrongEtag { weak: bool },
}

/// The header for a caller's precondition, or why it cannot be used.
pub(crate) fn header_for(precondition: &Precondition) -> Result<Header, Unusable> {
    match &precondition.0 {
        Kind::IfMatch(tag)
        | Kind::Versioned {
            etag: Some(tag), ..
        } if tag.is_weak() => Err(Unusable::NoStrongEtag { weak: true }),
        Kind::IfMatch(tag)
        | Kind::Versioned {
            etag: Some(tag), ..
        } => Ok(Header::IfMatch(tag.clone())),
        Kind::Versioned { etag: None, .. } => Err(Unusable::NoStrongEtag { weak: false }),
        Kind::Unversioned => Err(Unusable::NoStrongEtag { weak: false }),
        Kind::CreateOnly => Ok(Header::IfNoneMatchAny),
        Kind::None => Ok(Header::None),
    }
}

/// What `update()` found when it read the resource.
#[derive(Debug)]
pub(crate) enum Read<'a> {
    /// 2xx with this ETag header (if any).
    Found(Option<&'a EntityTag>),
    /// 404 or 410.
    Missing,
}

/// Why `update()` cannot write safely after its read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unsafe {
    /// The resource exists but has no strong ETag (`weak` says whether a weak one was sent).
    NoStrongEtag { weak: bool },
    /// The resource does not exist and the policy does not create it.
    NotFound,
}

/// The header `update()` writes with after reading, per the client's [`MissingEtagPolicy`].
pub(crate) fn for_update(read: Read<'_>, policy: MissingEtagPolicy) -> Result<Header, Unsafe> {
    match read {
        Read::Found(Some(tag)) if !tag.is_weak() => Ok(Header::IfMatch(tag.clone())),
        Read::Found(_) if policy == MissingEtagPolicy::Unconditional => Ok(Header::None),
        Read::Found(tag) => Err(Unsafe::NoStrongEtag {
            weak: tag.is_some(),
        }),
        Read::Missing if policy == MissingEtagPolicy::CreateOnly => Ok(Header::IfNoneMatchAny),
        Read::Missing => Err(Unsafe::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str) -> EntityTag {
        text.parse().unwrap()
    }

    #[test]
    fn a_read_value_makes_the_write_conditional_on_its_own_etag() {
        let read = Versioned::new(1, Some(tag("\"7\"")));
        assert_eq!(
            header_for(&Precondition::from(&read)),
            Ok(Header::IfMatch(tag("\"7\"")))
        );
    }

    #[test]
    fn a_value_read_without_a_strong_etag_cannot_be_written_conditionally() {
        let unversioned = Versioned::new(1, None);
        assert_eq!(
            header_for(&Precondition::from(&unversioned)),
            Err(Unusable::NoStrongEtag { weak: false })
        );
        let weak = Versioned::new(1, Some(tag("W/\"7\"")));
        assert_eq!(
            header_for(&Precondition::from(&weak)),
            Err(Unusable::NoStrongEtag { weak: true })
        );
    }

    #[test]
    fn an_unknown_version_is_refused_like_a_read_without_etag() {
        assert_eq!(
            header_for(&Precondition::from(None::<EntityTag>)),
            Err(Unusable::NoStrongEtag { weak: false })
        );
        assert_eq!(
            header_for(&Precondition::from(Some(tag("\"3\"")))),
            Ok(Header::IfMatch(tag("\"3\"")))
        );
    }

    #[test]
    fn a_read_with_a_version_still_sends_only_its_etag_without_a_version_field() {
        let mut read = Versioned::new(1, Some(tag("\"7\"")));
        read.version = Some(Version::number(7));
        let precondition = Precondition::from(&read);
        assert_eq!(header_for(&precondition), Ok(Header::IfMatch(tag("\"7\""))));
        assert_eq!(precondition.version(), Some(&Version::number(7)));
        assert_eq!(precondition.to_string(), "If-Match: \"7\" (version 7)");
        let bare = Precondition::at_version("4711");
        assert_eq!(
            header_for(&bare),
            Err(Unusable::NoStrongEtag { weak: false })
        );
        assert_eq!(bare.to_string(), "version 4711");
        assert_eq!(bare.if_match(), None);
    }

    #[test]
    fn explicit_choices_send_what_they_say() {
        assert_eq!(
            header_for(&Precondition::create_only()),
            Ok(Header::IfNoneMatchAny)
        );
        assert_eq!(header_for(&Precondition::unconditional()), Ok(Header::None));
    }

    #[test]
    fn update_follows_the_policy_when_the_read_gives_no_strong_etag() {
        use MissingEtagPolicy::*;
        let strong = tag("\"1\"");
        let weak = tag("W/\"1\"");
        for policy in [FetchFirst, CreateOnly, Unconditional] {
            assert_eq!(
                for_update(Read::Found(Some(&strong)), policy),
                Ok(Header::IfMatch(strong.clone()))
            );
        }
        assert_eq!(
            for_update(Read::Found(Some(&weak)), FetchFirst),
            Err(Unsafe::NoStrongEtag { weak: true })
        );
        assert_eq!(
            for_update(Read::Found(None), CreateOnly),
            Err(Unsafe::NoStrongEtag { weak: false })
        );
        assert_eq!(
            for_update(Read::Found(Some(&weak)), Unconditional),
            Ok(Header::None)
        );
        assert_eq!(for_update(Read::Missing, FetchFirst), Err(Unsafe::NotFound));
        assert_eq!(
            for_update(Read::Missing, CreateOnly),
            Ok(Header::IfNoneMatchAny)
        );
        assert_eq!(
            for_update(Read::Missing, Unconditional),
            Err(Unsafe::NotFound)
        );
        assert_eq!(MissingEtagPolicy::default(), FetchFirst);
    }
}
