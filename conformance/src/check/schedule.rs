//! Which rules may run at the same time.
//!
//! Every rule works on resources of its own (named after the run token and the rule), so
//! independent rules run concurrently, at most [`PARALLEL_RULES`] at once. Verdicts are the
//! ones a serial run gives: a rule starts only after the earlier rules it names as
//! prerequisites have finished, and the report keeps catalogue order. The `rate-limit` rules
//! drain the server's request budget, so they run one at a time, and after every other rule
//! unless they have a server of their own ([`CheckConfig::rate_limit_base_url`]).
//!
//! One thing rules do share: the id a target declares as naming no resource (`[body]
//! missing-id`), which some rules probe and one briefly creates. A run with a declared missing
//! id therefore runs its rules one at a time, in catalogue order, as before.

use std::io::Write;

use crate::check::{CheckConfig, SetupError};
use crate::http::Probe;
use crate::report::Outcome;
use crate::rules::{Profile, Rule};

/// Most rules in flight at once: enough to overlap the rules that wait out a lock or a
/// transaction expiry, few enough that a small server is not flooded.
pub const PARALLEL_RULES: usize = 8;

/// How many rules may be in flight for `config`: [`CheckConfig::parallel_rules`] (at least
/// 1), or 1 when the target declares a missing id that several rules use.
pub fn parallelism(config: &CheckConfig) -> usize {
    if config.shape.body.missing_id.is_some() {
        1
    } else {
        config.parallel_rules.max(1)
    }
}

/// Whether `rules[i]` may start now; `finished(j)` says whether `rules[j]` has finished.
/// Only earlier rules are waited for (the serial order), so the schedule cannot deadlock.
pub(super) fn may_start(
    rules: &[&'static Rule],
    i: usize,
    config: &CheckConfig,
    finished: impl Fn(usize) -> bool,
) -> bool {
    let rule = rules[i];
    let separate = config.rate_limit_base_url.is_some();
    let waits_for = |other: &Rule| {
        rule.requires.contains(&other.id)
            || match (rule.profile, other.profile) {
                (Profile::RateLimit, Profile::RateLimit) => true,
                // A shared server: the rate-limit rules start after everything before them,
                // and nothing after them starts while they drain the budget.
                (Profile::RateLimit, _) | (_, Profile::RateLimit) => !separate,
                _ => false,
            }
    };
    (0..i).all(|j| !waits_for(rules[j]) || finished(j))
}

/// Runs `rules` as [`may_start`] allows, at most [`parallelism`] at a time, and returns their
/// outcomes in the order of `rules`; `progress` gets each rule's line in that order.
pub(super) async fn run_rules(
    rules: &[&'static Rule],
    probe: &Probe,
    config: &CheckConfig,
    mut progress: Option<&mut dyn Write>,
) -> Result<Vec<Outcome>, SetupError> {
    let shared = std::sync::Arc::new(config.clone());
    let mut outcomes: Vec<Option<Outcome>> = vec![None; rules.len()];
    let mut launched = vec![false; rules.len()];
    let mut running = tokio::task::JoinSet::new();
    let mut printed = 0;
    let parallelism = parallelism(config);
    // On a server of their own the rate-limit rules are the longest chain (they wait out a
    // `Retry-After`), so they are offered a slot first; everything else in catalogue order.
    let separate = config.rate_limit_base_url.is_some();
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| !(separate && rules[i].profile == Profile::RateLimit));
    loop {
        for &i in &order {
            if running.len() >= parallelism {
                break;
            }
            if launched[i] || !may_start(rules, i, config, |j| outcomes[j].is_some()) {
                continue;
            }
            launched[i] = true;
            let rule = rules[i];
            let prerequisites: Vec<Outcome> = outcomes[..i]
                .iter()
                .flatten()
                .filter(|o| rule.requires.contains(&o.id.as_str()))
                .cloned()
                .collect();
            let (probe, config) = (probe.clone(), shared.clone());
            running.spawn(async move {
                (
                    i,
                    super::run_rule(rule, &probe, &config, &prerequisites).await,
                )
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, outcome) = match joined {
            Ok(done) => done,
            // A rule that panicked panics the run, as it did when rules ran inline.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => return Err(SetupError(format!("a rule's task was cancelled: {e}"))),
        };
        outcomes[i] = Some(outcome);
        while let Some(Some(done)) = outcomes.get(printed) {
            if let Some(out) = progress.as_deref_mut() {
                let _ = writeln!(
                    out,
                    "[{:>2}/{}] {:<10} {}",
                    printed + 1,
                    rules.len(),
                    done.verdict.as_str(),
                    done.id
                );
            }
            printed += 1;
        }
    }
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    if outcomes.len() != rules.len() {
        return Err(SetupError(format!(
            "only {} of {} rules were run: the schedule left some waiting",
            outcomes.len(),
            rules.len()
        )));
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::CATALOGUE;

    fn all_profiles(separate: bool) -> (Vec<&'static Rule>, CheckConfig) {
        let mut config = CheckConfig::new("http://127.0.0.1:1");
        config.profiles = crate::rules::Profile::ALL.to_vec();
        config.rate_limit_base_url = separate.then(|| "http://127.0.0.1:2".to_owned());
        (config.selected_rules(), config)
    }

    #[test]
    fn a_declared_missing_id_makes_the_run_serial() {
        let mut config = CheckConfig::new("http://127.0.0.1:1");
        assert_eq!(parallelism(&config), PARALLEL_RULES);
        config.shape.body.missing_id = Some("999".into());
        assert_eq!(parallelism(&config), 1);
        config.shape.body.missing_id = None;
        config.parallel_rules = 0;
        assert_eq!(parallelism(&config), 1);
    }

    #[test]
    fn prerequisites_hold_back_their_dependants_only() {
        let (rules, config) = all_profiles(true);
        let dependant = rules.iter().position(|r| !r.requires.is_empty()).unwrap();
        assert!(!may_start(&rules, dependant, &config, |_| false));
        assert!(may_start(&rules, dependant, &config, |_| true));
        let free = rules
            .iter()
            .position(|r| r.requires.is_empty() && r.profile != Profile::RateLimit)
            .unwrap();
        let last_free = rules
            .iter()
            .rposition(|r| r.requires.is_empty() && r.profile != Profile::RateLimit)
            .unwrap();
        assert!(may_start(&rules, free, &config, |_| false));
        assert!(may_start(&rules, last_free, &config, |_| false));
    }

    #[test]
    fn rate_limit_rules_run_alone_last_on_a_shared_server() {
        let (rules, config) = all_profiles(false);
        let first = rules
            .iter()
            .position(|r| r.profile == Profile::RateLimit)
            .unwrap();
        // Waits for every earlier rule, whatever its profile.
        assert!(!may_start(&rules, first, &config, |j| j != 0));
        assert!(may_start(&rules, first, &config, |_| true));
        let second = first + 1;
        assert_eq!(rules[second].profile, Profile::RateLimit);
        assert!(!may_start(&rules, second, &config, |j| j != first));
    }

    #[test]
    fn rate_limit_rules_overlap_the_others_on_a_server_of_their_own() {
        let (rules, config) = all_profiles(true);
        let first = rules
            .iter()
            .position(|r| r.profile == Profile::RateLimit)
            .unwrap();
        assert!(may_start(&rules, first, &config, |_| false));
        // One at a time among themselves.
        assert!(!may_start(&rules, first + 1, &config, |j| j != first));
        assert_eq!(
            CATALOGUE.last().map(|r| r.profile),
            Some(Profile::RateLimit)
        );
    }
}
