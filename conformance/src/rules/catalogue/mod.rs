//! Every rule, in the order the runner checks them. IDs are stable: reports,
//! CI filters and docs/contract.md refer to them.
//!
//! Each profile's rules live in their own list; [`CATALOGUE`] joins them at compile
//! time: core (its lists and weak-comparison rules last), errors, require-preconditions, locking,
//! transactions, versions, notifications, idempotency, and rate-limit last (its burst must not disturb the
//! others).

mod core_lists;
mod core_rules;
mod errors;
mod idempotency;
mod optional;

use core_lists::CORE_LISTS;
use core_rules::CORE;
use errors::ERRORS;
use idempotency::IDEMPOTENCY;
use optional::{RATE_LIMIT, REQUIRE_PRECONDITIONS};

use super::locking::RULES as LOCKING;
use super::notifications::RULES as NOTIFICATIONS;
use super::transactions::RULES as TRANSACTIONS;
use super::versions::RULES as VERSIONS;
use super::Rule;

pub(super) const CREATE: &str = "POST {collection} (create a test resource)";
pub(super) const READ: &str = "GET {resource} (read the ETag and body)";
pub(super) const REREAD: &str = "GET {resource} (re-read: judge by state)";
pub(super) const WRITE_CURRENT: &str = "PUT {resource} with If-Match: <current ETag>";
pub(super) const CURRENT_PUT: &str = "core.if-match.current-put";
pub(super) const CURRENT_PATCH: &str = "core.if-match.current-patch";
pub(super) const STRONG: &str = "core.etag.strong-on-get";
pub(super) const STALE_SETUP: [&str; 4] = [CREATE, READ, WRITE_CURRENT, REREAD];

const PARTS: [&[Rule]; 10] = [
    &CORE,
    &CORE_LISTS,
    &ERRORS,
    &REQUIRE_PRECONDITIONS,
    &LOCKING,
    &TRANSACTIONS,
    &VERSIONS,
    &NOTIFICATIONS,
    &IDEMPOTENCY,
    &RATE_LIMIT,
];
const COUNT: usize = CORE.len()
    + CORE_LISTS.len()
    + ERRORS.len()
    + REQUIRE_PRECONDITIONS.len()
    + LOCKING.len()
    + TRANSACTIONS.len()
    + VERSIONS.len()
    + NOTIFICATIONS.len()
    + IDEMPOTENCY.len()
    + RATE_LIMIT.len();
const ALL: [Rule; COUNT] = join(&PARTS);

/// The rule catalogue.
pub static CATALOGUE: &[Rule] = &ALL;

/// The rules of `parts`, one list after the other, as one array.
const fn join<const N: usize>(parts: &[&[Rule]]) -> [Rule; N] {
    let mut out = [parts[0][0]; N];
    let (mut part, mut at) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            out[at] = parts[part][i];
            (i, at) = (i + 1, at + 1);
        }
        part += 1;
    }
    assert!(at == N, "the catalogue's length is the sum of its parts");
    out
}

#[cfg(test)]
mod tests {
    use super::super::Profile;
    use super::*;

    #[test]
    fn ids_are_unique_and_requirements_precede_their_rules() {
        for (i, rule) in CATALOGUE.iter().enumerate() {
            assert!(
                CATALOGUE[..i].iter().all(|r| r.id != rule.id),
                "duplicate rule ID {}",
                rule.id
            );
            for needed in rule.requires {
                assert!(
                    CATALOGUE[..i].iter().any(|r| r.id == *needed),
                    "{} requires {needed}, which must come earlier",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn ids_start_with_their_profile() {
        for rule in CATALOGUE {
            assert!(
                rule.id.starts_with(&format!("{}.", rule.profile.as_str())),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn profiles_follow_each_other_in_the_documented_order() {
        let mut order: Vec<Profile> = CATALOGUE.iter().map(|r| r.profile).collect();
        order.dedup();
        assert_eq!(order, Profile::ALL);
    }

    #[test]
    fn at_least_25_core_rules() {
        assert!(
            CATALOGUE
                .iter()
                .filter(|r| r.profile == Profile::Core)
                .count()
                >= 25
        );
    }
}
