//! A self-contained HTML page: summary, a filterable table of every rule, and
//! failure details with a `curl` reproduction. No external assets.

use std::fmt::Write;

use super::junit::escape_xml as esc;
use super::{Failure, Report};

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th:nth-child(1){width:7em}th:nth-child(2){width:17em}th:nth-child(3){width:5em}th:nth-child(4){width:8em}
.v{font-weight:600;text-transform:uppercase;font-size:.8em;padding:.1em .4em;border-radius:3px}
.fail{background:#fdd;color:#900}.warn{background:#ffe8b0;color:#740}.non-strict{background:#e6e0ff;color:#436}
.pass{background:#dfd;color:#060}.info{background:#def;color:#036}.skip{background:#eee;color:#555}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}details{margin:.3em 0}
#filters label{margin-right:1em}.counts span{margin-right:1.2em}";

const SCRIPT: &str = "function applyFilter(){var q=document.getElementById('q').value.toLowerCase();
var on={};document.querySelectorAll('#filters input[type=checkbox]').forEach(function(c){on[c.value]=c.checked;});
document.querySelectorAll('#rules tbody tr').forEach(function(r){var show=on[r.dataset.verdict]&&r.textContent.toLowerCase().indexOf(q)>=0;
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
    let _ = writeln!(
        out,
        "<h1>ifmatch conformance report: {}</h1>",
        if passed { "passed" } else { "FAILED" }
    );
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
            "<tr data-verdict=\"{v}\"><td><span class=\"v {v}\">{v}</span></td><td><code>{}</code><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}",
            esc(&o.id),
            esc(&o.summary),
            o.level.as_str(),
            esc(&o.rfc),
            esc(&o.message),
            v = o.verdict.as_str()
        );
        if let Some(f) = &o.failure {
            failure_details(&mut out, f);
        }
        out.push_str("</td></tr>\n");
    }
    let _ = write!(
        out,
        "</tbody></table>\n<script>{SCRIPT}</script>\n</body></html>\n"
    );
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
    if let Some(req) = &f.request {
        let mut text = format!("{} {}\n", req.method, req.url);
        for (n, v) in &req.headers {
            let _ = writeln!(text, "{n}: {v}");
        }
        if let Some(body) = &req.body {
            let _ = write!(text, "\n{body}");
        }
        let _ = write!(out, "<b>Request</b><pre>{}</pre>", esc(&text));
    }
    if let Some(status) = f.response_status {
        let mut text = format!("{status}\n");
        for (n, v) in &f.response_headers {
            let _ = writeln!(text, "{n}: {v}");
        }
        if let Some(body) = &f.response_excerpt {
            let _ = write!(text, "\n{body}");
        }
        let _ = write!(out, "<b>Response</b><pre>{}</pre>", esc(&text));
    }
    if let Some(curl) = &f.curl {
        let _ = write!(out, "<b>Reproduce</b><pre>{}</pre>", esc(curl));
    }
    out.push_str("</details>");
}
