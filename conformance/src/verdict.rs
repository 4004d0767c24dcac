//! Verdicts and how a rule's level turns a finding into one.

use serde::Serialize;

use crate::rules::{Finding, Level};

/// The judgement of one rule, in the order reports list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A required (MUST) rule was broken.
    Fail,
    /// A SHOULD rule was not met, or a MUST rule was met only in an undeclared, lenient way.
    Warn,
    /// Met in the declared, non-strict way (e.g. 409 under `--mismatch-status 409`).
    NonStrict,
    /// Met.
    Pass,
    /// A fact worth knowing; never a failure.
    Info,
    /// Not judged, with the reason.
    Skip,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 6] = [
        Verdict::Fail,
        Verdict::Warn,
        Verdict::NonStrict,
        Verdict::Pass,
        Verdict::Info,
        Verdict::Skip,
    ];

    /// The lower-case name used in every report.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::NonStrict => "non-strict",
            Verdict::Pass => "pass",
            Verdict::Info => "info",
            Verdict::Skip => "skip",
        }
    }

    /// Whether a rule with this verdict counts as kept for prerequisites.
    pub fn kept(self) -> bool {
        matches!(
            self,
            Verdict::Pass | Verdict::NonStrict | Verdict::Info | Verdict::Warn
        )
    }
}

/// The verdict a finding earns for a rule of `level`.
pub fn verdict_for(level: Level, finding: &Finding) -> Verdict {
    match (finding, level) {
        (Finding::Pass(_), _) => Verdict::Pass,
        (Finding::NonStrict(_), _) => Verdict::NonStrict,
        (Finding::Warn(_), _) => Verdict::Warn,
        (Finding::Violation(_), Level::Must) => Verdict::Fail,
        (Finding::Violation(_), Level::Should | Level::Info) => Verdict::Warn,
        (Finding::Info(_), _) => Verdict::Info,
        (Finding::Skip(_), _) => Verdict::Skip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Evidence;

    fn violation() -> Finding {
        Finding::Violation(Evidence {
            expectation: "e".into(),
            observed: "o".into(),
            exchange: None,
            write: None,
        })
    }

    #[test]
    fn violation_fails_must_and_warns_should() {
        assert_eq!(verdict_for(Level::Must, &violation()), Verdict::Fail);
        assert_eq!(verdict_for(Level::Should, &violation()), Verdict::Warn);
    }

    #[test]
    fn only_fail_and_skip_break_prerequisites() {
        let kept: Vec<_> = Verdict::ALL.into_iter().filter(|v| !v.kept()).collect();
        assert_eq!(kept, [Verdict::Fail, Verdict::Skip]);
    }
}
