use super::*;

fn headers(values: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(API_VERSION, HeaderValue::from_str(value).unwrap());
    }
    headers
}

fn version(path: &str, values: &[&str]) -> Result<(ApiVersion, &'static str), ProblemKind> {
    select(path, &headers(values))
        .map(|api| (api.version, api.prefix))
        .map_err(|problem| problem.kind())
}

#[test]
fn prefixes_and_the_header_pick_the_version() {
    use ApiVersion::{V1, V2};
    assert_eq!(version("/items", &[]), Ok((V1, "")));
    assert_eq!(version("/items/a", &["2"]), Ok((V2, "")));
    assert_eq!(version("/items/a", &[" 1 "]), Ok((V1, "")));
    assert_eq!(version("/v1/items/a", &[]), Ok((V1, "/v1")));
    assert_eq!(version("/v2/items", &[]), Ok((V2, "/v2")));
    assert_eq!(version("/v2/items", &["2", "2"]), Ok((V2, "/v2")));
}

#[test]
fn unknown_or_disagreeing_versions_are_400_naming_the_supported_ones() {
    for (path, values) in [
        ("/items", &["3"][..]),
        ("/items", &["v2"]),
        ("/items", &[""]),
        ("/items", &["1", "2"]),
        ("/v1/items", &["2"]),
        ("/v2/items/a", &["1"]),
    ] {
        let problem = select(path, &headers(values)).unwrap_err();
        assert_eq!(
            problem.kind(),
            ProblemKind::UnsupportedApiVersion,
            "{path} {values:?}"
        );
        assert_eq!(
            problem.body_value()["supported"],
            serde_json::json!(["1", "2"])
        );
    }
}

#[test]
fn unknown_prefixes_before_items_are_404() {
    for path in ["/v3/items", "/v0/items/a", "/vx/items/a/versions"] {
        let problem = unknown_prefix(path).expect(path);
        assert_eq!(problem.kind(), ProblemKind::UnknownApiVersionPrefix);
        assert_eq!(problem.kind().status(), 404);
    }
    for path in [
        "/v2/items",
        "/v1/items/a",
        "/items",
        "/v3/other",
        "/v/items",
        "/video",
    ] {
        assert!(unknown_prefix(path).is_none(), "{path}");
    }
}

#[test]
fn the_unprefixed_path_drops_only_a_known_prefix() {
    assert_eq!(unprefixed("/v2/items/a"), "/items/a");
    assert_eq!(unprefixed("/v1/items"), "/items");
    assert_eq!(unprefixed("/items/v2"), "/items/v2");
    assert_eq!(unprefixed("/v2items"), "/v2items");
}

#[test]
fn a_sunset_must_come_after_the_deprecation() {
    let at = Timestamp::from_unix_seconds;
    let retirement = |deprecation, sunset| {
        Retirement {
            deprecation,
            sunset,
        }
        .checked()
    };
    assert!(retirement(Some(at(10)), Some(at(11))).is_ok());
    assert!(retirement(Some(at(10)), None).is_ok());
    assert!(retirement(None, Some(at(1))).is_ok());
    let err = retirement(Some(at(10)), Some(at(10)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--v1-deprecation"), "{err}");
}

#[test]
fn v1_answers_announce_deprecation_sunset_and_successor() {
    let retirement = Retirement {
        deprecation: Some(DEFAULT_V1_DEPRECATION),
        sunset: Some(DEFAULT_V1_SUNSET),
    };
    let mut headers = HeaderMap::new();
    retirement.announce(&mut headers, "/v1/items/a%20b");
    assert_eq!(headers["deprecation"], "@1780272000");
    assert_eq!(headers["sunset"], "Tue, 01 Jun 2027 00:00:00 GMT");
    assert_eq!(
        headers[header::LINK],
        "</v2/items/a%20b>; rel=\"successor-version\""
    );
    let mut silent = HeaderMap::new();
    Retirement {
        deprecation: None,
        sunset: Some(DEFAULT_V1_SUNSET),
    }
    .announce(&mut silent, "/items");
    assert!(silent.is_empty());
}
