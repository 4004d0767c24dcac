//! JUnit XML: one testcase per rule, so CI systems can show the verdicts.

use std::fmt::Write;

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

/// Renders the report as a JUnit XML document. Fail → `<failure>`; skip →
/// `<skipped>`; warn and non-strict pass with their text in `<system-out>`.
pub fn render_junit(report: &Report) -> String {
    let counts = report.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ifmatch-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        report.outcomes.len(),
        counts[&Verdict::Fail],
        counts[&Verdict::Skip]
    );
    let profiles: Vec<&str> = report.profiles.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
        escape_xml(&format!(
            "ifmatch-conformance {} ({})",
            report.target,
            profiles.join(",")
        )),
        report.outcomes.len(),
        counts[&Verdict::Fail],
        counts[&Verdict::Skip]
    );
    for o in &report.outcomes {
        testcase(&mut out, o);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, o: &Outcome) {
    let _ = write!(
        out,
        "    <testcase classname=\"ifmatch.{}\" name=\"{}\"",
        o.profile.as_str(),
        escape_xml(&o.id)
    );
    let body = match o.verdict {
        Verdict::Fail => {
            let f = o.failure.as_ref();
            let detail = f.map_or(String::new(), |f| {
                format!(
                    "expected: {}\nobserved: {}\nreproduce: {}",
                    f.expectation,
                    f.observed,
                    f.curl.as_deref().unwrap_or("(no request)")
                )
            });
            format!(
                "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                escape_xml(&o.message),
                o.level.as_str(),
                escape_xml(&detail)
            )
        }
        Verdict::Skip => format!("      <skipped message=\"{}\"/>\n", escape_xml(&o.message)),
        v => format!(
            "      <system-out>{}: {}</system-out>\n",
            v.as_str(),
            escape_xml(&o.message)
        ),
    };
    out.push_str(">\n");
    out.push_str(&body);
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
