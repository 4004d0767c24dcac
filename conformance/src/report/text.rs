//! The plain-text report: summary counts first, then failures and warnings with
//! evidence, then one line per remaining rule.

use std::fmt::Write;

use super::{Failure, Outcome, Report};
use crate::verdict::Verdict;

/// Renders the report for a terminal or a log.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let profiles: Vec<&str> = report.profiles.iter().map(|p| p.as_str()).collect();
    let counts = report.counts();
    let summary: Vec<String> = counts
        .iter()
        .map(|(v, n)| format!("{n} {}", v.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "ifmatch conformance report (ifmatch-conformance {})",
        report.tool_version
    );
    let _ = writeln!(
        out,
        "target:   {}  collection {}",
        report.target, report.collection
    );
    let _ = writeln!(
        out,
        "profiles: {}  (mismatch status {})",
        profiles.join(", "),
        report.mismatch_status
    );
    let _ = writeln!(
        out,
        "summary:  {} of {} rules",
        summary.join(", "),
        report.outcomes.len()
    );
    let _ = writeln!(
        out,
        "result:   {}",
        if report.exit_code() == 0 {
            "PASSED (no required rule failed)"
        } else {
            "FAILED (a required rule failed)"
        }
    );
    let sorted = report.by_severity();
    let (detailed, rest): (Vec<&Outcome>, Vec<&Outcome>) =
        sorted.into_iter().partition(|o| o.failure.is_some());
    for o in detailed {
        out.push('\n');
        detail(&mut out, o);
    }
    if !rest.is_empty() {
        out.push('\n');
        let width = rest.iter().map(|o| o.id.len()).max().unwrap_or(0);
        for o in rest {
            let _ = writeln!(
                out,
                "{:<10} {:<width$}  {}",
                o.verdict.as_str(),
                o.id,
                o.message
            );
        }
    }
    out
}

fn detail(out: &mut String, o: &Outcome) {
    let _ = writeln!(
        out,
        "{} {}  [{} · {}]",
        o.verdict.as_str().to_uppercase(),
        o.id,
        o.level.as_str(),
        o.rfc
    );
    let _ = writeln!(out, "  rule:      {}", o.summary);
    if let Some(f) = &o.failure {
        evidence(out, f);
    }
    if o.verdict == Verdict::Warn && o.failure.is_none() {
        let _ = writeln!(out, "  observed:  {}", o.message);
    }
}

fn evidence(out: &mut String, f: &Failure) {
    let _ = writeln!(out, "  expected:  {}", f.expectation);
    let _ = writeln!(out, "  observed:  {}", f.observed);
    if let Some(req) = &f.request {
        let _ = writeln!(out, "  request:   {} {}", req.method, req.url);
        for (name, value) in &req.headers {
            let _ = writeln!(out, "             {name}: {value}");
        }
        if let Some(body) = &req.body {
            let _ = writeln!(out, "             {body}");
        }
    }
    if let Some(status) = f.response_status {
        let _ = writeln!(out, "  response:  {status}");
        for (name, value) in &f.response_headers {
            if matches!(
                name.as_str(),
                "content-type"
                    | "etag"
                    | "location"
                    | "retry-after"
                    | "ratelimit"
                    | "ratelimit-policy"
            ) {
                let _ = writeln!(out, "             {name}: {value}");
            }
        }
        if let Some(body) = f.response_excerpt.as_deref().filter(|b| !b.is_empty()) {
            let _ = writeln!(out, "             {body}");
        }
    }
    if let Some(curl) = &f.curl {
        let _ = writeln!(out, "  reproduce: {curl}");
    }
}
