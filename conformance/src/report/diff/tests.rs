use super::*;
use serde_json::json;

fn changes(entries: &[DiffEntry]) -> Vec<(&str, Change)> {
    entries
        .iter()
        .map(|e| (e.pointer.as_str(), e.change))
        .collect()
}

#[test]
fn identical_documents_are_all_same() {
    let doc = json!({"a": 1, "b": "x"});
    let entries = diff(&doc, &doc, Mode::Replace);
    assert_eq!(
        changes(&entries),
        [("/a", Change::Same), ("/b", Change::Same)]
    );
    assert!(!has_differences(&entries));
}

#[test]
fn changed_missing_and_added_members_are_told_apart() {
    let entries = diff(
        &json!({"title": "a", "tags": ["x"], "n": 1}),
        &json!({"title": "b", "n": 1, "id": 7, "updated_at": "t"}),
        Mode::Replace,
    );
    assert_eq!(
        changes(&entries),
        [
            ("/n", Change::Same),
            ("/tags", Change::Missing),
            ("/title", Change::Changed),
            ("/id", Change::Added),
            ("/updated_at", Change::Added),
        ]
    );
    assert_eq!(entries[2].sent, Some(json!("a")));
    assert_eq!(entries[2].stored, Some(json!("b")));
    assert_eq!(entries[1].stored, None);
    assert!(has_differences(&entries));
}

#[test]
fn added_members_alone_are_not_differences() {
    let entries = diff(&json!({"a": 1}), &json!({"a": 1, "id": 3}), Mode::Replace);
    assert!(!has_differences(&entries));
}

#[test]
fn nested_objects_are_compared_member_by_member() {
    let entries = diff(
        &json!({"meta": {"owner": "me", "size": 2}}),
        &json!({"meta": {"owner": "you", "size": 2, "rev": "1-a"}}),
        Mode::Replace,
    );
    assert_eq!(
        changes(&entries),
        [
            ("/meta/owner", Change::Changed),
            ("/meta/size", Change::Same),
            ("/meta/rev", Change::Added),
        ]
    );
}

#[test]
fn arrays_are_compared_whole() {
    let entries = diff(&json!({"l": [1, 2]}), &json!({"l": [2, 1]}), Mode::Replace);
    assert_eq!(changes(&entries), [("/l", Change::Changed)]);
}

#[test]
fn pointer_segments_are_escaped() {
    let entries = diff(&json!({"a/b": 1, "c~d": 2}), &json!({}), Mode::Replace);
    assert_eq!(
        changes(&entries),
        [("/a~1b", Change::Missing), ("/c~0d", Change::Missing)]
    );
}

#[test]
fn merge_patch_nulls_must_remove_and_untouched_members_are_not_listed() {
    let entries = diff(
        &json!({"gone": null, "kept": null, "n": 2}),
        &json!({"kept": 1, "n": 2, "other": true}),
        Mode::MergePatch,
    );
    assert_eq!(
        changes(&entries),
        [
            ("/gone", Change::Same),
            ("/kept", Change::NotRemoved),
            ("/n", Change::Same),
        ]
    );
}

#[test]
fn non_object_documents_compare_whole() {
    assert_eq!(
        changes(&diff(&json!([1]), &json!({"a": 1}), Mode::Replace)),
        [("", Change::Changed)]
    );
}

#[test]
fn lines_name_each_difference_then_the_members_stored_as_sent() {
    let entries = diff(
        &json!({"a": 1, "b": "x", "c": true}),
        &json!({"a": 2, "b": "x", "id": 7}),
        Mode::Replace,
    );
    assert_eq!(
        lines(&entries),
        [
            "/a: sent 1, stored 2",
            "/c: sent true, not stored",
            "/id: 7, added by the server (allowed)",
            "stored as sent: /b",
        ]
    );
}

#[test]
fn declared_members_are_marked_not_compared() {
    let mut entries = diff(
        &json!({"metadata": {"resourceVersion": "5", "name": "a"}, "t": 1, "u": 2}),
        &json!({"metadata": {"resourceVersion": "6", "name": "b"}, "t": 9, "id": 3}),
        Mode::Replace,
    );
    mark_ignored(
        &mut entries,
        &["/metadata/resourceVersion".into(), "/t".into(), "/i".into()],
    );
    assert_eq!(
        changes(&entries),
        [
            ("/metadata/name", Change::Changed),
            ("/metadata/resourceVersion", Change::Ignored),
            ("/t", Change::Ignored),
            ("/u", Change::Missing),
            ("/id", Change::Added),
        ]
    );
    mark_ignored(&mut entries, &["/metadata".into(), "/u".into()]);
    assert!(!has_differences(&entries));
    assert_eq!(
        lines(&entries)[0],
        "/metadata/name: sent \"a\", stored \"b\", not compared ([body] ignore or the version member)"
    );
}

#[test]
fn bodies_that_are_not_json_have_no_diff() {
    assert!(diff_bodies("not json", None, "{}").is_none());
    assert!(diff_bodies("{}", None, "<html>").is_none());
    let patch = diff_bodies(
        "{\"a\":null}",
        Some("application/merge-patch+json; charset=utf-8"),
        "{\"a\":1}",
    )
    .unwrap();
    assert_eq!(changes(&patch), [("/a", Change::NotRemoved)]);
}
