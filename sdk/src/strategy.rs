//! What `update()` does when its write loses a version race.

use std::{fmt, sync::Arc};

use serde_json::Value;

use crate::{
    merge::{self, Resolution},
    rt::{MaybeSend, MaybeSync},
    EntityTag,
};

/// The conflict a strategy decides about: the state the change was made on (`base`), the
/// document that was refused (`mine`) and the server's current one (`theirs`).
#[derive(Debug)]
#[non_exhaustive]
pub struct ConflictContext<'a> {
    /// The state the refused write was computed from.
    pub base: &'a Value,
    /// The refused document.
    pub mine: &'a Value,
    /// The server's current document.
    pub theirs: &'a Value,
    /// The server's current ETag.
    pub theirs_etag: Option<&'a EntityTag>,
    /// 412 or 409.
    pub status: http::StatusCode,
    /// Writes sent so far in this update.
    pub attempt: u32,
}

/// A custom strategy's answer.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Write this document, conditioned on `theirs`' ETag.
    Write(Value),
    /// Run the change closure again on `theirs` and write the result.
    Reapply,
    /// Stop with [`crate::Error::Aborted`] carrying `theirs`.
    Abort,
    /// Stop with the refusal itself ([`crate::Error::Conflict`]): hand the conflict to the
    /// manual flow (its [`crate::Error::conflict_id`] names the server's record of it).
    Escalate,
}

/// A user-defined conflict strategy; any `Fn(&ConflictContext) -> Decision` is one.
///
/// ```
/// use ifmatch::{ConflictContext, Decision, Strategy};
///
/// // Keep the server's version when it already has a "locked" flag, otherwise re-apply.
/// let strategy = Strategy::custom(|c: &ConflictContext<'_>| {
///     if c.theirs["locked"] == true { Decision::Abort } else { Decision::Reapply }
/// });
/// assert_eq!(strategy.name(), "custom");
/// ```
pub trait ConflictStrategy: MaybeSend + MaybeSync + 'static {
    /// Decides what to write after a version conflict.
    fn resolve(&self, conflict: &ConflictContext<'_>) -> Decision;
}

impl<F> ConflictStrategy for F
where
    F: Fn(&ConflictContext<'_>) -> Decision + MaybeSend + MaybeSync + 'static,
{
    fn resolve(&self, conflict: &ConflictContext<'_>) -> Decision {
        self(conflict)
    }
}

/// Object-safe form of a path resolver closure, so it can be `!Send` on wasm32.
trait PathResolver: MaybeSend + MaybeSync {
    fn resolve(
        &self,
        path: &str,
        base: Option<&Value>,
        mine: Option<&Value>,
        theirs: Option<&Value>,
    ) -> Resolution;
}

impl<F> PathResolver for F
where
    F: Fn(&str, Option<&Value>, Option<&Value>, Option<&Value>) -> Resolution
        + MaybeSend
        + MaybeSync,
{
    fn resolve(
        &self,
        path: &str,
        base: Option<&Value>,
        mine: Option<&Value>,
        theirs: Option<&Value>,
    ) -> Resolution {
        self(path, base, mine, theirs)
    }
}

/// How `update()` recovers from a version conflict. See `docs/strategies.md`.
///
/// # Default
/// [`Strategy::Reapply`]: correct for any change that is a function of the current state.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Run the change closure again on the fresh state and write that (like client-go's
    /// `RetryOnConflict`). Never loses the other writer's update.
    #[default]
    Reapply,
    /// Merge my edit and theirs against the common base; overlapping edits fail the update
    /// with [`crate::Error::MergeConflict`] listing their JSON paths.
    ThreeWayMerge,
    /// Three-way merge that hands overlapping edits to a resolver; see [`Strategy::three_way_merge_with`].
    ThreeWayMergeWith(MergeResolver),
    /// Re-read only the ETag and write my document over theirs. Lossy: the other writer's
    /// update is discarded. Use only when the last writer is right by definition.
    LastWriteWins,
    /// Stop at the first conflict with [`crate::Error::Aborted`] carrying the current state.
    Abort,
    /// No automatic recovery: the first refused write ends the update with that refusal
    /// ([`crate::Error::Conflict`], not re-read), whose [`crate::Error::conflict_id`] names the
    /// record a server of the reference shape kept of it. Hand it to the manual flow: a person
    /// or a job resolves it later with [`crate::Conflicts::resolve`], and subscribers see it
    /// resolved. (The other strategies' final error after the last allowed write carries the
    /// id too.) See "Conflict notifications" in `docs/sdk.md`.
    Escalate,
    /// A user-defined strategy; see [`Strategy::custom`].
    Custom(CustomStrategy),
}

/// A path resolver inside [`Strategy::ThreeWayMergeWith`].
#[derive(Clone)]
pub struct MergeResolver(Arc<dyn PathResolver>);

/// A user strategy inside [`Strategy::Custom`].
#[derive(Clone)]
pub struct CustomStrategy(Arc<dyn ConflictStrategy>);

