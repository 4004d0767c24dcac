//! A self-contained HTML page: summary, a filterable table of every rule, and
//! failure details with a `curl` reproduction. No external assets.

use std::fmt::Write;

use super::diff::DiffEntry;
use super::junit::escape_xml as esc;
use super::{Failure, Report};
use crate::http::RecordedRequest;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
#rules>thead th:nth-child(1){width:7em}#rules>thead th:nth-child(2){width:17em}#rules>thead th:nth-child(3){width:5em}#rules>thead th:nth-child(4){width:8em}
.v{font-weight:600;text-transform:uppercase;font-size:.8em;padding:.1em .4em;border-radius:3px}
.fail{background:#fdd;color:#900}.warn{background:#ffe8b0;color:#740}.non-strict{background:#e6e0ff;color:#436}
.pass{background:#dfd;color:#060}.info{background:#def;color:#036}.skip{background:#eee;color:#555}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}details{margin:.3em 0}
#filters label{margin-right:1em}.counts span{margin-right:1.2em}
.headline{background:#900;color:#fff;padding:.8em 1em;border-radius:4px;font-size:1.15em;font-weight:600}
.notrun{background:#fff4d6;border-left:4px solid #c80;padding:.5em 1em}.notrun ul{margin:.3em 0}
.hint{background:#eef6ff;border-left:4px solid #36c;padding:.4em .8em}
table.diff{table-layout:auto;width:auto;font-size:.9em}table.diff td{font-family:monospace}
.added,.ignored{color:#555}.changed,.missing,.not-removed{color:#900;font-weight:600}";

const SCRIPT: &str = "function applyFilter(){var q=document.getElementById('q').value.toLowerCase();
var on={};document.querySelectorAll('#filters input[type=checkbox]').forEach(function(c){on[c.value]=c.checked;});
document.querySelectorAll('#rules > tbody > tr').forEach(function(r){var show=on[r.dataset.verdict]&&r.textContent.toLowerCase().indexOf(q)>=0;
r.style.display=show?'':'none';});}
document.querySelectorAll('#filters input').forEach(function(i){i.addEventListener('input',applyFilter);});";

/// Renders the report as one HTML page.
pub fn render_html(report: &Report) -> String {
    let mut out = String::new();
    let passed = report.exit_code() == 0;
    let profiles: Vec<&str> = report.profiles.iter().map(|p| p.as_str()).collect();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ifmatch conformance: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&report.target)
    );
    if let Some(headline) = report.headline() {
        let _ = writeln!(out, "<p class=\"headline\">{}</p>", esc(headline));
    }
    let reasons = report.failure_reasons();
    let _ = writeln!(
        out,
        "<h1>ifmatch conformance report: {}</h1>",
        if passed {
            "passed".to_owned()
        } else {
            format!("FAILED <small>({})</small>", esc(&reasons.join("; ")))
        }
    );
    let not_run = report.not_run();
    if !not_run.is_empty() {
        out.push_str("<div class=\"notrun\"><b>Not run because a prerequisite failed:</b><ul>");
        for g in &not_run {
            let _ = write!(
                out,
                "<li>{} (<a href=\"#rule-{}\">see {}</a>)</li>",
                esc(&g.sentence()),
                esc(&g.prerequisite),
                esc(&g.prerequisite)
            );
        }
        out.push_str("</ul></div>\n");
    }
    let _ = writeln!(
        out,
        "<p>Target <code>{}</code>, collection <code>{}</code>, profiles <code>{}</code>, mismatch status {}. Checker {}.</p>",
        esc(&report.target),
        esc(&report.collection),
        esc(&profiles.join(", ")),
        report.mismatch_status,
        esc(&report.tool_version)
    );
    out.push_str("<p class=\"counts\">");
    for (verdict, n) in report.counts() {
        let _ = write!(
            out,
            "<span><span class=\"v {0}\">{0}</span> {n}</span>",
            verdict.as_str()
        );
    }
    out.push_str("</p>\n<p id=\"filters\">Show: ");
    for (verdict, _) in report.counts() {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" value=\"{0}\" checked> {0}</label>",
            verdict.as_str()
        );
    }
    out.push_str("<input id=\"q\" type=\"search\" placeholder=\"filter by text\"></p>\n");
    out.push_str("<table id=\"rules\"><thead><tr><th>Verdict</th><th>Rule</th><th>Level</th><th>RFC</th><th>What was seen</th></tr></thead><tbody>\n");
    for o in report.by_severity() {
        let _ = write!(
            out,
            "<tr id=\"rule-{id}\" data-verdict=\"{v}\"><td><span class=\"v {v}\">{v}</span></td><td><code>{id}</code><br><small>{summary}</small></td><td>{level}</td><td>{rfc}</td><td>{message}",
            id = esc(&o.id),
            summary = esc(&o.summary),
            level = o.level.as_str(),
            rfc = esc(&o.rfc),
            message = esc(&o.message),
            v = o.verdict.as_str()
        );
        if let Some(f) = &o.failure {
            failure_details(&mut out, f);
        }
        if o.harness_error {
            out.push_str("<p><b>Harness error:</b> the suite could not judge this rule: the server did not answer.</p>");
        }
        if let Some(h) = &o.hint {
            let _ = write!(
                out,
                "<p class=\"hint\"><b>Likely cause:</b> {}<br><b>Fix:</b> {}</p>",
                code_spans(&esc(&h.cause)),
                code_spans(&esc(&h.fix))
            );
        }
        out.push_str("</td></tr>\n");
    }
    let _ = write!(
        out,
        "</tbody></table>\n<script>{SCRIPT}</script>\n</body></html>\n"
    );
    out
}

/// Escaped text with its `backquoted` spans as `<code>` (hints quote code that
/// way); text with an unpaired backquote is left as it is.
fn code_spans(escaped: &str) -> String {
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len() % 2 == 0 {
        return escaped.to_owned();
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn failure_details(out: &mut String, f: &Failure) {
    out.push_str("<details open><summary>Evidence</summary>");
    let _ = write!(
        out,
        "<p><b>Expected:</b> {}<br><b>Observed:</b> {}</p>",
        esc(&f.expectation),
        esc(&f.observed)
    );
    if let Some(w) = &f.write {
        exchange(
            out,
            "Write",
            Some(&w.request),
            Some(w.response_status),
            &w.response_headers,
            Some(&w.response_excerpt),
            Some(&w.curl),
        );
    }
    exchange(
        out,
        if f.write.is_some() { "Re-read" } else { "" },
        f.request.as_ref(),
        f.response_status,
        &f.response_headers,
        f.response_excerpt.as_ref(),
        f.curl.as_ref(),
    );
    if let Some(entries) = &f.diff {
        diff_table(out, entries);
    }
    out.push_str("</details>");
}

/// One request, its response and its `curl`, each under a heading that starts with
/// `prefix` ("Write request", "Re-read response", or plain "Request").
fn exchange(
    out: &mut String,
    prefix: &str,
    req: Option<&RecordedRequest>,
    status: Option<u16>,
    headers: &[(String, String)],
    body: Option<&String>,
    curl: Option<&String>,
) {
    let heading = |what: &str| {
        if prefix.is_empty() {
            let mut w = what.to_owned();
            w[..1].make_ascii_uppercase();
            w
        } else {
            format!("{prefix} {what}")
        }
    };
    if let Some(req) = req {
        let mut text = format!("{} {}\n", req.method, req.url);
        for (n, v) in &req.headers {
            let _ = writeln!(text, "{n}: {v}");
        }
        if let Some(body) = &req.body {
            let _ = write!(text, "\n{body}");
        }
        let _ = write!(
            out,
            "<b>{}</b><pre>{}</pre>",
            heading("request"),
            esc(&text)
        );
    }
    if let Some(status) = status {
        let mut text = format!("{status}\n");
        for (n, v) in headers {
            let _ = writeln!(text, "{n}: {v}");
        }
        if let Some(body) = body.filter(|b| !b.is_empty()) {
            let _ = write!(text, "\n{body}");
        }
        let _ = write!(
            out,
            "<b>{}</b><pre>{}</pre>",
            heading("response"),
            esc(&text)
        );
    }
    if let Some(curl) = curl {
        let what = if prefix.is_empty() {
            "Reproduce".to_owned()
        } else {
            format!("Reproduce the {}", prefix.to_lowercase())
        };
        let _ = write!(out, "<b>{what}</b><pre>{}</pre>", esc(curl));
    }
}

fn diff_table(out: &mut String, entries: &[DiffEntry]) {
    let show =
        |v: &Option<serde_json::Value>| v.as_ref().map_or(String::new(), |v| esc(&v.to_string()));
    out.push_str("<b>Sent vs stored</b><table class=\"diff\"><thead><tr><th>Member</th><th>Sent</th><th>Stored</th><th></th></tr></thead><tbody>");
    for e in entries {
        let class = serde_json::to_value(e.change)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(if e.pointer.is_empty() {
                "(document)"
            } else {
                &e.pointer
            }),
            show(&e.sent),
            show(&e.stored),
            e.change.describe()
        );
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::code_spans;

    #[test]
    fn backquoted_spans_become_code() {
        assert_eq!(
            code_spans("use `a` and `b &amp; c`."),
            "use <code>a</code> and <code>b &amp; c</code>."
        );
        assert_eq!(code_spans("one ` alone"), "one ` alone");
        assert_eq!(code_spans("none"), "none");
    }
}
