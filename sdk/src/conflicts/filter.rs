//! Which conflicts a list or a subscription is about.

use super::ConflictState;

/// Selects conflicts by document and state, for [`crate::Conflicts::list`] and
/// [`crate::Conflicts::subscribe`]. A record matches when it matches any resource or prefix
/// given (all, when none is) and the state (any, when none is).
///
/// Paths are the server's (`/items/doc`, unprefixed by API version), as records name them.
///
/// ```
/// use ifmatch::{ConflictFilter, ConflictState};
///
/// let filter = ConflictFilter::new()
///     .resource("/items/doc")
///     .prefix("/items/orders-")
///     .state(ConflictState::Open);
/// assert_eq!(filter.resources(), ["/items/doc"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConflictFilter {
    resources: Vec<String>,
    prefixes: Vec<String>,
    state: Option<ConflictState>,
}

impl ConflictFilter {
    /// Every conflict.
    pub fn new() -> Self {
        Self::default()
    }

    /// Conflicts of this document (repeatable).
    pub fn resource(mut self, path: impl Into<String>) -> Self {
        self.resources.push(path.into());
        self
    }

    /// Conflicts of documents whose path starts with `prefix` (repeatable).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Only open, or only resolved, conflicts.
    pub fn state(mut self, state: ConflictState) -> Self {
        self.state = Some(state);
        self
    }

    /// The documents named.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// The prefixes named.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// The state asked for.
    pub fn state_filter(&self) -> Option<ConflictState> {
        self.state
    }

    /// The query parameters, in the order the server documents them.
    pub(crate) fn query(&self) -> Vec<(String, String)> {
        let resources = self.resources.iter().map(|r| ("resource", r));
        let prefixes = self.prefixes.iter().map(|p| ("prefix", p));
        let mut query: Vec<(String, String)> = resources
            .chain(prefixes)
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        if let Some(state) = self.state {
            query.push(("state".into(), state.as_str().into()));
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_repeats_resources_and_prefixes() {
        let filter = ConflictFilter::new()
            .resource("/items/a")
            .resource("/items/b")
            .prefix("/items/x-")
            .state(ConflictState::Resolved);
        let pairs: Vec<_> = filter
            .query()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            pairs,
            [
                "resource=/items/a",
                "resource=/items/b",
                "prefix=/items/x-",
                "state=resolved"
            ]
        );
        assert!(ConflictFilter::new().query().is_empty());
    }
}
