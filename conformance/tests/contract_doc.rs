//! docs/contract.md and the rule catalogue must agree: every rule ID in one is
//! in the other, with the same level and profile.

use std::collections::BTreeMap;

use ifmatch_conformance::rules::CATALOGUE;

/// (level, profile) per rule ID, read from `### `id`` headings and the
/// `- **Level:**` / `- **Profile:**` lines under them.
fn documented_rules() -> BTreeMap<String, (String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/contract.md");
    let text = std::fs::read_to_string(path).expect("docs/contract.md exists");
    let mut rules = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(id) = line
            .strip_prefix("### `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            assert!(
                rules
                    .insert(id.to_owned(), (String::new(), String::new()))
                    .is_none(),
                "{id} documented twice"
            );
            current = Some(id.to_owned());
        } else if let (Some(id), Some(level)) = (&current, line.strip_prefix("- **Level:** ")) {
            rules.get_mut(id).unwrap().0 = level.trim().to_owned();
        } else if let (Some(id), Some(profile)) = (&current, line.strip_prefix("- **Profile:** ")) {
            rules.get_mut(id).unwrap().1 =
                profile.split_whitespace().next().unwrap_or("").to_owned();
        }
    }
    rules
}

#[test]
fn every_catalogue_rule_is_documented_with_its_level_and_profile() {
    let documented = documented_rules();
    for rule in CATALOGUE {
        let (level, profile) = documented
            .get(rule.id)
            .unwrap_or_else(|| panic!("{} is missing from docs/contract.md", rule.id));
        assert_eq!(level, rule.level.as_str(), "level of {}", rule.id);
        assert_eq!(profile, rule.profile.as_str(), "profile of {}", rule.id);
    }
}

#[test]
fn every_documented_rule_is_in_the_catalogue() {
    for id in documented_rules().keys() {
        assert!(
            CATALOGUE.iter().any(|r| r.id == id),
            "docs/contract.md documents {id}, which the suite does not check"
        );
    }
}

#[test]
fn every_profile_has_documented_rules_and_no_draft_is_left() {
    let documented = documented_rules();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/contract.md"))
        .unwrap();
    for profile in ifmatch_conformance::rules::Profile::ALL {
        assert!(
            documented.values().any(|(_, p)| p == profile.as_str()),
            "no rule of profile {} is documented",
            profile.as_str()
        );
        assert!(
            text.contains(&format!("## Profile `{}`", profile.as_str()))
                || profile == ifmatch_conformance::rules::Profile::Core,
            "profile {} has no section",
            profile.as_str()
        );
    }
    assert!(
        !text.contains("Draft profile"),
        "a draft profile is left in docs/contract.md; its rules are checked now"
    );
}

#[test]
fn contract_lists_every_problem_type() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/contract.md"))
        .unwrap();
    for kind in [
        "precondition-failed",
        "version-conflict",
        "precondition-required",
        "not-found",
        "malformed-body",
        "invalid-header",
        "unsupported-media-type",
        "payload-too-large",
        "method-not-allowed",
        "rate-limited",
        "locked",
        "lock-token-invalid",
        "lock-queue-full",
        "invalid-query",
        "internal",
    ] {
        assert!(
            text.contains(&format!("`urn:ifmatch:problem:{kind}`")),
            "{kind} missing"
        );
    }
}
