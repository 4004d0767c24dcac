//! The target shape's defaults, string forms and validation.

use super::*;

#[test]
fn defaults_describe_the_reference_server() {
    let s = TargetShape::default();
    assert_eq!(s.create.method, CreateMethod::Post);
    assert_eq!(s.create.location, LocationFrom::Header);
    assert_eq!(s.item_url("http://h/items", "7"), "http://h/items/7");
    assert_eq!(s.version.stale_statuses, vec![412]);
    assert!(s.uses_etags());
    assert_eq!(s.body.patch, PatchFormat::Merge);
    assert_eq!(s.body.malformed_statuses, vec![400]);
    assert_eq!(s.errors.format, ErrorFormat::ProblemJson);
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn forms_parse_and_print_back() {
    for s in ["etag", "body:/metadata/resourceVersion", "header:x-version"] {
        assert_eq!(s.parse::<VersionSource>().unwrap().to_string(), s);
    }
    for s in ["if-match", "body:/_rev", "query:ifGenerationMatch"] {
        assert_eq!(s.parse::<VersionSend>().unwrap().to_string(), s);
    }
    for s in ["header", "template", "body:/id"] {
        assert_eq!(s.parse::<LocationFrom>().unwrap().to_string(), s);
    }
    let err = "query:".parse::<VersionSend>().unwrap_err();
    assert!(err.contains("query:rev"), "{err}");
    assert!("body".parse::<VersionSource>().is_err());
}

#[test]
fn trailing_slashes_are_kept() {
    let mut s = TargetShape::default();
    s.create.url = "{collection}{id}".into();
    assert_eq!(s.item_url("http://h/dav/", "a"), "http://h/dav/a");
}

#[test]
fn impossible_combinations_name_the_fix() {
    let mut s = TargetShape::default();
    s.create.location = LocationFrom::Template;
    assert!(s.validate().unwrap_err().contains("method = \"put\""));
    let mut s = TargetShape::default();
    s.version.stale_statuses = vec![400];
    assert!(s.validate().unwrap_err().contains("412, 409"));
    let mut s = TargetShape::default();
    s.body.ignore = vec!["id".into()];
    assert!(s.validate().unwrap_err().contains("leading slash"));
}

#[test]
fn deserialises_from_json_like_values() {
    let s: TargetShape = serde_json::from_value(serde_json::json!({
        "create": { "method": "put", "url": "{collection}{id}", "location": "template" },
        "version": { "read": "body:/_rev", "send": "query:rev", "stale-status": [409] },
        "body": { "fixture": { "title": "t" }, "ignore": ["/id"], "patch": "json-patch",
                  "malformed-status": [400, 422], "missing-id": "999" },
        "errors": { "format": "json" }
    }))
    .unwrap();
    assert_eq!(s.create.method, CreateMethod::Put);
    assert_eq!(s.version.send, VersionSend::Query("rev".into()));
    assert_eq!(s.body.patch, PatchFormat::JsonPatch);
    assert_eq!(s.errors.format, ErrorFormat::Json);
    assert_eq!(s.validate(), Ok(()));
    let bad =
        serde_json::from_value::<TargetShape>(serde_json::json!({ "create": { "metod": "put" } }));
    assert!(bad.unwrap_err().to_string().contains("metod"));
}
