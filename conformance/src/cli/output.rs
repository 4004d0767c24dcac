//! Several report formats in one run: which goes to standard output, which to
//! which file, and the one-line summary of the files written.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::{CheckArgs, Format};
use super::config::{FileConfig, OutputSpec};
use super::settings::Origin;
use crate::report::{self, Report};

/// Where each report format goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Outputs {
    /// The format printed on standard output, if any.
    pub(super) stdout: Option<Format>,
    /// The formats written to files, in the order given.
    pub(super) files: Vec<(Format, PathBuf)>,
}

/// The formats of the run (`--format`, else the file's `format`, else text, plus
/// every format `output` names a file for) and their destinations.
pub(super) fn plan(
    args: &CheckArgs,
    file: Option<&FileConfig>,
    cwd: Option<&Path>,
) -> Result<Outputs, String> {
    let formats: Vec<Format> = match file.and_then(|f| f.format.as_ref().map(|l| (l, &f.path))) {
        _ if !args.format.is_empty() => args.format.clone(),
        Some((names, path)) => names
            .iter()
            .map(|n| Format::parse(n, &Origin::File(path).name("format")))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let spec = match (
        args.outputs.is_empty(),
        file.and_then(|f| f.output.clone().map(|o| (o, &f.path))),
    ) {
        (false, _) => Some((flagged_spec(&args.outputs)?, Origin::Flag)),
        (true, Some((spec, path))) => Some((spec, Origin::File(path))),
        (true, None) => None,
    };
    let mut formats = dedup(formats);
    let mut files = Vec::new();
    match spec {
        None => {}
        Some((OutputSpec::File(path), origin)) => {
            let format = match formats.as_slice() {
                [] => Format::Text,
                [one] => *one,
                many => {
                    let names: Vec<&str> = many.iter().map(|f| f.name()).collect();
                    return Err(format!(
                        "{} takes one report format, and {} are asked for ({}); give each format its file with {}",
                        origin.said("output", &path),
                        many.len(),
                        names.join(", "),
                        match origin {
                            Origin::Flag => "--output FORMAT=FILE".to_owned(),
                            Origin::File(_) => "output = { FORMAT = \"FILE\", … }".to_owned(),
                        }
                    ));
                }
            };
            formats = vec![format];
            files.push((format, path));
        }
        Some((OutputSpec::PerFormat(pairs), origin)) => {
            // Without `format`, text still goes to standard output beside the files.
            if formats.is_empty() {
                formats.push(Format::Text);
            }
            for (name, path) in pairs {
                let format = Format::parse(&name, &origin.name("output"))?;
                if files.iter().any(|(f, _)| *f == format) {
                    return Err(format!(
                        "{} names a file for {name} twice; keep one",
                        origin.name("output")
                    ));
                }
                if !formats.contains(&format) {
                    formats.push(format);
                }
                files.push((format, path));
            }
        }
    }
    if formats.is_empty() {
        formats.push(Format::Text);
    }
    let to_stdout: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| !files.iter().any(|(g, _)| g == f))
        .collect();
    if to_stdout.len() > 1 {
        let names: Vec<&str> = to_stdout.iter().map(|f| f.name()).collect();
        return Err(format!(
            "the formats {} would all go to standard output, which takes one; give the others a file with --output FORMAT=FILE (or output = {{ {} = \"FILE\" }} in the file)",
            names.join(", "),
            names[1]
        ));
    }
    if let Some(cwd) = cwd {
        for (_, path) in &mut files {
            *path = cwd.join(&*path);
        }
    }
    Ok(Outputs {
        stdout: to_stdout.first().copied(),
        files,
    })
}

fn dedup(formats: Vec<Format>) -> Vec<Format> {
    let mut out: Vec<Format> = Vec::new();
    for f in formats {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// `--output` values: one `FILE`, or `FORMAT=FILE` for each format.
fn flagged_spec(values: &[String]) -> Result<OutputSpec, String> {
    let mut pairs = Vec::new();
    let mut plain = Vec::new();
    for value in values {
        match value.split_once('=') {
            Some((name, path)) if Format::parse(name, "").is_ok() => {
                pairs.push((name.trim().to_owned(), PathBuf::from(path)))
            }
            _ => plain.push(PathBuf::from(value)),
        }
    }
    match (plain.len(), pairs.is_empty()) {
        (0, _) => Ok(OutputSpec::PerFormat(pairs)),
        (1, true) => Ok(OutputSpec::File(plain.remove(0))),
        _ => Err(format!(
            "--output is given {} times; give one --output FILE for a single format, or --output FORMAT=FILE for each format (e.g. --output junit=conformance.xml)",
            values.len()
        )),
    }
}

fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => report::render_text(report),
        Format::Json => report::render_json(report),
        Format::Junit => report::render_junit(report),
        Format::Html => report::render_html(report),
    }
}

/// Writes every report; on success returns nothing, otherwise the error to print.
/// When any went to a file, a one-line summary naming the files goes to `err`.
pub(super) fn write(
    report: &Report,
    outputs: &Outputs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    for (format, path) in &outputs.files {
        std::fs::write(path, render(report, *format)).map_err(|e| {
            format!(
                "cannot write the {} report to {}: {e}",
                format.name(),
                path.display()
            )
        })?;
    }
    if let Some(format) = outputs.stdout {
        let _ = out.write_all(render(report, format).as_bytes());
    }
    if !outputs.files.is_empty() {
        let counts: Vec<String> = report
            .counts()
            .iter()
            .map(|(v, n)| format!("{n} {}", v.as_str()))
            .collect();
        let names: Vec<String> = outputs
            .files
            .iter()
            .map(|(_, p)| p.display().to_string())
            .collect();
        let _ = writeln!(
            err,
            "{} ({}); {} written to {}",
            if report.exit_code() == 0 {
                "passed"
            } else {
                "FAILED"
            },
            counts.join(", "),
            if names.len() == 1 {
                "report"
            } else {
                "reports"
            },
            names.join(", ")
        );
        // Why it failed, where a CI log shows it even when nobody opens the report.
        if report.exit_code() != 0 {
            for line in report.headline().into_iter().map(str::to_owned) {
                let _ = writeln!(err, "  {line}");
            }
            for reason in report.failure_reasons() {
                let _ = writeln!(err, "  {reason}");
            }
        }
    }
    Ok(())
}
