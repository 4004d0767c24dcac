//! What a write sends to a server that keeps the version in the body: the header, and the
//! version that goes into the body. Pure decisions, tested row by row.

use serde_json::Value;

use super::{Version, VersionField};
use crate::{
    precondition::{for_update, header_for, Header, Kind, Read, Unusable},
    EntityTag, MissingEtagPolicy, Precondition,
};

/// Why a write cannot be made conditional.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// There is no version to put in the body.
    NoVersion,
    /// There is no strong ETag for `If-Match` (a body-less DELETE, or `If-Match` asked for).
    NoStrongEtag { weak: bool },
}

/// What one write sends: the precondition header, and the version to put in the body.
pub(crate) type Conditions = (Header, Option<Version>);

fn strong(etag: Option<&EntityTag>) -> Option<EntityTag> {
    etag.filter(|tag| !tag.is_weak()).cloned()
}

/// A `put`/`patch`/`request` (`has_body`) or `delete` with the caller's precondition.
///
/// | precondition | body only | with `If-Match` |
/// |---|---|---|
/// | a read with a version (`&read`), [`Precondition::at_version`] | version in the body | and `If-Match` when the read had a strong ETag |
/// | an ETag alone | refused (`NoVersion`) | `If-Match` only |
/// | nothing known | refused (`NoVersion`) | refused |
/// | create-only, unconditional | as without a version field | |
///
/// A body-less write (DELETE) carries the version only in query mode
/// ([`VersionField::sent_in_query`]); otherwise it follows the ETag rules.
pub(crate) fn for_write(
    field: &VersionField,
    has_body: bool,
    precondition: &Precondition,
) -> Result<Conditions, Refused> {
    if !has_body && field.query_name().is_none() {
        return header_for(precondition)
            .map(|header| (header, None))
            .map_err(|Unusable::NoStrongEtag { weak }| Refused::NoStrongEtag { weak });
    }
    match &precondition.0 {
        Kind::Versioned { etag, version } => {
            let header = strong(etag.as_ref())
                .filter(|_| field.sends_if_match())
                .map_or(Header::None, Header::IfMatch);
            Ok((header, Some(version.clone())))
        }
        Kind::IfMatch(tag) if field.sends_if_match() => match tag.is_weak() {
            true => Err(Refused::NoStrongEtag { weak: true }),
            false => Ok((Header::IfMatch(tag.clone()), None)),
        },
        Kind::IfMatch(_) | Kind::Unversioned => Err(Refused::NoVersion),
        Kind::CreateOnly => Ok((Header::IfNoneMatchAny, None)),
        Kind::None => Ok((Header::None, None)),
    }
}

/// `update()`'s write based on `base` (read with `etag`): the version in `base` goes into the
/// body (and with `If-Match`, the strong ETag too). Without one, `If-Match` alone when that is
/// configured, else the [`MissingEtagPolicy`] decides as for a read without an ETag.
pub(crate) fn for_update_of(
    field: &VersionField,
    base: &Value,
    etag: Option<&EntityTag>,
    policy: MissingEtagPolicy,
) -> Result<Conditions, Refused> {
    if let Some(version) = field.read(base) {
        let header = strong(etag)
            .filter(|_| field.sends_if_match())
            .map_or(Header::None, Header::IfMatch);
        return Ok((header, Some(version)));
    }
    let etag = etag.filter(|_| field.sends_if_match());
    for_update(Read::Found(etag), policy)
        .map(|header| (header, None))
        .map_err(|_| Refused::NoVersion)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Versioned;
    use serde_json::json;

    fn tag(text: &str) -> EntityTag {
        text.parse().unwrap()
    }

    fn read(etag: Option<&str>, version: Option<Version>) -> Precondition {
        let mut read = Versioned::new((), etag.map(tag));
        read.version = version;
        Precondition::from(&read)
    }

    #[test]
    fn writes_follow_the_table() {
        let body_only = VersionField::at("/v");
        let both = VersionField::at("/v").with_if_match(true);
        let v7 = || Some(Version::number(7));
        let strong_read = read(Some("\"e7\""), v7());
        assert_eq!(
            for_write(&body_only, true, &strong_read),
            Ok((Header::None, v7()))
        );
        assert_eq!(
            for_write(&both, true, &strong_read),
            Ok((Header::IfMatch(tag("\"e7\"")), v7()))
        );
        let weak_read = read(Some("W/\"e7\""), v7());
        assert_eq!(for_write(&both, true, &weak_read), Ok((Header::None, v7())));
        let k8s = Precondition::at_version("4711");
        assert_eq!(
            for_write(&body_only, true, &k8s),
            Ok((Header::None, Some(Version::text("4711"))))
        );
        let etag_only = Precondition::matching(tag("\"e7\""));
        assert_eq!(
            for_write(&body_only, true, &etag_only),
            Err(Refused::NoVersion)
        );
        assert_eq!(
            for_write(&both, true, &etag_only),
            Ok((Header::IfMatch(tag("\"e7\"")), None))
        );
        let unversioned = read(None, None);
        assert_eq!(
            for_write(&both, true, &unversioned),
            Err(Refused::NoVersion)
        );
        for field in [&body_only, &both] {
            assert_eq!(
                for_write(field, true, &Precondition::create_only()),
                Ok((Header::IfNoneMatchAny, None))
            );
            assert_eq!(
                for_write(field, true, &Precondition::unconditional()),
                Ok((Header::None, None))
            );
        }
    }

    #[test]
    fn a_delete_in_query_mode_sends_the_version() {
        let couch = VersionField::at("/_rev").sent_in_query("rev");
        assert_eq!(
            for_write(&couch, false, &Precondition::at_version("1-a")),
            Ok((Header::None, Some(Version::text("1-a"))))
        );
    }

    #[test]
    fn a_delete_has_no_body_and_needs_its_etag() {
        let body_only = VersionField::at("/v");
        assert_eq!(
            for_write(
                &body_only,
                false,
                &read(Some("\"e7\""), Some(Version::number(7)))
            ),
            Ok((Header::IfMatch(tag("\"e7\"")), None))
        );
        assert_eq!(
            for_write(&body_only, false, &Precondition::at_version(7)),
            Err(Refused::NoStrongEtag { weak: false })
        );
    }

    #[test]
    fn updates_take_the_version_of_the_base() {
        use MissingEtagPolicy::*;
        let body_only = VersionField::at("/metadata/resourceVersion");
        let both = VersionField::at("/metadata/resourceVersion").with_if_match(true);
        let pod = json!({"metadata": {"resourceVersion": "9"}});
        let etag = tag("\"e9\"");
        assert_eq!(
            for_update_of(&body_only, &pod, Some(&etag), FetchFirst),
            Ok((Header::None, Some(Version::text("9"))))
        );
        assert_eq!(
            for_update_of(&both, &pod, Some(&etag), FetchFirst),
            Ok((Header::IfMatch(etag.clone()), Some(Version::text("9"))))
        );
        let bare = json!({"spec": 1});
        assert_eq!(
            for_update_of(&body_only, &bare, Some(&etag), FetchFirst),
            Err(Refused::NoVersion)
        );
        assert_eq!(
            for_update_of(&both, &bare, Some(&etag), FetchFirst),
            Ok((Header::IfMatch(etag), None))
        );
        assert_eq!(
            for_update_of(&body_only, &bare, None, Unconditional),
            Ok((Header::None, None))
        );
    }
}
