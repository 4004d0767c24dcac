//! Beginning a transaction: `POST /transactions`.

use std::{future::IntoFuture, sync::Arc, time::Duration};

use http::{header, HeaderValue, Method};
use web_time::Instant;

use crate::{
    batch::wire::root_of,
    rt::{traced, BoxFuture},
    transaction::{millis, Began, Life},
    Error,
};

use super::{
    super::{
        exchange::Exchanged,
        options::{request_options, Options},
        Client,
    },
    Transaction, TxInner,
};

/// A request to begin a transaction; built by [`Client::begin`]. Await it for a
/// [`Transaction`].
///
/// # Defaults
/// `ttl` none: the server's default (the reference server: 30 s, at most 60 s).
#[must_use = "a transaction does not begin until the request is awaited"]
#[derive(Debug)]
pub struct Begin {
    client: Client,
    ttl: Option<Duration>,
    options: Options,
}

request_options!(Begin);

impl Begin {
    pub(super) fn new(client: Client) -> Self {
        Self::configured(client, None, Options::default())
    }

    pub(super) fn configured(client: Client, ttl: Option<Duration>, options: Options) -> Self {
        Self {
            client,
            ttl,
            options,
        }
    }

    /// How long the transaction may stay open before the server rolls it back (the server may
    /// grant less: [`Transaction::ttl`] says what it granted).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Begins the transaction (`POST /transactions`). A begin answered 429 or 503 (the
    /// reference server's `too-many-transactions`) is sent again as the retry settings allow:
    /// a second begin can at worst leave an empty transaction to expire.
    ///
    /// # Errors
    /// The status, throttling, timeout and transport errors of a single request;
    /// [`Error::Decode`] when the answer names no transaction id.
    pub async fn send(self) -> Result<Transaction, Error> {
        let Self {
            client,
            ttl,
            options,
        } = self;
        let url = client.target(&client.inner.transactions_path, &options)?;
        let span = tracing::debug_span!("ifmatch.begin", url = %url);
        let work = async {
            let mut op = client.op(&options);
            op.repeatable = true;
            let mut request = client.outgoing(&op, Method::POST, &url);
            if let Some(ttl) = ttl {
                request.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                // `{"ttl_ms":N}` written directly: `json!(…).to_string()` would link a second
                // instance of serde_json's serializer (into a `fmt::Formatter`) into the wasm.
                request.body = format!("{{\"ttl_ms\":{}}}", millis(ttl)).into();
            }
            let Exchanged {
                response, attempts, ..
            } = client.exchange(&mut op, request).await?;
            if !response.status.is_success() {
                return Err(client.error_for(&Method::POST, &url, &response, attempts, None));
            }
            let began = Began::parse(&response.body).ok_or_else(|| Error::Decode {
                url: url.clone(),
                source: serde::de::Error::custom(
                    "the answer does not begin a transaction: it needs a non-empty `id`",
                ),
            })?;
            let header = HeaderValue::from_str(&began.id).map_err(|_| Error::Decode {
                url: url.clone(),
                source: serde::de::Error::custom(format!(
                    "the transaction id {:?} cannot be sent as a header value",
                    began.id
                )),
            })?;
            let tx_url = super::super::exchange::location_of(&response, header::LOCATION, &url)
                .unwrap_or_else(|| format!("{}/{}", url.trim_end_matches('/'), began.id));
            let root = root_of(client.inner.base_url.as_ref(), &tx_url).ok_or_else(|| {
                Error::InvalidUrl {
                    input: tx_url.clone(),
                    reason: "cannot be the base of the transaction's document paths".into(),
                }
            })?;
            let granted = began.ttl_ms.map(Duration::from_millis).or(ttl);
            // As for the client itself: on wasm32 the client may hold JavaScript values (not
            // Send), and there is one thread there.
            #[allow(clippy::arc_with_non_send_sync)]
            let inner = Arc::new(TxInner {
                client: client.clone(),
                id: began.id,
                header,
                url: tx_url,
                root,
                expires_at_ms: began.expires_at_ms,
                ttl: granted,
                began_at: Instant::now(),
                headers: options.headers.clone(),
                life: Life::default(),
            });
            Ok(Transaction { inner })
        };
        client
            .bounded(format!("POST {url}"), &url, false, traced(span, work))
            .await
    }
}

impl IntoFuture for Begin {
    type Output = Result<Transaction, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Client {
    /// Begins an interactive transaction; see [`Begin`] and [`Transaction`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let tx = client.begin().ttl(std::time::Duration::from_secs(10)).await?;
    /// let read = tx.get::<serde_json::Value>("/items/1").await?;
    /// tx.put("/items/1", &read.value, &read).await?;
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub fn begin(&self) -> Begin {
        Begin::new(self.clone())
    }
}
