//! The test bed: the reference server in-process on 127.0.0.1, SDK clients, and a raw reqwest
//! client for the hand-written baselines.

use ifmatch::{Client, RetryConfig};
use ifmatch_server::{Config, RunningServer};
use serde_json::{json, Value};

/// Errors end the bench with a message; nothing here is expected to fail.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The running server and a plain HTTP client.
pub struct Bed {
    server: RunningServer,
    /// Hand-written requests, no SDK.
    pub raw: reqwest::Client,
}

impl Bed {
    /// Starts the in-memory reference server.
    pub async fn start() -> Result<Self, BoxError> {
        Ok(Self {
            server: ifmatch_server::spawn(Config::new()).await?,
            raw: reqwest::Client::builder().build()?,
        })
    }

    /// A new SDK client for this server; `cache: false` disables the ETag cache.
    pub fn client(&self, cache: bool, retry: RetryConfig) -> Result<Client, BoxError> {
        let builder = Client::builder()
            .base_url(&self.server.base_url())?
            .retry(retry);
        let builder = if cache {
            builder
        } else {
            builder.cache_capacity(0)
        };
        Ok(builder.build()?)
    }

    /// Creates a document and returns its absolute URL.
    pub async fn create(&self, doc: &Value) -> Result<String, BoxError> {
        let client = self.client(false, RetryConfig::disabled())?;
        let created = client.create("/items", doc).await?;
        Ok(created
            .location
            .ok_or("the reference server sent no Location for a created item")?)
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}

/// A typical small document (about 300 bytes) with a counter `n`.
pub fn small_doc() -> Value {
    json!({
        "title": "Quarterly report", "body": "Draft text of the report.", "status": "draft",
        "n": 0, "tags": ["finance", "q3"], "published": false,
        "owner": {"id": 42, "name": "Ann", "email": "ann@example.com"},
        "updated": "2026-11-28T10:00:00Z"
    })
}

/// A document of about `kib` KiB as JSON: an array of similar records.
pub fn large_doc(kib: usize) -> Value {
    let record = |i: usize| json!({"id": i, "name": format!("record {i:06}"), "score": i % 97, "active": i % 3 == 0});
    let (mut records, mut bytes) = (Vec::new(), 0);
    while bytes < kib * 1024 {
        let next = record(records.len());
        bytes += next.to_string().len() + 1;
        records.push(next);
    }
    json!({"title": "large", "records": records})
}

/// Adds one to the number at `doc[key]` (missing counts as 0).
pub fn bump(doc: &mut Value, key: &str) {
    let n = doc[key].as_i64().unwrap_or(0);
    doc[key] = (n + 1).into();
}
