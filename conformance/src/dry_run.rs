//! `check --dry-run`: the requests each selected rule would send, with the
//! placeholders of its plan filled in from the configuration.

use crate::check::CheckConfig;
use crate::rules::{Profile, Rule};
use crate::target::{CreateMethod, LocationFrom, TargetShape};

/// The requests each selected rule would send, with the collection URL filled in.
pub(crate) fn plan(config: &CheckConfig) -> String {
    let collection = config.collection_url();
    // A collection given with a trailing slash is not doubled by the template's own `/`.
    let item = |id: &str| {
        let mut shape = config.shape.clone();
        if collection.ends_with('/') {
            shape.create.url = shape.create.url.replace("{collection}/", "{collection}");
        }
        shape.item_url(&collection, id)
    };
    let resource = match (&config.shape.create.method, &config.shape.create.location) {
        // A PUT-create uses the URL the suite chose unless the answer names another.
        (CreateMethod::Put, LocationFrom::Header) | (_, LocationFrom::Template) => {
            item("<id the suite picks>")
        }
        (CreateMethod::Post, LocationFrom::Header) => item("<id from Location>"),
        (_, LocationFrom::Body(pointer)) => {
            item(&format!("<id at {pointer} in the create response>"))
        }
    };
    let fresh = item("ifmatch-conformance-<run>-<rule>-<n>");
    let create = match config.shape.create.method {
        CreateMethod::Post => None,
        CreateMethod::Put => Some(format!(
            "PUT {} with If-None-Match: * (create a test resource)",
            item("<id the suite picks>")
        )),
    };
    // Resolved with a stand-in id, so that URL parsing does not escape the placeholders.
    const STAND_IN: &str = "ifmatch-conformance-stand-in-id";
    let lock_of = |id: &str| {
        crate::rules::lock_url(
            &config.lock_path,
            &collection,
            &format!("{collection}/{STAND_IN}"),
        )
        .replace(STAND_IN, id)
    };
    let versions = crate::rules::version_placeholders(
        &crate::rules::VersionPlaces::new(
            &config.base_url,
            &config.versions_path,
            &config.api_prefixes,
        ),
        &collection,
        "<id from Location>",
        "ifmatch-conformance-<run>-<rule>-<n>",
    );
    let places = Places {
        versions,
        conflicts: config.conflicts_url(),
        batch: config.batch_url(),
        transactions: config.transactions_url(),
        lock: lock_of("<id from Location>"),
        fresh_lock: lock_of("ifmatch-conformance-<run>-<rule>-<n>"),
        collection,
        resource,
        fresh,
        create,
    };
    let locks = match (
        config.profiles.contains(&Profile::Locking),
        config.profiles.contains(&Profile::Transactions),
    ) {
        (true, true) => {
            ", releases the locks it takes and rolls back the transactions it leaves open"
        }
        (true, false) => " and releases the locks it takes",
        (false, true) => " and rolls back the transactions it leaves open",
        (false, false) => "",
    };
    let mut out = format!(
        "dry run: nothing is sent. Every rule deletes the resources it creates (DELETE with If-Match: *){locks}.\n\n"
    );
    let shape = shape_lines(&config.shape);
    if !shape.is_empty() {
        out.push_str("target shape (where it differs from the reference server):\n");
        for line in shape {
            out.push_str(&format!("  {line}\n"));
        }
        out.push('\n');
    }
    for rule in config.selected_rules() {
        describe_plan(&mut out, rule, &places);
    }
    out
}

/// What the placeholders of a rule's plan stand for in a dry run.
struct Places {
    /// The `versions` profile's placeholders and what they stand for.
    versions: Vec<(&'static str, String)>,
    conflicts: String,
    batch: String,
    transactions: String,
    collection: String,
    resource: String,
    fresh: String,
    lock: String,
    fresh_lock: String,
    /// How a test resource is created, when not by `POST {collection}`.
    create: Option<String>,
}

fn describe_plan(out: &mut String, rule: &Rule, places: &Places) {
    out.push_str(&format!("{} [{}]\n", rule.id, rule.level.as_str()));
    for step in rule.plan {
        let step = match &places.create {
            Some(put) if *step == "POST {collection} (create a test resource)" => put.as_str(),
            _ => step,
        };
        let step = places
            .versions
            .iter()
            .fold(step.to_string(), |step, (from, to)| step.replace(from, to));
        let step = step
            .replace("{collection}", &places.collection)
            .replace("{batch}", &places.batch)
            .replace("{conflicts}", &places.conflicts)
            .replace("{transactions}", &places.transactions)
            .replace("{fresh-lock}", &places.fresh_lock)
            .replace("{lock}", &places.lock)
            .replace("{resource}", &places.resource)
            .replace("{fresh}", &places.fresh);
        out.push_str(&format!("  {step}\n"));
    }
}

/// One line per setting of `shape` that is not the default, as the
/// configuration file writes it.
pub(crate) fn shape_lines(shape: &TargetShape) -> Vec<String> {
    let default = TargetShape::default();
    let (c, v, b) = (&shape.create, &shape.version, &shape.body);
    let mut lines = Vec::new();
    let mut line = |differs: bool, table: &str, key: &str, value: String| {
        if differs {
            lines.push(format!("[{table}] {key} = {value}"));
        }
    };
    let quoted = |s: &dyn std::fmt::Display| format!("{:?}", s.to_string());
    let method = match c.method {
        crate::target::CreateMethod::Post => "post",
        crate::target::CreateMethod::Put => "put",
    };
    line(
        c.method != default.create.method,
        "create",
        "method",
        quoted(&method),
    );
    line(c.url != default.create.url, "create", "url", quoted(&c.url));
    line(
        c.location != default.create.location,
        "create",
        "location",
        quoted(&c.location),
    );
    line(
        v.read != default.version.read,
        "version",
        "read",
        quoted(&v.read),
    );
    line(
        v.send != default.version.send,
        "version",
        "send",
        quoted(&v.send),
    );
    let statuses = |s: &[u16]| format!("{s:?}");
    line(
        v.stale_statuses != default.version.stale_statuses,
        "version",
        "stale-status",
        statuses(&v.stale_statuses),
    );
    line(
        b.fixture != default.body.fixture,
        "body",
        "fixture",
        serde_json::Value::Object(b.fixture.clone()).to_string(),
    );
    line(
        b.ignore != default.body.ignore,
        "body",
        "ignore",
        format!("{:?}", b.ignore),
    );
    let patch = match b.patch {
        crate::target::PatchFormat::Merge => "merge",
        crate::target::PatchFormat::JsonPatch => "json-patch",
        crate::target::PatchFormat::None => "none",
    };
    line(
        b.patch != default.body.patch,
        "body",
        "patch",
        quoted(&patch),
    );
    line(
        b.malformed_statuses != default.body.malformed_statuses,
        "body",
        "malformed-status",
        statuses(&b.malformed_statuses),
    );
    if let Some(id) = &b.missing_id {
        line(true, "body", "missing-id", quoted(id));
    }
    let format = match shape.errors.format {
        crate::target::ErrorFormat::ProblemJson => "problem+json",
        crate::target::ErrorFormat::Json => "json",
        crate::target::ErrorFormat::Any => "any",
    };
    line(
        shape.errors.format != default.errors.format,
        "errors",
        "format",
        quoted(&format),
    );
    lines
}
