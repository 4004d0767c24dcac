//! Per-host retry budget: a token bucket like the AWS SDKs' standard retry mode.
//!
//! Every host starts full. A throttle retry withdraws `cost` tokens and is refused when the bucket
//! holds fewer; every successful response deposits `refund` tokens up to the capacity. When many
//! requests to one host fail, retries stop long before the attempt limits would, so a struggling
//! server sees fewer, not more, requests.

use std::{collections::HashMap, sync::Mutex};

#[derive(Debug)]
pub(crate) struct RetryBudget {
    capacity: u32,
    cost: u32,
    refund: u32,
    tokens: Mutex<HashMap<String, u32>>,
}

impl RetryBudget {
    pub(crate) fn new(capacity: u32, cost: u32, refund: u32) -> Self {
        Self {
            capacity,
            cost,
            refund,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Takes the cost of one retry; `false` means the budget is exhausted and no retry may be sent.
    pub(crate) fn try_withdraw(&self, host: &str) -> bool {
        if self.cost == 0 {
            return true;
        }
        let mut tokens = self.lock();
        let available = tokens.entry(host.to_owned()).or_insert(self.capacity);
        if *available < self.cost {
            return false;
        }
        *available -= self.cost;
        true
    }

    /// Returns tokens after a success.
    pub(crate) fn deposit(&self, host: &str) {
        if self.cost == 0 {
            return;
        }
        let mut tokens = self.lock();
        // A host never withdrawn from is full already; avoid growing the map for it.
        if let Some(available) = tokens.get_mut(host) {
            *available = available.saturating_add(self.refund).min(self.capacity);
        }
    }

    /// Tokens left for `host` (full when never used).
    #[cfg(test)]
    pub(crate) fn available(&self, host: &str) -> u32 {
        self.lock().get(host).copied().unwrap_or(self.capacity)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        // The map holds plain integers, so a panic elsewhere cannot leave it inconsistent.
        self.tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdraws_until_empty_then_refuses() {
        let budget = RetryBudget::new(12, 5, 1);
        assert!(budget.try_withdraw("a"));
        assert!(budget.try_withdraw("a"));
        assert_eq!(budget.available("a"), 2);
        assert!(!budget.try_withdraw("a"));
        assert_eq!(budget.available("a"), 2);
    }

    #[test]
    fn hosts_have_separate_buckets() {
        let budget = RetryBudget::new(5, 5, 1);
        assert!(budget.try_withdraw("a"));
        assert!(!budget.try_withdraw("a"));
        assert!(budget.try_withdraw("b"));
    }

    #[test]
    fn successes_refill_up_to_capacity() {
        let budget = RetryBudget::new(10, 5, 1);
        assert!(budget.try_withdraw("a"));
        for _ in 0..20 {
            budget.deposit("a");
        }
        assert_eq!(budget.available("a"), 10);
    }

    #[test]
    fn default_aws_numbers_allow_100_retries() {
        let budget = RetryBudget::new(500, 5, 1);
        let granted = (0..200).filter(|_| budget.try_withdraw("h")).count();
        assert_eq!(granted, 100);
    }

    #[test]
    fn zero_cost_disables_the_budget() {
        let budget = RetryBudget::new(0, 0, 0);
        assert!((0..1000).all(|_| budget.try_withdraw("h")));
    }
}
