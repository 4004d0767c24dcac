//! Printing results: a text table per comparison, or one JSON document at the end.

use serde_json::{json, Map, Value};

use super::{Mode, Summary};

/// One named figure of a row, e.g. `median` = 412.5 `µs`.
#[derive(Clone, Debug)]
pub struct Metric {
    /// Short name, also the JSON key (with the unit appended).
    pub name: &'static str,
    /// The value.
    pub value: f64,
    /// Unit as printed. JSON keys are `<name>_<unit>` with `µ` as `u` and `/` as `_per_`.
    pub unit: &'static str,
}

/// The baseline or one measured case.
#[derive(Clone, Debug)]
pub struct Row {
    /// What ran.
    pub label: String,
    /// Its figures; the first one is the one ratios are taken of.
    pub metrics: Vec<Metric>,
}

impl Row {
    /// A latency row: median and p90 in microseconds.
    pub fn latency(label: impl Into<String>, summary: &Summary) -> Self {
        let micros = |d: std::time::Duration| d.as_secs_f64() * 1e6;
        Self {
            label: label.into(),
            metrics: vec![
                Metric {
                    name: "median",
                    value: micros(summary.median),
                    unit: "µs",
                },
                Metric {
                    name: "p90",
                    value: micros(summary.p90),
                    unit: "µs",
                },
            ],
        }
    }

    fn primary(&self) -> f64 {
        self.metrics.first().map_or(f64::NAN, |m| m.value)
    }
}

/// A baseline and the cases measured against it, from the same run.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Stable short name (used by the filter argument and in JSON).
    pub name: &'static str,
    /// One line saying what is compared.
    pub title: String,
    /// Samples (or runs) per row.
    pub samples: usize,
    /// The in-run reference.
    pub baseline: Row,
    /// The cases, each reported with `first metric / baseline's first metric`.
    pub measured: Vec<Row>,
}

impl Comparison {
    fn ratio(&self, row: &Row) -> f64 {
        row.primary() / self.baseline.primary()
    }

    fn to_text(&self) -> String {
        let width = std::iter::once(&self.baseline)
            .chain(&self.measured)
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0);
        let line = |kind: &str, row: &Row, ratio: Option<f64>| {
            let pad = width - row.label.chars().count();
            let mut out = format!("  {kind:<8}  {}{}", row.label, " ".repeat(pad));
            for m in &row.metrics {
                out.push_str(&format!("  {} {:>9.1}", m.name, m.value));
                if !m.unit.is_empty() {
                    out.push_str(&format!(" {}", m.unit));
                }
            }
            if let Some(ratio) = ratio {
                let of = row.metrics.first().map_or("", |m| m.name);
                out.push_str(&format!("  {of} ratio {ratio:.2}x"));
            }
            out
        };
        let mut text = format!("== {}: {} ({} each)\n", self.name, self.title, self.samples);
        text.push_str(&line("baseline", &self.baseline, None));
        text.push('\n');
        for row in &self.measured {
            text.push_str(&line("measured", row, Some(self.ratio(row))));
            text.push('\n');
        }
        text
    }

    fn to_json(&self) -> Value {
        let row = |row: &Row, ratio: Option<f64>| {
            let mut obj = Map::new();
            obj.insert("label".into(), row.label.clone().into());
            for m in &row.metrics {
                let key = if m.unit.is_empty() {
                    m.name.to_owned()
                } else {
                    format!("{}_{}", m.name, m.unit)
                };
                let key = key.replace('µ', "u").replace('/', "_per_");
                obj.insert(key, json!(m.value));
            }
            if let Some(ratio) = ratio {
                obj.insert("ratio".into(), json!(ratio));
            }
            Value::Object(obj)
        };
        json!({
            "name": self.name,
            "title": self.title,
            "samples": self.samples,
            "ratio_of": self.baseline.metrics.first().map(|m| m.name),
            "baseline": row(&self.baseline, None),
            "measured": self.measured.iter().map(|r| row(r, Some(self.ratio(r)))).collect::<Vec<_>>(),
        })
    }
}

/// Collects comparisons; text is printed as each one completes, JSON once at the end.
#[derive(Debug)]
pub struct Output {
    bench: &'static str,
    json: bool,
    smoke: bool,
    done: Vec<Comparison>,
}

impl Output {
    /// Starts the output of the bench binary called `bench`.
    pub fn new(bench: &'static str, mode: &Mode) -> Self {
        if !mode.json {
            let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
            let smoke = if mode.smoke {
                " [smoke run: tiny counts, not a measurement; use cargo bench]"
            } else {
                ""
            };
            println!("{bench}: {cpus} CPU(s){smoke}");
        }
        Self {
            bench,
            json: mode.json,
            smoke: mode.smoke,
            done: Vec::new(),
        }
    }

    /// Records (and in text mode prints) one comparison.
    pub fn push(&mut self, comparison: Comparison) {
        if !self.json {
            println!("{}", comparison.to_text());
        }
        self.done.push(comparison);
    }

    /// Prints the JSON document, in JSON mode.
    pub fn finish(self) {
        if self.json {
            let unix_time = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
            let doc = json!({
                "bench": self.bench,
                "unix_time": unix_time,
                "cpus": cpus,
                "smoke": self.smoke,
                "comparisons": self.done.iter().map(Comparison::to_json).collect::<Vec<_>>(),
            });
            println!("{doc:#}");
        }
    }
}
