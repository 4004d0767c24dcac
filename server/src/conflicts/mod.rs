//! Conflict notifications: every refused conditional write is recorded in a bounded log
//! (`GET /conflicts`, `GET /conflicts/{id}`), pushed to subscribers as it happens
//! (`GET /conflicts/stream`, Server-Sent Events), and resolved at
//! `POST /conflicts/{id}/resolve`. See `docs/server.md`, "Conflict notifications".
//!
//! Recording happens in one middleware ([`capture`]) around every route: handlers only mark
//! their refusals with the version they were judged against (`Problem::with_observed`).

mod capture;
#[cfg(test)]
mod fuzz;
mod log;
mod observer;
mod query;
mod record;
mod resolve;
mod routes;
mod settings;
mod stream;

use std::sync::Arc;

pub(crate) use capture::capture;
pub(crate) use observer::ConflictObserver;
pub(crate) use resolve::resolve;
pub(crate) use routes::{list, show};
pub(crate) use settings::ConflictSettings;
pub use settings::{
    DEFAULT_CONFLICT_BODY_LIMIT, DEFAULT_CONFLICT_LOG_SIZE, DEFAULT_MAX_SUBSCRIBERS,
    DEFAULT_SSE_HEARTBEAT,
};
pub(crate) use stream::stream;

use self::log::{Log, SUBSCRIBER_QUEUE};

/// The conflict log and what its routes need to know about the server.
#[derive(Debug)]
pub(crate) struct Conflicts {
    pub(crate) log: Arc<Log>,
    pub(crate) settings: ConflictSettings,
    /// Whether tokens are configured: then only the client that caused a conflict, or an
    /// admin, may resolve it.
    pub(crate) auth_enabled: bool,
    /// The largest request body the server accepts (the capture reads no more).
    pub(crate) max_body_bytes: usize,
    /// Resolutions take turns, so that two racing for one conflict cannot both succeed.
    pub(crate) resolving: tokio::sync::Mutex<()>,
}

impl Conflicts {
    pub(crate) fn new(
        settings: ConflictSettings,
        auth_enabled: bool,
        max_body_bytes: usize,
    ) -> Self {
        Self {
            log: Arc::new(Log::new(settings.log_size, SUBSCRIBER_QUEUE)),
            settings,
            auth_enabled,
            max_body_bytes,
            resolving: tokio::sync::Mutex::new(()),
        }
    }

    /// Ends every conflict stream (after what is queued) and every later one at once after
    /// its replay: the server is shutting down, which waits for open answers to finish.
    pub(crate) fn close(&self) {
        self.log.close();
    }
}
