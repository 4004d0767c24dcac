//! Kubernetes-, CouchDB- and GCS-shaped servers: the version lives in the
//! body, a header or the query, and the suite sends it back there.

use serde_json::json;

use super::support::emulator::{BodyVersion, Shape};
use super::support::{assert_only_broken, Fault};
use super::{assert_verdict, left_on, run, run_on, shape_of, CheckConfig, Verdict};

fn k8s(c: &mut CheckConfig) {
    c.shape = shape_of(json!({ "version": {
        "read": "body:/metadata/resourceVersion",
        "send": "body:/metadata/resourceVersion",
        "stale-status": [409] } }));
}

fn couch(send: &'static str) -> impl FnOnce(&mut CheckConfig) {
    move |c| {
        c.shape = shape_of(json!({ "version": {
            "read": "body:/_rev", "send": send, "stale-status": [409] } }));
    }
}

#[tokio::test]
async fn a_kubernetes_shaped_server_is_judged_by_the_version_in_the_body() {
    let shape = Shape {
        body_version: Some(BodyVersion::Kubernetes),
        ..Shape::default()
    };
    let report = run(shape, &[], k8s).await;
    // It sends no ETag at all: a SHOULD rule about the 201's ETag warns, truly.
    assert_only_broken(&report, &["core.create.etag"]);
    assert_verdict(
        &report,
        "core.etag.strong-on-get",
        Verdict::Pass,
        "body:/metadata/resourceVersion",
    );
    for id in [
        "core.if-match.stale-put",
        "core.if-match.stale-patch",
        "core.if-match.stale-delete",
        "core.if-match.honoured",
    ] {
        assert_verdict(&report, id, Verdict::NonStrict, "refused with 409");
    }
    assert_verdict(
        &report,
        "core.if-match.weak-refused",
        Verdict::Skip,
        "not applicable",
    );
    assert_verdict(
        &report,
        "core.if-none-match.not-modified",
        Verdict::Skip,
        "not applicable",
    );
    assert_verdict(
        &report,
        "core.concurrency.single-winner",
        Verdict::Pass,
        "never lost",
    );
}

#[tokio::test]
async fn json_patch_is_sent_when_declared_and_merge_semantics_skip() {
    let shape = Shape {
        body_version: Some(BodyVersion::Kubernetes),
        json_patch: true,
        ..Shape::default()
    };
    let report = run(shape, &[], |c| {
        k8s(c);
        c.shape.body.patch = ifmatch_conformance::target::PatchFormat::JsonPatch;
    })
    .await;
    assert_only_broken(&report, &["core.create.etag"]);
    assert_verdict(
        &report,
        "core.if-match.current-patch",
        Verdict::Pass,
        "stored",
    );
    assert_verdict(
        &report,
        "core.if-match.stale-patch",
        Verdict::NonStrict,
        "409",
    );
    assert_verdict(
        &report,
        "core.patch.merge-semantics",
        Verdict::Skip,
        "json-patch",
    );
}

#[tokio::test]
async fn without_patch_the_patch_rules_skip_saying_so() {
    let report = run(Shape::default(), &[], |c| {
        c.shape.body.patch = ifmatch_conformance::target::PatchFormat::None;
    })
    .await;
    assert_only_broken(&report, &[]);
    for id in [
        "core.if-match.current-patch",
        "core.if-match.stale-patch",
        "core.etag.changes-on-patch",
    ] {
        assert_verdict(&report, id, Verdict::Skip, "[body] patch = \"none\"");
    }
    // The declared reason comes first, before any other that stale-patch could meet.
    let unchanged = run(Shape::default(), &[Fault::EtagUnchangedOnPut], |c| {
        c.shape.body.patch = ifmatch_conformance::target::PatchFormat::None;
        c.rule_patterns = vec!["core.if-match.stale-patch".into()];
    })
    .await;
    assert_verdict(
        &unchanged,
        "core.if-match.stale-patch",
        Verdict::Skip,
        "[body] patch = \"none\"",
    );
}

#[tokio::test]
async fn a_couchdb_shaped_server_is_judged_with_rev_in_the_query_or_the_body() {
    for send in ["query:rev", "body:/_rev"] {
        let shape = Shape {
            body_version: Some(BodyVersion::CouchDb),
            ..Shape::default()
        };
        let (report, server) = run_on(shape, &[], couch(send)).await;
        assert_only_broken(&report, &[]);
        for id in [
            "core.if-match.stale-put",
            "core.if-match.stale-delete",
            "core.if-match.honoured",
        ] {
            assert_verdict(&report, id, Verdict::NonStrict, "refused with 409");
        }
        assert_verdict(
            &report,
            "core.if-match.current-delete",
            Verdict::Pass,
            "404",
        );
        // Every rule that sends an If-Match tag of its own is skipped alike (interop L7).
        for id in [
            "core.precondition.missing-412-no-etag",
            "core.precondition.missing-put-412",
            "core.if-match.star-missing",
        ] {
            assert_verdict(
                &report,
                id,
                Verdict::Skip,
                "not applicable: writes carry the version in",
            );
        }
        // CouchDB refuses `DELETE` with `If-Match: *`; cleanup sent the current `rev`.
        assert_eq!(left_on(&server).await, json!([]), "cleanup with {send}");
    }
}

#[tokio::test]
async fn a_body_version_server_accepting_stale_versions_fails() {
    let shape = Shape {
        body_version: Some(BodyVersion::Kubernetes),
        ..Shape::default()
    };
    let report = run(shape, &[Fault::StalePutAccepted], k8s).await;
    assert_only_broken(
        &report,
        &[
            "core.create.etag",
            "core.if-match.honoured",
            "core.if-match.stale-put",
            "core.concurrency.single-winner",
            "core.concurrency.no-lost-update",
        ],
    );
    assert_verdict(
        &report,
        "core.if-match.stale-put",
        Verdict::Fail,
        "answered 200",
    );
}

#[tokio::test]
async fn a_gcs_shaped_server_is_judged_by_a_header_version_sent_in_the_query() {
    let shape = Shape {
        body_version: Some(BodyVersion::Generation),
        ..Shape::default()
    };
    let (report, server) = run_on(shape.clone(), &[], |c| {
        c.shape = shape_of(json!({ "version": {
            "read": "header:x-goog-generation", "send": "query:ifGenerationMatch" } }));
    })
    .await;
    assert_only_broken(&report, &[]);
    for id in [
        "core.if-match.stale-put",
        "core.if-match.stale-delete",
        "core.if-match.honoured",
    ] {
        assert_verdict(&report, id, Verdict::Pass, "?ifGenerationMatch=");
    }
    assert_verdict(
        &report,
        "core.if-match.weak-refused",
        Verdict::Skip,
        "not applicable",
    );
    assert_eq!(left_on(&server).await, json!([]), "cleanup");
    // A server that ignores the generation sent is caught the same way.
    let ignoring = run(shape, &[Fault::StaleDeleteAccepted], |c| {
        c.shape = shape_of(json!({ "version": {
            "read": "header:x-goog-generation", "send": "query:ifGenerationMatch" } }));
    })
    .await;
    assert_only_broken(&ignoring, &["core.if-match.stale-delete"]);
}
