//! What the top of every report says: the one-sentence headline when the server
//! ignores `If-Match`, the rules a failed prerequisite kept from running, and
//! why the run failed.

use serde::Serialize;

use super::Report;
use crate::verdict::Verdict;

/// The rule whose failure is the report's headline: a server that ignores
/// `If-Match` keeps no other part of the contract either.
pub const IGNORES_IF_MATCH_RULE: &str = "core.if-match.honoured";

/// Rules not run because one prerequisite (directly or through others) failed or
/// was skipped.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotRun {
    /// The rule at the root of the chain.
    pub prerequisite: String,
    /// Its verdict (`fail` or `skip`).
    pub verdict: Verdict,
    /// The rules it kept from running, in catalogue order.
    pub rules: Vec<String>,
}

impl NotRun {
    /// "3 rules not run because core.etag.strong-on-get failed: a, b, c".
    pub fn sentence(&self) -> String {
        let n = self.rules.len();
        format!(
            "{n} rule{} not run because {} {}: {}",
            if n == 1 { "" } else { "s" },
            self.prerequisite,
            if self.verdict == Verdict::Fail {
                "failed"
            } else {
                "was skipped"
            },
            self.rules.join(", ")
        )
    }
}

impl Report {
    /// The failure of [`IGNORES_IF_MATCH_RULE`] ("This server ignores If-Match: …"),
    /// which every format prints first.
    pub fn headline(&self) -> Option<&str> {
        self.outcome(IGNORES_IF_MATCH_RULE)
            .filter(|o| o.verdict == Verdict::Fail && !o.harness_error)
            .map(|o| o.message.as_str())
    }

    /// The rules prerequisites kept from running, grouped by the prerequisite at the
    /// root of each chain (a rule blocked by a blocked rule counts for the first).
    pub fn not_run(&self) -> Vec<NotRun> {
        let mut groups: Vec<NotRun> = Vec::new();
        for o in &self.outcomes {
            let Some(mut root) = o.blocked_by.as_deref() else {
                continue;
            };
            // Bounded: a chain is never longer than the report.
            for _ in 0..self.outcomes.len() {
                match self.outcome(root).and_then(|p| p.blocked_by.as_deref()) {
                    Some(next) => root = next,
                    None => break,
                }
            }
            let verdict = self.outcome(root).map_or(Verdict::Skip, |p| p.verdict);
            match groups.iter_mut().find(|g| g.prerequisite == root) {
                Some(g) => g.rules.push(o.id.clone()),
                None => groups.push(NotRun {
                    prerequisite: root.to_owned(),
                    verdict,
                    rules: vec![o.id.clone()],
                }),
            }
        }
        groups
    }

    /// Why the run failed, one phrase per reason; empty when it passed.
    pub fn failure_reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        let failed: Vec<&str> = self
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Fail && !o.harness_error)
            .map(|o| o.id.as_str())
            .collect();
        if !failed.is_empty() {
            reasons.push(format!(
                "{} required rule{} failed",
                failed.len(),
                plural(failed.len())
            ));
        }
        let errors = self.outcomes.iter().filter(|o| o.harness_error).count();
        if errors > 0 {
            reasons.push(format!(
                "{errors} rule{} could not be judged: the server did not answer",
                plural(errors)
            ));
        }
        let blocked = self
            .outcomes
            .iter()
            .filter(|o| o.blocked_by.is_some())
            .count();
        if self.fail_on_skipped && blocked > 0 {
            reasons.push(format!(
                "{blocked} rule{} not run because a prerequisite failed or was skipped, and --fail-on-skipped is set",
                plural(blocked)
            ));
        }
        reasons
    }

    /// The rules' time added up, in milliseconds. Rules run concurrently, so this is more
    /// than the run took: that is [`Report::elapsed_ms`].
    pub fn duration_ms(&self) -> u64 {
        self.outcomes.iter().map(|o| o.duration_ms).sum()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
