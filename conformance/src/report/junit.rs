//! JUnit XML: one testcase per rule, so CI systems can show the verdicts.

use std::fmt::Write;

use super::text::evidence;
use super::{Outcome, Report};
use crate::verdict::Verdict;

/// Escapes text for XML attribute values and character data.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as a JUnit XML document, one `<testcase>` per rule with its
/// `time` in seconds:
///
/// - `fail` → `<failure>` with the evidence, the write's `curl`, the cause and the fix;
///   a harness error (the server did not answer) → `<error type="harness">`;
/// - `warn` → a passing testcase named `<id> [warn]` whose `<system-err>` starts
///   `WARN:` (CI tools treat any `<failure>` as fatal, and a warning must not be);
/// - `skip` → `<skipped>`, except rules a prerequisite kept from running under
///   `--fail-on-skipped`, which are `<failure type="not-run">` (they fail the run);
/// - `pass`, `non-strict`, `info` → their text in `<system-out>`.
///
/// The testsuite's `<properties>` carry the headline, why the run failed and the
/// rules not run, and its `<system-out>` says the same in words.
pub fn render_junit(report: &Report) -> String {
    let tally = Tally::of(report);
    let time = seconds(report.duration_ms());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ifmatch-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time}\">",
        report.outcomes.len(),
        tally.failures,
        tally.errors,
        tally.skipped
    );
    let profiles: Vec<&str> = report.profiles.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time}\">",
        escape_xml(&format!(
            "ifmatch-conformance {} ({})",
            report.target,
            profiles.join(",")
        )),
        report.outcomes.len(),
        tally.failures,
        tally.errors,
        tally.skipped
    );
    let reasons = report.failure_reasons();
    let result = if reasons.is_empty() {
        "passed".to_owned()
    } else {
        format!("FAILED: {}", reasons.join("; "))
    };
    let mut properties: Vec<(&str, String)> = Vec::new();
    if let Some(headline) = report.headline() {
        properties.push(("headline", headline.to_owned()));
    }
    properties.push(("result", result.clone()));
    let not_run: Vec<String> = report.not_run().iter().map(|g| g.sentence()).collect();
    if !not_run.is_empty() {
        properties.push(("not-run", not_run.join("; ")));
    }
    properties.push(("fail-on-skipped", report.fail_on_skipped.to_string()));
    out.push_str("    <properties>\n");
    for (name, value) in &properties {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape_xml(value)
        );
    }
    out.push_str("    </properties>\n");
    for o in &report.outcomes {
        testcase(&mut out, o, report.fail_on_skipped);
    }
    let mut summary: Vec<String> = report.headline().map(str::to_owned).into_iter().collect();
    summary.extend(not_run);
    summary.push(result);
    let _ = writeln!(
        out,
        "    <system-out>{}</system-out>",
        escape_xml(&summary.join("\n"))
    );
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The testsuite's counts, as JUnit means them.
struct Tally {
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Tally {
    fn of(report: &Report) -> Tally {
        let mut t = Tally {
            failures: 0,
            errors: 0,
            skipped: 0,
        };
        for o in &report.outcomes {
            match o.verdict {
                Verdict::Fail if o.harness_error => t.errors += 1,
                Verdict::Fail => t.failures += 1,
                Verdict::Skip if report.fail_on_skipped && o.blocked_by.is_some() => {
                    t.failures += 1;
                }
                Verdict::Skip => t.skipped += 1,
                _ => {}
            }
        }
        t
    }
}

/// Milliseconds as JUnit's seconds.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn testcase(out: &mut String, o: &Outcome, fail_on_skipped: bool) {
    let name = if o.verdict == Verdict::Warn {
        format!("{} [warn]", o.id)
    } else {
        o.id.clone()
    };
    let _ = writeln!(
        out,
        "    <testcase classname=\"ifmatch.{}\" name=\"{}\" time=\"{}\">",
        o.profile.as_str(),
        escape_xml(&name),
        seconds(o.duration_ms)
    );
    let evidence = escape_xml(&evidence(o));
    let message = escape_xml(&o.message);
    let _ = match o.verdict {
        Verdict::Fail if o.harness_error => writeln!(
            out,
            "      <error message=\"{message}\" type=\"harness\">{evidence}</error>"
        ),
        Verdict::Fail => writeln!(
            out,
            "      <failure message=\"{message}\" type=\"{}\">{evidence}</failure>",
            o.level.as_str()
        ),
        Verdict::Warn => writeln!(
            out,
            "      <system-err>WARN: {message}\n{evidence}</system-err>"
        ),
        Verdict::Skip if fail_on_skipped && o.blocked_by.is_some() => writeln!(
            out,
            "      <failure message=\"not run: {message} (--fail-on-skipped)\" type=\"not-run\"/>"
        ),
        Verdict::Skip => writeln!(out, "      <skipped message=\"{message}\"/>"),
        v => writeln!(
            out,
            "      <system-out>{}: {message}</system-out>",
            v.as_str()
        ),
    };
    out.push_str("    </testcase>\n");
}

#[cfg(test)]
mod tests {
    use super::escape_xml;

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(
            escape_xml("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(escape_xml("a\u{1}b\n"), "a\u{fffd}b\n");
    }
}
