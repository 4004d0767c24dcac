//! Turning a rule's finding into its [`Outcome`]: the verdict, the evidence with
//! its diff (leaving out the members the target description says not to compare),
//! and the hint for fail and warn verdicts.

use crate::report::{Failure, Outcome};
use crate::rules::{Finding, Rule};
use crate::verdict::{verdict_for, Verdict};

/// Whether a skip's reason says the rule does not apply to this target (the
/// rules' convention: the reason starts with "not applicable").
pub(super) fn is_not_applicable(reason: &str) -> bool {
    reason.starts_with("not applicable")
}

/// The outcome `finding` earns for `rule`, with a hint for fail and warn verdicts;
/// the evidence's diff leaves the `not_compared` members (see [`crate::target::TargetShape::not_compared`]) out of its judgement.
pub(super) fn outcome(rule: &Rule, finding: &Finding, not_compared: &[String]) -> Outcome {
    let verdict = verdict_for(rule.level, finding);
    let (message, failure) = match finding {
        Finding::Pass(m) | Finding::NonStrict(m) | Finding::Info(m) | Finding::Skip(m) => {
            (m.clone(), None)
        }
        Finding::Warn(e) | Finding::Violation(e) => {
            let mut failure = Failure::new(
                e.expectation.clone(),
                e.observed.clone(),
                e.exchange.as_ref(),
                e.write.as_ref(),
            );
            if let Some(entries) = failure.diff.as_mut() {
                crate::report::diff::mark_ignored(entries, not_compared);
            }
            (e.observed.clone(), Some(failure))
        }
    };
    debug_assert!(verdict != Verdict::Fail || failure.is_some());
    let hint = matches!(verdict, Verdict::Fail | Verdict::Warn)
        .then(|| crate::report::hints::hint_for(rule.id, failure.as_ref()));
    Outcome {
        id: rule.id.to_owned(),
        level: rule.level,
        profile: rule.profile,
        rfc: rule.rfc.to_owned(),
        summary: rule.summary.to_owned(),
        verdict,
        message,
        failure,
        hint,
        blocked_by: None,
        harness_error: false,
        duration_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(method: &str, body: Option<&str>, answer: &str) -> crate::http::Exchange {
        crate::http::Exchange {
            request: crate::http::RecordedRequest {
                method: method.into(),
                url: "http://127.0.0.1:1/items/1".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: body.map(str::to_owned),
            },
            response: crate::http::RecordedResponse {
                status: 200,
                headers: vec![],
                body: answer.into(),
            },
        }
    }

    #[test]
    fn a_violation_gets_a_diff_without_the_declared_members_and_a_hint() {
        use crate::report::diff::Change;
        let rule = crate::rules::find("core.if-match.current-put").unwrap();
        let finding = Finding::violation_after(
            "stored",
            "not stored",
            &exchange("PUT", Some(r#"{"n":2,"_rev":"1-a","title":"x"}"#), ""),
            &exchange("GET", None, r#"{"n":2,"_rev":"2-b","updated":"t"}"#),
        );
        let mut shape = crate::target::TargetShape::default();
        shape.body.ignore = vec!["/updated".into()];
        shape.version.send = crate::target::VersionSend::Body("/_rev".into());
        let o = outcome(rule, &finding, &shape.not_compared());
        let diff = o.failure.as_ref().unwrap().diff.as_ref().unwrap();
        let changes: Vec<_> = diff
            .iter()
            .map(|e| (e.pointer.as_str(), e.change))
            .collect();
        assert_eq!(
            changes,
            [
                ("/_rev", Change::Ignored),
                ("/n", Change::Same),
                ("/title", Change::Missing),
                ("/updated", Change::Added),
            ]
        );
        // The member really dropped (/title) names the cause.
        assert!(o.hint.unwrap().cause.contains("dropped members"));
        let blocked = outcome(rule, &Finding::Skip("prerequisite x was fail".into()), &[]);
        assert!(blocked.hint.is_none() && blocked.failure.is_none());
    }

    #[test]
    fn not_applicable_is_the_rules_convention() {
        assert!(is_not_applicable(
            "not applicable: [errors] format = \"any\""
        ));
        assert!(is_not_applicable("not applicable to json errors"));
        assert!(!is_not_applicable("prerequisite core.x was skip"));
    }
}
