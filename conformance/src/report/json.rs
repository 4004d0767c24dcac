//! The JSON report; its schema is documented in docs/conformance.md.

use serde_json::{json, Value};

use super::Report;

/// Version of the JSON report schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Renders the report as pretty-printed JSON.
pub fn render_json(report: &Report) -> String {
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(v, n)| (v.as_str().to_owned(), Value::from(n)))
        .collect();
    let value = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "ifmatch-conformance",
        "tool_version": report.tool_version,
        "target": report.target,
        "collection": report.collection,
        "profiles": report.profiles,
        "mismatch_status": report.mismatch_status,
        "passed": report.exit_code() == 0,
        "exit_code": report.exit_code(),
        "failure_reasons": report.failure_reasons(),
        "headline": report.headline(),
        "not_run": report.not_run().iter().map(|g| json!({
            "prerequisite": g.prerequisite,
            "verdict": g.verdict,
            "rules": g.rules,
            "sentence": g.sentence(),
        })).collect::<Vec<_>>(),
        "fail_on_skipped": report.fail_on_skipped,
        "duration_ms": report.duration_ms(),
        "elapsed_ms": report.elapsed_ms,
        "counts": counts,
        "rules": report.outcomes,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a report always serialises");
    text.push('\n');
    text
}
