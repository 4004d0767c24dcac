//! `check --dry-run`: the requests each selected rule would send, with the
//! placeholders of its plan filled in from the configuration.

use crate::check::CheckConfig;
use crate::rules::{Profile, Rule};

/// The requests each selected rule would send, with the collection URL filled in.
pub(crate) fn plan(config: &CheckConfig) -> String {
    let collection = config.collection_url();
    let resource = format!("{collection}/<id from Location>");
    let fresh = format!("{collection}/ifmatch-conformance-<run>-<rule>-<n>");
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
}

fn describe_plan(out: &mut String, rule: &Rule, places: &Places) {
    out.push_str(&format!("{} [{}]\n", rule.id, rule.level.as_str()));
    for step in rule.plan {
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
