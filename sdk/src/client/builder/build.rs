//! Building the [`Client`]: the settings checked, then the shared state made.

use std::{sync::Arc, time::Duration};

use crate::{
    cache::EtagCache,
    retry::RetryBudget,
    rt::default_sleeper,
    stats::Counters,
    transport::{default_transport, Transport},
    Error,
};

use super::ClientBuilder;
use crate::client::{keys::KeySource, Client, Inner};
#[cfg(doc)]
use crate::RetryConfig;

impl ClientBuilder {
    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a zero `attempt_timeout` (use `None` for no limit) and for an
    /// invalid [`RetryConfig`] (see [`RetryConfig::validate`]).
    pub fn build(self) -> Result<Client, Error> {
        self.build_or(default_transport)
    }

    /// Builds the client with `transport`, which replaces one given with
    /// [`transport`](Self::transport): the same client as `.transport(transport).build()`.
    ///
    /// A program that builds its clients only this way does not contain the default transport
    /// (reqwest natively, the `fetch` transport on wasm32), which matters for the size of a
    /// WebAssembly module that brings its own (the npm package's is about 4 KB gzipped smaller).
    ///
    /// # Errors
    /// As [`build`](Self::build).
    pub fn build_with_transport(mut self, transport: impl Transport) -> Result<Client, Error> {
        let transport: Arc<dyn Transport> = Arc::new(transport);
        self.transport = None;
        self.build_or(move || transport)
    }

    /// Builds the client, with `default()` as the transport unless one was given.
    fn build_or(self, default: impl FnOnce() -> Arc<dyn Transport>) -> Result<Client, Error> {
        self.retry.validate()?;
        if self.attempt_timeout == Some(Duration::ZERO) {
            return Err(Error::Config {
                field: "attempt_timeout",
                reason: "a zero timeout would fail every request; give a positive duration, or None for no limit".into(),
            });
        }
        let mut headers = self.headers;
        crate::client::versions::check_settings(
            &self.versions_path,
            self.version_field.as_ref(),
            self.api_version.as_deref(),
            &mut headers,
        )?;
        let retry = self.retry;
        let inner = Inner {
            base_url: self.base_url,
            cache: EtagCache::new(self.cache_capacity, self.cache_max_bytes),
            budget: RetryBudget::new(
                retry.budget_capacity(),
                retry.budget_retry_cost(),
                retry.budget_success_refund(),
            ),
            retry,
            observers: self.observers,
            sleeper: self.sleeper.unwrap_or_else(default_sleeper),
            transport: self.transport.unwrap_or_else(default),
            counters: Counters::default(),
            keys: KeySource::new(),
            default_headers: headers,
            attempt_timeout: self.attempt_timeout,
            keys_honoured: self.keys_honoured,
            trust_write_bodies: self.trust_write_bodies,
            locks: crate::lock::LockRegistry::default(),
            batch_path: self.batch_path,
            transactions_path: self.transactions_path,
            conflicts_path: self.conflicts_path,
            versions_path: self.versions_path,
            notices: crate::versions::Notices::new(),
            queues: Arc::default(),
            pacing: self.adaptive_pacing.then(crate::pacing::Pacing::default),
        };
        // On wasm32 observers and transports may hold JavaScript values (not Send); Arc keeps one
        // type for both targets, and there is only one thread there.
        #[allow(clippy::arc_with_non_send_sync)]
        let inner = Arc::new(inner);
        Ok(Client {
            inner,
            partition: self.partition.map(Arc::from),
            missing_etag: self.missing_etag,
            version_field: self.version_field.map(Arc::new),
            weak: self.weak,
        })
    }
}
