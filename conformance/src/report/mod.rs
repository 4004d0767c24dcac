//! The outcome of a run and its renderings: text, JSON, JUnit XML, HTML.

pub mod diff;
mod evidence;
pub mod hints;
mod html;
mod json;
mod junit;
mod summary;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

pub use evidence::WriteEvidence;
pub use hints::Hint;
pub use html::render_html;
pub use json::render_json;
pub use junit::render_junit;
pub use summary::{NotRun, IGNORES_IF_MATCH_RULE};
pub use text::render_text;

use crate::http::{RecordedRequest, EXCERPT_LIMIT};
use crate::rules::{Level, Profile};
use crate::verdict::Verdict;

/// What a failed (or warned) rule saw, with a way to reproduce it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// What a conforming server does.
    pub expectation: String,
    /// What this server did.
    pub observed: String,
    /// The request that showed it (secrets redacted).
    pub request: Option<RecordedRequest>,
    /// The response status.
    pub response_status: Option<u16>,
    /// Response headers.
    #[serde(serialize_with = "crate::http::serialize_headers")]
    pub response_headers: Vec<(String, String)>,
    /// The first bytes of the response body.
    pub response_excerpt: Option<String>,
    /// A `curl` command that sends the same request.
    pub curl: Option<String>,
    /// The write that broke the rule, when the exchange above is the read that
    /// showed it afterwards.
    pub write: Option<WriteEvidence>,
    /// The write's JSON body against the re-read's, member by member (when both
    /// are JSON).
    pub diff: Option<Vec<diff::DiffEntry>>,
}

/// The judgement of one rule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// Stable rule ID.
    pub id: String,
    /// MUST, SHOULD or INFO.
    pub level: Level,
    /// The profile the rule belongs to.
    pub profile: Profile,
    /// The RFC section it rests on.
    pub rfc: String,
    /// What a conforming server does.
    pub summary: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One line: what was seen, or why the rule was skipped.
    pub message: String,
    /// Details for fail and warn verdicts.
    pub failure: Option<Failure>,
    /// For fail and warn verdicts: the most likely cause and a fix.
    pub hint: Option<Hint>,
    /// The prerequisite rule whose failure or skip kept this rule from running.
    pub blocked_by: Option<String>,
    /// The suite could not judge the rule because the server did not answer (a
    /// transport error); the verdict is still `fail`.
    pub harness_error: bool,
    /// How long the rule took, in milliseconds (0 when it did not run).
    pub duration_ms: u64,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// The version of this checker.
    pub tool_version: String,
    /// The base URL that was checked.
    pub target: String,
    /// The collection path.
    pub collection: String,
    /// The profiles that were checked.
    pub profiles: Vec<Profile>,
    /// The declared status for a failed `If-Match` (412 or 409).
    pub mismatch_status: u16,
    /// One outcome per selected rule, in catalogue order.
    pub outcomes: Vec<Outcome>,
    /// Whether rules not run because a prerequisite failed fail the run
    /// (`--fail-on-skipped`).
    pub fail_on_skipped: bool,
    /// The check's own time, start to end, in milliseconds: less than the rules' times
    /// added up ([`Report::duration_ms`]) when rules ran concurrently.
    pub elapsed_ms: u64,
}

impl Report {
    /// How many rules earned each verdict (every verdict present, zero included).
    pub fn counts(&self) -> BTreeMap<Verdict, usize> {
        let mut counts: BTreeMap<Verdict, usize> = Verdict::ALL.iter().map(|v| (*v, 0)).collect();
        for o in &self.outcomes {
            *counts.entry(o.verdict).or_default() += 1;
        }
        counts
    }

    /// 0 when no required rule failed (and, with `fail_on_skipped`, no rule was
    /// kept from running by a prerequisite), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        let blocked = self.fail_on_skipped && self.outcomes.iter().any(|o| o.blocked_by.is_some());
        i32::from(blocked || self.outcomes.iter().any(|o| o.verdict == Verdict::Fail))
    }

    /// The outcome of rule `id`, if it was selected.
    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.id == id)
    }

    /// Outcomes with failures first, then warnings, then the rest (stable within a verdict).
    pub fn by_severity(&self) -> Vec<&Outcome> {
        let mut sorted: Vec<&Outcome> = self.outcomes.iter().collect();
        sorted.sort_by_key(|o| o.verdict);
        sorted
    }
}

/// Cuts a body to the excerpt length on a character boundary.
pub fn excerpt(body: &str) -> String {
    if body.len() <= EXCERPT_LIMIT {
        return body.to_owned();
    }
    let mut end = EXCERPT_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &body[..end], body.len())
}