impl Strategy {
    /// Three-way merge with `resolve(path, base, mine, theirs)` settling overlapping edits.
    ///
    /// ```
    /// use ifmatch::{merge::Resolution, Strategy};
    ///
    /// // Counters merge by adding both sides' increments; anything else keeps the server's value.
    /// let strategy = Strategy::three_way_merge_with(|path, base, mine, theirs| match path {
    ///     "/n" => {
    ///         let n = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_i64()).unwrap_or(0);
    ///         Resolution::Use((n(theirs) + n(mine) - n(base)).into())
    ///     }
    ///     _ => Resolution::Theirs,
    /// });
    /// assert_eq!(strategy.name(), "three_way_merge");
    /// ```
    pub fn three_way_merge_with<F>(resolve: F) -> Self
    where
        F: Fn(&str, Option<&Value>, Option<&Value>, Option<&Value>) -> Resolution
            + MaybeSend
            + MaybeSync
            + 'static,
    {
        Self::ThreeWayMergeWith(MergeResolver(Arc::new(resolve)))
    }

    /// A user-defined strategy (a type implementing [`ConflictStrategy`], or a closure).
    pub fn custom(strategy: impl ConflictStrategy) -> Self {
        Self::Custom(CustomStrategy(Arc::new(strategy)))
    }

    /// A stable name for events and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Reapply => "reapply",
            Self::ThreeWayMerge | Self::ThreeWayMergeWith(_) => "three_way_merge",
            Self::LastWriteWins => "last_write_wins",
            Self::Abort => "abort",
            Self::Escalate => "escalate",
            Self::Custom(_) => "custom",
        }
    }

    /// Whether the strategy needs the server's current body (all but last-write-wins do).
    pub(crate) fn needs_body(&self) -> bool {
        !matches!(self, Self::LastWriteWins)
    }

    /// Decides the next step; the pure part of conflict recovery.
    pub(crate) fn decide(&self, c: &ConflictContext<'_>) -> Step {
        match self {
            Self::Reapply => Step::Reapply,
            Self::ThreeWayMerge => merged(merge::three_way(c.base, c.mine, c.theirs)),
            Self::ThreeWayMergeWith(MergeResolver(resolve)) => merged(merge::three_way_with(
                c.base,
                c.mine,
                c.theirs,
                |p, b, m, t| resolve.resolve(p, b, m, t),
            )),
            Self::LastWriteWins => Step::Overwrite,
            Self::Abort => Step::Abort,
            Self::Escalate => Step::Escalate,
            Self::Custom(CustomStrategy(s)) => match s.resolve(c) {
                Decision::Write(value) => Step::Write(value),
                Decision::Reapply => Step::Reapply,
                Decision::Abort => Step::Abort,
                Decision::Escalate => Step::Escalate,
            },
        }
    }
}

fn merged(result: Result<Value, Vec<String>>) -> Step {
    match result {
        Ok(value) => Step::Merged(value),
        Err(paths) => Step::MergeFailed(paths),
    }
}

/// The next step of an update after a conflict.
#[derive(Debug, PartialEq)]
pub(crate) enum Step {
    Reapply,
    Merged(Value),
    MergeFailed(Vec<String>),
    Overwrite,
    Write(Value),
    Abort,
    Escalate,
}

impl fmt::Debug for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for MergeResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MergeResolver(..)")
    }
}

impl fmt::Debug for CustomStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomStrategy(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx<'a>(base: &'a Value, mine: &'a Value, theirs: &'a Value) -> ConflictContext<'a> {
        ConflictContext {
            base,
            mine,
            theirs,
            theirs_etag: None,
            status: http::StatusCode::PRECONDITION_FAILED,
            attempt: 1,
        }
    }

    #[test]
    fn builtin_strategies_map_to_steps() {
        let (b, m, t) = (
            json!({"a": 1, "b": 1}),
            json!({"a": 2, "b": 1}),
            json!({"a": 1, "b": 2}),
        );
        let c = ctx(&b, &m, &t);
        assert_eq!(Strategy::Reapply.decide(&c), Step::Reapply);
        assert_eq!(
            Strategy::ThreeWayMerge.decide(&c),
            Step::Merged(json!({"a": 2, "b": 2}))
        );
        assert_eq!(Strategy::LastWriteWins.decide(&c), Step::Overwrite);
        assert_eq!(Strategy::Abort.decide(&c), Step::Abort);
        assert_eq!(Strategy::Escalate.decide(&c), Step::Escalate);
        assert_eq!(Strategy::Escalate.name(), "escalate");
    }

    #[test]
    fn overlapping_merge_reports_paths() {
        let (b, m, t) = (json!({"a": 1}), json!({"a": 2}), json!({"a": 3}));
        assert_eq!(
            Strategy::ThreeWayMerge.decide(&ctx(&b, &m, &t)),
            Step::MergeFailed(vec!["/a".into()])
        );
    }

    #[test]
    fn custom_closure_decides() {
        let s = Strategy::custom(|c: &ConflictContext<'_>| Decision::Write(c.theirs.clone()));
        let (b, m, t) = (json!(1), json!(2), json!(3));
        assert_eq!(s.decide(&ctx(&b, &m, &t)), Step::Write(json!(3)));
    }

    #[test]
    fn default_strategy_is_reapply() {
        assert_eq!(Strategy::default().name(), "reapply");
    }
}
