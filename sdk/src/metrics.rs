//! The client's [`Stats`] as Prometheus metrics (feature `prometheus`).
//!
//! [`Collector`] implements `prometheus-client`'s
//! [`Collector`](prometheus_client::collector::Collector): register it once, and every scrape
//! reads [`Client::stats`] at that moment. Nothing is counted twice and nothing is kept: the
//! collector only reads the client's own atomic counters.
//!
//! ```
//! use prometheus_client::registry::Registry;
//!
//! let client = ifmatch::Client::builder().build()?;
//! let mut registry = Registry::default();
//! ifmatch::metrics::register(&client, &mut registry);
//!
//! let mut text = String::new();
//! prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
//! assert!(text.contains("ifmatch_client_http_requests_total 0\n"));
//! # Ok::<(), ifmatch::Error>(())
//! ```
//!
//! Names start with `ifmatch_client_` and, where a counter means what a server metric means,
//! mirror the reference server's name and labels (`ifmatch_conflicts_total{kind}` ↔
//! `ifmatch_client_conflicts_total{kind}`), so one dashboard can put the client's view next
//! to the server's. `docs/monitoring.md` lists the mapping.
//!
//! | Metric | Type | From [`Stats`] |
//! |---|---|---|
//! | `ifmatch_client_http_requests_total` | counter | `requests` (every attempt sent) |
//! | `ifmatch_client_conflicts_total{kind="precondition-failed"}` | counter | `conflicts_412` |
//! | `ifmatch_client_conflicts_total{kind="version-conflict"}` | counter | `conflicts_409` |
//! | `ifmatch_client_conflicts_total{kind="transaction-conflict"}` | counter | `transaction_conflicts` |
//! | `ifmatch_client_transactions_total{outcome="committed"}` | counter | `transactions_committed` |
//! | `ifmatch_client_transactions_total{outcome="conflict"}` | counter | `transaction_conflicts` |
//! | `ifmatch_client_not_modified_total` | counter | `not_modified_hits` |
//! | `ifmatch_client_retries_total` | counter | `retries` |
//! | `ifmatch_client_merges_total` | counter | `merges` |
//! | `ifmatch_client_throttle_waits_total` | counter | `throttle_waits` |
//! | `ifmatch_client_throttle_wait_seconds_total` | counter | `throttle_wait_total` |
//! | `ifmatch_client_retry_budget_exhausted_total` | counter | `budget_exhausted` |
//! | `ifmatch_client_malformed_headers_total` | counter | `malformed_headers` |
//! | `ifmatch_client_sse_connects_total` | counter | `conflict_stream_connects` |
//! | `ifmatch_client_sse_reconnects_total` | counter | `conflict_stream_reconnects` |
//! | `ifmatch_client_deprecated_responses_total` | counter | `deprecated_responses` |
//! | `ifmatch_client_earliest_sunset_timestamp_seconds` | gauge | `earliest_sunset` (Unix seconds; absent until an answer announced one) |

use std::fmt;
use std::time::UNIX_EPOCH;

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::{Client, Stats};

/// A `prometheus-client` collector that reads a [`Client`]'s [`Stats`] at every scrape.
///
/// Clients are cheap to clone and clones share their counters, so the collector may hold a
/// clone of the client the application uses.
#[derive(Debug, Clone)]
pub struct Collector {
    client: Client,
}

impl Collector {
    /// A collector of `client`'s counters.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// Registers a [`Collector`] of `client` in `registry`. A registry prefix, if any, is put
/// before the `ifmatch_client_` names; register several clients in sub-registries with a
/// label (`Registry::sub_registry_with_label`) to tell them apart.
pub fn register(client: &Client, registry: &mut Registry) {
    registry.register_collector(Box::new(Collector::new(client.clone())));
}

impl prometheus_client::collector::Collector for Collector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        encode_stats(&self.client.stats(), &mut encoder)
    }
}

fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)
}

/// One counter family with a single label and a value per label value.
fn labelled_counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: &[(&str, u64)],
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (label_value, value) in values {
        let labels = [(label, *label_value)];
        ConstCounter::new(*value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

fn encode_stats(stats: &Stats, encoder: &mut DescriptorEncoder) -> fmt::Result {
    counter(
        encoder,
        "ifmatch_client_http_requests",
        "HTTP requests sent (every attempt, retries included)",
        stats.requests,
    )?;
    labelled_counter(
        encoder,
        "ifmatch_client_conflicts",
        "Writes and commits refused because the version changed, by kind",
        "kind",
        &[
            ("precondition-failed", stats.conflicts_412),
            ("version-conflict", stats.conflicts_409),
            ("transaction-conflict", stats.transaction_conflicts),
        ],
    )?;
    labelled_counter(
        encoder,
        "ifmatch_client_transactions",
        "Transactions ended at commit, by outcome",
        "outcome",
        &[
            ("committed", stats.transactions_committed),
            ("conflict", stats.transaction_conflicts),
        ],
    )?;
    counter(
        encoder,
        "ifmatch_client_not_modified",
        "Conditional GETs answered 304 and served from the client's cache",
        stats.not_modified_hits,
    )?;
    counter(
        encoder,
        "ifmatch_client_retries",
        "Requests sent again (throttle retries and conflict re-writes)",
        stats.retries,
    )?;
    counter(
        encoder,
        "ifmatch_client_merges",
        "Successful three-way merges after a conflict",
        stats.merges,
    )?;
    counter(
        encoder,
        "ifmatch_client_throttle_waits",
        "Throttled answers (429 or 503) the client waited after",
        stats.throttle_waits,
    )?;
    ConstCounter::new(stats.throttle_wait_total.as_secs_f64()).encode(
        encoder.encode_descriptor(
            "ifmatch_client_throttle_wait",
            "Time spent waiting after throttled answers",
            Some(&Unit::Seconds),
            MetricType::Counter,
        )?,
    )?;
    counter(
        encoder,
        "ifmatch_client_retry_budget_exhausted",
        "Retries refused by the per-host retry budget",
        stats.budget_exhausted,
    )?;
    counter(
        encoder,
        "ifmatch_client_malformed_headers",
        "Rate-limit or ETag headers that were malformed and ignored",
        stats.malformed_headers,
    )?;
    counter(
        encoder,
        "ifmatch_client_sse_connects",
        "Conflict-stream connections answered with a stream (first and reconnections)",
        stats.conflict_stream_connects,
    )?;
    counter(
        encoder,
        "ifmatch_client_sse_reconnects",
        "Conflict-stream reconnections (after an error, the server closing, or a stall)",
        stats.conflict_stream_reconnects,
    )?;
    counter(
        encoder,
        "ifmatch_client_deprecated_responses",
        "Answers that carried Deprecation or Sunset",
        stats.deprecated_responses,
    )?;
    if let Some(sunset) = stats.earliest_sunset {
        let seconds = sunset
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        ConstGauge::new(seconds).encode(encoder.encode_descriptor(
            "ifmatch_client_earliest_sunset_timestamp",
            "The earliest Sunset any answer announced, in Unix seconds",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?)?;
    }
    Ok(())
}
