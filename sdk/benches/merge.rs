//! Cost of the pure three-way merge (`ifmatch::merge::three_way`) on typical documents, against
//! cloning and serializing the same document, which every write pays anyway. The `merge_size_*`
//! comparisons show the cost against document size (1 KB, 100 KB, 1 MB) next to the usual
//! alternative: the `json-patch` crate's `diff(base, mine)` applied to theirs.
//!
//! Run with `cargo bench -p ifmatch --bench merge` (`-- --json` for machine-readable output,
//! `-- <name>` to run only comparisons whose name contains it).

mod support;

use std::hint::black_box;

use ifmatch::merge::three_way;
use serde_json::{json, Map, Value};
use support::{compare_sync, Comparison, Mode, Output, Plan, Row};

/// A common base and two sides with disjoint edits, so the merge succeeds.
struct Case {
    name: &'static str,
    title: &'static str,
    base: Value,
    mine: Value,
    theirs: Value,
    /// Calls per timed sample, so one sample lasts well above the clock's resolution.
    batch: u32,
    /// Also time `json_patch::diff(base, mine)` applied to a copy of theirs.
    with_json_patch: bool,
}

fn small() -> Case {
    let base = json!({
        "title": "Quarterly report", "body": "Draft text of the report.", "status": "draft",
        "n": 3, "tags": ["finance", "q3"], "published": false,
        "owner": {"id": 42, "name": "Ann", "email": "ann@example.com"},
        "reviewers": [{"id": 7, "name": "Bo"}], "updated": "2026-11-28T10:00:00Z", "version": 3
    });
    let mut mine = base.clone();
    mine["title"] = "Quarterly report (final)".into();
    mine["tags"] = json!(["finance", "q3", "final"]);
    let mut theirs = base.clone();
    theirs["owner"]["email"] = "ann@corp.example".into();
    theirs["n"] = 4.into();
    Case {
        name: "merge_small",
        title: "three_way() of a 10-member document, 2 edits per side",
        base,
        mine,
        theirs,
        batch: 200,
        with_json_patch: false,
    }
}

fn wide() -> Case {
    let base: Map<String, Value> = (0..1000)
        .map(|i| (format!("key{i:04}"), json!(i)))
        .collect();
    let base = Value::Object(base);
    let (mut mine, mut theirs) = (base.clone(), base.clone());
    for i in 0..10 {
        mine[format!("key{:04}", i * 7)] = json!(-1);
        theirs[format!("key{:04}", 500 + i * 7)] = json!(-2);
    }
    theirs["added"] = json!(true);
    Case {
        name: "merge_wide",
        title: "three_way() of a 1000-member object, 10 edits per side",
        base,
        mine,
        theirs,
        batch: 10,
        with_json_patch: false,
    }
}

fn nested() -> Case {
    let record = |i: usize| {
        json!({"id": i, "name": format!("record {i}"), "active": true, "score": i * 3,
               "tags": ["a", "b"], "meta": {"created": "2026-01-01", "rev": 1}})
    };
    let base: Map<String, Value> = (0..200).map(|i| (format!("r{i}"), record(i))).collect();
    let base = Value::Object(base);
    let (mut mine, mut theirs) = (base.clone(), base.clone());
    for i in 0..5 {
        mine[format!("r{}", i * 11)]["meta"]["rev"] = json!(2);
        theirs[format!("r{}", 100 + i * 11)]["name"] = json!("renamed");
    }
    Case {
        name: "merge_nested",
        title: "three_way() of 200 nested records, 5 deep edits per side",
        base,
        mine,
        theirs,
        batch: 10,
        with_json_patch: false,
    }
}

/// A document of about `kib` KiB (records like `nested`'s), with four deep edits per side spread
/// over it and one member added by theirs: the same change at every size.
fn sized(name: &'static str, kib: usize, batch: u32) -> Case {
    let record = |i: usize| {
        json!({"id": i, "name": format!("record {i}"), "active": true, "score": i * 3,
               "tags": ["a", "b"], "meta": {"created": "2026-01-01", "rev": 1}})
    };
    // One record is about 115 bytes as JSON.
    let records = (kib * 1024 / 115).max(8);
    let base: Map<String, Value> = (0..records)
        .map(|i| (format!("r{i:05}"), record(i)))
        .collect();
    let base = Value::Object(base);
    let (mut mine, mut theirs) = (base.clone(), base.clone());
    let step = records / 8;
    for i in 0..4 {
        mine[format!("r{:05}", 2 * i * step)]["meta"]["rev"] = json!(2);
        theirs[format!("r{:05}", (2 * i + 1) * step)]["name"] = json!("renamed");
    }
    theirs["added"] = json!(true);
    Case {
        name,
        title: "three_way() of nested records, 4 deep edits per side",
        base,
        mine,
        theirs,
        batch,
        with_json_patch: true,
    }
}

/// The alternative to a three-way merge: my edits as an RFC 6902 patch, replayed on theirs.
fn diff_and_apply(case: &Case) -> Result<Value, String> {
    let patch = json_patch::diff(&case.base, &case.mine);
    let mut doc = case.theirs.clone();
    json_patch::patch(&mut doc, &patch).map_err(|e| format!("{}: {e}", case.name))?;
    Ok(doc)
}

fn run(case: &Case, plan: Plan) -> Result<Comparison, String> {
    let merged = three_way(&case.base, &case.mine, &case.theirs)
        .map_err(|paths| format!("{}: the sides' edits overlap at {paths:?}", case.name))?;
    if merged == case.mine || merged == case.theirs {
        return Err(format!("{}: the merge dropped one side's edits", case.name));
    }
    if case.with_json_patch && diff_and_apply(case)? != merged {
        return Err(format!(
            "{}: diff + apply disagrees with three_way",
            case.name
        ));
    }
    let bytes = serde_json::to_vec(&case.mine)
        .map_err(|e| e.to_string())?
        .len();
    let cases = if case.with_json_patch { 3 } else { 2 };
    let summaries = compare_sync(plan, cases, case.batch, |which| match which {
        0 => {
            let copy = black_box(&case.mine).clone();
            black_box(serde_json::to_vec(&copy).map(|v| v.len()).unwrap_or(0));
        }
        1 => {
            let out = three_way(black_box(&case.base), black_box(&case.mine), &case.theirs);
            black_box(out.is_ok());
        }
        _ => {
            black_box(diff_and_apply(black_box(case)).is_ok());
        }
    });
    let mut measured = vec![Row::latency(
        "merge::three_way(base, mine, theirs)",
        &summaries[1],
    )];
    if case.with_json_patch {
        measured.push(Row::latency(
            "json_patch::diff(base, mine) + patch(theirs clone)",
            &summaries[2],
        ));
    }
    Ok(Comparison {
        name: case.name,
        title: format!("{} ({bytes} bytes as JSON)", case.title),
        samples: plan.samples(),
        baseline: Row::latency("clone + serde_json::to_vec of my document", &summaries[0]),
        measured,
    })
}

fn main() -> Result<(), String> {
    let mode = Mode::from_env();
    let plan = Plan {
        warmup: 20,
        rounds: 10,
        per_round: 30,
    }
    .or_smoke(&mode);
    let mut out = Output::new("merge", &mode);
    let cases = [
        small(),
        wide(),
        nested(),
        sized("merge_size_1k", 1, 200),
        sized("merge_size_100k", 100, 2),
        sized("merge_size_1m", 1024, 1),
    ];
    for case in cases {
        if mode.selects(case.name) {
            out.push(run(&case, plan)?);
        }
    }
    out.finish();
    Ok(())
}
