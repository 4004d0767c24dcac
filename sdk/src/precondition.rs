//! Which precondition a write carries: the pure part of "automatic If-Match".

use http::Method;

use crate::{cache::CacheEntry, EntityTag};

/// What a PUT/PATCH/DELETE does when the client holds no strong ETag for the resource.
///
/// # Default
/// [`MissingEtagPolicy::FetchFirst`]: the only choice that is both safe and works on resources
/// the client has never read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissingEtagPolicy {
    /// GET the resource first to learn its ETag, then write with `If-Match`. A 404 turns a PUT
    /// into a create-only PUT (`If-None-Match: *`); PATCH and DELETE then fail with the 404.
    #[default]
    FetchFirst,
    /// Write with `If-None-Match: *`: succeeds only if the resource does not exist yet.
    CreateOnly,
    /// Write without any precondition (lossy under concurrency; an explicit opt-in).
    Unconditional,
}

/// The precondition header a write will carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// `If-Match: <strong etag>`.
    IfMatch(EntityTag),
    /// `If-None-Match: *`.
    IfNoneMatchAny,
    /// No precondition.
    None,
}

/// The plan before sending a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Send now with this precondition.
    Send(Precondition),
    /// Read the resource first, then [`after_fetch`].
    FetchFirst,
}

/// Decides from the cached entry. Weak tags are treated as absent: If-Match never matches them.
pub(crate) fn plan(cached: Option<&CacheEntry>, policy: MissingEtagPolicy) -> Plan {
    match cached.map(|e| &e.etag).filter(|tag| !tag.is_weak()) {
        Some(tag) => Plan::Send(Precondition::IfMatch(tag.clone())),
        None => match policy {
            MissingEtagPolicy::FetchFirst => Plan::FetchFirst,
            MissingEtagPolicy::CreateOnly => Plan::Send(Precondition::IfNoneMatchAny),
            MissingEtagPolicy::Unconditional => Plan::Send(Precondition::None),
        },
    }
}

/// What the fetch found, for [`after_fetch`].
#[derive(Debug)]
pub(crate) enum Fetched<'a> {
    /// 2xx with this ETag header (if any).
    Found(Option<&'a EntityTag>),
    /// 404 or 410.
    Missing,
}

/// Why a fetch-first write cannot be sent safely.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unsafe {
    /// The resource exists but has no strong ETag (`weak` says whether a weak one was sent).
    NoStrongEtag { weak: bool },
    /// The resource does not exist, and only PUT can create it.
    NotFound,
}

/// Decides after fetch-first.
pub(crate) fn after_fetch(method: &Method, fetched: Fetched<'_>) -> Result<Precondition, Unsafe> {
    match fetched {
        Fetched::Found(Some(tag)) if !tag.is_weak() => Ok(Precondition::IfMatch(tag.clone())),
        Fetched::Found(tag) => Err(Unsafe::NoStrongEtag {
            weak: tag.is_some(),
        }),
        Fetched::Missing if method == Method::PUT => Ok(Precondition::IfNoneMatchAny),
        Fetched::Missing => Err(Unsafe::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str) -> CacheEntry {
        CacheEntry {
            etag: tag.parse().unwrap(),
            body: None,
        }
    }

    #[test]
    fn cached_strong_etag_becomes_if_match_under_every_policy() {
        for policy in [
            MissingEtagPolicy::FetchFirst,
            MissingEtagPolicy::CreateOnly,
            MissingEtagPolicy::Unconditional,
        ] {
            assert_eq!(
                plan(Some(&entry("\"7\"")), policy),
                Plan::Send(Precondition::IfMatch(EntityTag::strong("7").unwrap()))
            );
        }
    }

    #[test]
    fn weak_etag_is_never_sent_in_if_match() {
        assert_eq!(
            plan(Some(&entry("W/\"7\"")), MissingEtagPolicy::FetchFirst),
            Plan::FetchFirst
        );
        assert_eq!(
            plan(Some(&entry("W/\"7\"")), MissingEtagPolicy::Unconditional),
            Plan::Send(Precondition::None)
        );
        let weak: EntityTag = "W/\"7\"".parse().unwrap();
        assert_eq!(
            after_fetch(&Method::PUT, Fetched::Found(Some(&weak))),
            Err(Unsafe::NoStrongEtag { weak: true })
        );
    }

    #[test]
    fn missing_etag_follows_the_policy() {
        assert_eq!(plan(None, MissingEtagPolicy::FetchFirst), Plan::FetchFirst);
        assert_eq!(
            plan(None, MissingEtagPolicy::CreateOnly),
            Plan::Send(Precondition::IfNoneMatchAny)
        );
        assert_eq!(
            plan(None, MissingEtagPolicy::Unconditional),
            Plan::Send(Precondition::None)
        );
        assert_eq!(MissingEtagPolicy::default(), MissingEtagPolicy::FetchFirst);
    }

    #[test]
    fn fetch_first_on_a_missing_resource_creates_only_with_put() {
        assert_eq!(
            after_fetch(&Method::PUT, Fetched::Missing),
            Ok(Precondition::IfNoneMatchAny)
        );
        assert_eq!(
            after_fetch(&Method::PATCH, Fetched::Missing),
            Err(Unsafe::NotFound)
        );
        assert_eq!(
            after_fetch(&Method::DELETE, Fetched::Missing),
            Err(Unsafe::NotFound)
        );
    }

    #[test]
    fn fetch_first_without_any_etag_is_unsafe() {
        assert_eq!(
            after_fetch(&Method::DELETE, Fetched::Found(None)),
            Err(Unsafe::NoStrongEtag { weak: false })
        );
    }
}
