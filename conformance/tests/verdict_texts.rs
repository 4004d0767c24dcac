//! The verdict texts of the rules `tests/lists.rs` proves (tag lists, missing
//! resources, PUT-creation, invented ids, refusal ETags, malformed bodies, error
//! bodies) on the emulated servers that break them, as a report shows them.

mod support;

use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::verdict::Verdict;
use support::{check, config, emulated, fault_options, Fault};
/// Read the snapshot to see what a user is told.
#[tokio::test]
async fn verdict_texts() {
    let rules = [
        "core.create.etag",
        "core.if-none-match.star-creates",
        "core.if-match.star-missing",
        "core.precondition.missing-put-412",
        "core.precondition.not-found-wins",
        "core.precondition.missing-412-no-etag",
        "core.conflict.current-etag",
        "core.bad-input.malformed-json",
        "core.if-none-match.weak-comparison",
        "core.if-none-match.list",
        "core.if-match.list",
        "errors.problem.media-type",
    ];
    let faults = [
        Fault::WeakEtags,
        Fault::PutCannotCreate,
        Fault::InvalidIdRejected,
        Fault::EtagOn412ForMissing,
        Fault::ConflictEtagHashesBody,
        Fault::MalformedJson422,
        Fault::WeakIfNoneMatchIgnored,
        Fault::IfNoneMatchListIgnored,
        Fault::IfMatchListRefused,
        Fault::JsonErrorBodies,
    ];
    let mut out = String::new();
    for fault in faults {
        let server = emulated({
            let mut o = fault_options(None);
            o.faults = vec![fault];
            o
        })
        .await;
        // One rule at a time: the emulated server numbers its tags by request, so rules run
        // concurrently would make the numbers in the messages vary from run to run.
        let mut cfg = config(&server.uri(), &[Profile::Core, Profile::Errors], 412);
        cfg.parallel_rules = 1;
        let report = check(&cfg).await;
        out.push_str(&format!("{fault:?}\n"));
        for o in report
            .outcomes
            .iter()
            .filter(|o| rules.contains(&o.id.as_str()) && !matches!(o.verdict, Verdict::Pass))
        {
            let message = support::stable(&o.message, &server.uri());
            out.push_str(&format!(
                "  {:<5} {}: {message}\n",
                o.verdict.as_str(),
                o.id
            ));
        }
    }
    insta::assert_snapshot!(out);
}
