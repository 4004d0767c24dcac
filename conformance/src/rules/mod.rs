//! The rule catalogue and the checks behind it.
//!
//! Each rule has a stable ID, a level, a profile, the RFC section it rests on,
//! the requests it plans to send, and an async check that judges the server by
//! what it answers *and* by re-reading state afterwards.

/// Defines a check: an async block over `cx` boxed into a [`CheckFn`].
macro_rules! check {
    ($(#[$meta:meta])* $name:ident, |$cx:ident| $body:block) => {
        $(#[$meta])*
        pub(super) fn $name(
            $cx: &crate::rules::Cx,
        ) -> crate::rules::BoxFuture<'_, Result<crate::rules::Finding, crate::rules::Abort>> {
            Box::pin(async move $body)
        }
    };
}

mod bad_input;
mod catalogue;
mod concurrency;
mod conditional_get;
mod context;
mod create;
mod etag;
mod idempotency;
mod if_match;
mod if_none_match;
mod locking;
mod notifications;
mod precedence;
mod problem;
mod put_create;
mod rate_limit;
mod representation;
mod require;
mod tag_lists;
mod transactions;
mod urls;
mod versions;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

pub use catalogue::CATALOGUE;
pub use context::{Abort, Cx, Fixture, Version, Write};
pub use notifications::{
    Identity, NotifyConfig, ADMIN_TOKEN_ENV, DEFAULT_CONFLICTS_PATH, DEFAULT_SSE_WAIT,
    OTHER_TOKEN_ENV, TOKEN_ENV,
};
pub use transactions::{DEFAULT_BATCH_PATH, DEFAULT_TRANSACTIONS_PATH, TRANSACTION_HEADER};
pub use urls::{break_url, lock_url, resolve, DEFAULT_LOCK_PATH};
pub(crate) use versions::placeholders as version_placeholders;
pub use versions::{
    ApiPrefixes, Places as VersionPlaces, API_VERSION_HEADER, DEFAULT_VERSIONS_PATH,
};

use crate::http::Exchange;

/// How binding a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Breaking it fails the run (exit status 1).
    Must,
    /// Breaking it is a warning.
    Should,
    /// Reports a fact; never fails.
    Info,
}

impl Level {
    /// `MUST`, `SHOULD` or `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Info => "INFO",
        }
    }
}

/// A named group of rules selected with `--profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The conflict contract every server should keep (the default).
    Core,
    /// For servers whose error bodies follow a declared format (`[errors] format`:
    /// RFC 9457 problem+json by default, any JSON, or anything).
    Errors,
    /// For servers that refuse unconditional writes with 428.
    RequirePreconditions,
    /// For servers that offer pessimistic locks (`{resource}/lock`, 423 Locked).
    Locking,
    /// For servers that offer atomic batches and interactive transactions.
    Transactions,
    /// For servers that keep resource history and serve API versions 1 and 2.
    Versions,
    /// For servers that record refused writes as conflicts, stream them (SSE) and resolve them.
    Notifications,
    /// For servers that honour `Idempotency-Key` on writes.
    Idempotency,
    /// For servers that rate-limit with 429.
    RateLimit,
}

impl Profile {
    /// Every profile, in catalogue order.
    pub const ALL: [Profile; 9] = [
        Profile::Core,
        Profile::Errors,
        Profile::RequirePreconditions,
        Profile::Locking,
        Profile::Transactions,
        Profile::Versions,
        Profile::Notifications,
        Profile::Idempotency,
        Profile::RateLimit,
    ];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Core => "core",
            Profile::Errors => "errors",
            Profile::RequirePreconditions => "require-preconditions",
            Profile::Locking => "locking",
            Profile::Transactions => "transactions",
            Profile::Versions => "versions",
            Profile::Notifications => "notifications",
            Profile::Idempotency => "idempotency",
            Profile::RateLimit => "rate-limit",
        }
    }

    /// Parses a profile name.
    pub fn parse(name: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == name.trim())
            .ok_or_else(|| {
                let known: Vec<_> = Profile::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown profile {name:?}; choose from {}", known.join(", "))
            })
    }
}

/// A boxed future, the return type of every check.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The signature of a rule's check.
pub type CheckFn = for<'a> fn(&'a Cx) -> BoxFuture<'a, Result<Finding, Abort>>;

/// One rule of the contract.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable ID, e.g. `core.if-match.stale-put`.
    pub id: &'static str,
    /// How binding it is.
    pub level: Level,
    /// The profile that selects it.
    pub profile: Profile,
    /// The RFC section it rests on.
    pub rfc: &'static str,
    /// One sentence: what a conforming server does.
    pub summary: &'static str,
    /// Rules that must not have failed or been skipped for this one to be judged.
    pub requires: &'static [&'static str],
    /// The requests the check sends, in order (printed by `--dry-run`).
    pub plan: &'static [&'static str],
    /// The check itself.
    pub check: CheckFn,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).finish()
    }
}

/// Looks a rule up by ID.
pub fn find(id: &str) -> Option<&'static Rule> {
    CATALOGUE.iter().find(|r| r.id == id)
}

/// What a failed expectation looked like.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// What a conforming server does at this step.
    pub expectation: String,
    /// What this server did.
    pub observed: String,
    /// The exchange that showed it (often the re-read that judged the state).
    pub exchange: Option<Exchange>,
    /// The write that broke the rule, when `exchange` is the follow-up read that
    /// showed it: reports show its request, its `curl`, and a diff of the body it
    /// sent against the body `exchange` read back.
    pub write: Option<Exchange>,
}

/// The raw result of a check, before the rule's level turns it into a verdict.
#[derive(Debug, Clone)]
pub enum Finding {
    /// The server kept the rule; the text says what was seen.
    Pass(String),
    /// Kept in a declared, non-strict way (e.g. 409 instead of 412).
    NonStrict(String),
    /// A deviation that is only a warning whatever the level (e.g. undeclared 409).
    Warn(Evidence),
    /// The rule was broken: fail for MUST, warn for SHOULD.
    Violation(Evidence),
    /// A fact worth reporting.
    Info(String),
    /// The rule could not be judged; the text says why.
    Skip(String),
}

impl Finding {
    /// Shorthand for a violation shown by `exchange`.
    pub fn violation(
        expectation: impl Into<String>,
        observed: impl Into<String>,
        exchange: &Exchange,
    ) -> Finding {
        Finding::Violation(Evidence {
            expectation: expectation.into(),
            observed: observed.into(),
            exchange: Some(exchange.clone()),
            write: None,
        })
    }

    /// A violation caused by `write` and shown by `reread`, the read that judged
    /// the state afterwards.
    pub fn violation_after(
        expectation: impl Into<String>,
        observed: impl Into<String>,
        write: &Exchange,
        reread: &Exchange,
    ) -> Finding {
        Finding::Violation(Evidence {
            expectation: expectation.into(),
            observed: observed.into(),
            exchange: Some(reread.clone()),
            write: Some(write.clone()),
        })
    }
}
