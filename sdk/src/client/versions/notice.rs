//! Reporting `Deprecation`/`Sunset` on any answer: once per distinct notice, counted always.

use http::HeaderMap;

use crate::{
    versions::{notice_for, notice_key},
    Event, Stats,
};

use super::super::Client;

impl Client {
    /// Looks at every answer's headers (called by `exchange` for each response received).
    pub(crate) fn observe_deprecation(&self, url: &str, headers: &HeaderMap) {
        let Some(key) = notice_key(url, headers) else {
            return;
        };
        if self.inner.notices.count_if_seen(&key) {
            return;
        }
        let notice = notice_for(url, headers, &key);
        if let Some(notice) = self.inner.notices.record(key, notice) {
            tracing::warn!(
                url = %notice.url,
                deprecation = ?notice.deprecation,
                sunset = ?notice.sunset,
                successor = ?notice.successor,
                malformed = ?notice.malformed,
                "the server says this API is deprecated"
            );
            self.emit(Event::Deprecated { notice });
        }
    }

    /// `stats` with the deprecation counters filled in.
    pub(crate) fn with_deprecations(&self, mut stats: Stats) -> Stats {
        let notices = &self.inner.notices;
        stats.deprecated_responses = notices.responses.load(std::sync::atomic::Ordering::Relaxed);
        stats.earliest_sunset = notices.earliest_sunset();
        stats
    }
}
