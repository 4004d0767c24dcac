//! SDK events and counters as plain JavaScript objects.

use ifmatch::{ConflictOutcome, Event, HintSource, Stats};
use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::json::{millis, nullable, object, strings};

/// An observer for the SDK that calls the user's `onEvent` function; what it throws is ignored,
/// as documented, so a faulty listener cannot break a write.
pub(crate) fn observer(listener: Function) -> impl Fn(&Event) + 'static {
    move |event: &Event| {
        if let Some(event) = to_js(event) {
            let _ = listener.call1(&JsValue::NULL, &event);
        }
    }
}

/// `None` for event kinds added to the SDK after this adapter was written.
fn to_js(event: &Event) -> Option<JsValue> {
    let text = |s: &str| JsValue::from_str(s);
    Some(match event {
        Event::Attempt {
            method,
            url,
            attempt,
            ..
        } => object(&[
            ("type", text("attempt")),
            ("method", text(method.as_str())),
            ("url", text(url)),
            ("attempt", (*attempt).into()),
        ]),
        Event::Conflict {
            url,
            status,
            strategy,
            outcome,
            attempt,
            ..
        } => object(&[
            ("type", text("conflict")),
            ("url", text(url)),
            ("status", status.as_u16().into()),
            ("strategy", text(strategy_name(strategy))),
            ("outcome", text(outcome_name(*outcome))),
            ("attempt", (*attempt).into()),
        ]),
        Event::Throttled {
            method,
            url,
            status,
            hint,
            delay,
            ..
        } => object(&[
            ("type", text("throttled")),
            ("method", text(method.as_str())),
            ("url", text(url)),
            ("status", status.as_u16().into()),
            ("delayMs", millis(*delay)),
            ("hintMs", nullable(hint.map(|(wait, _)| millis(wait)))),
            (
                "hintSource",
                nullable(hint.map(|(_, source)| text(hint_name(source)))),
            ),
        ]),
        Event::BudgetExhausted {
            method, url, host, ..
        } => object(&[
            ("type", text("budgetExhausted")),
            ("method", text(method.as_str())),
            ("url", text(url)),
            ("host", text(host)),
        ]),
        Event::LockLost { url, reason, .. } => object(&[
            ("type", text("lockLost")),
            ("url", text(url)),
            ("reason", text(reason)),
        ]),
        Event::TransactionConflict {
            url,
            paths,
            outcome,
            attempt,
            ..
        } => object(&[
            ("type", text("transactionConflict")),
            ("url", text(url)),
            ("paths", strings(paths)),
            ("outcome", text(outcome_name(*outcome))),
            ("attempt", (*attempt).into()),
        ]),
        Event::Deprecated { notice, .. } => {
            crate::versions::notice_to_js(notice, Some("deprecated"))
        }
        Event::ConflictStreamReconnect {
            url,
            attempt,
            delay,
            ..
        } => object(&[
            ("type", text("conflictStreamReconnect")),
            ("url", text(url)),
            ("attempt", (*attempt).into()),
            ("delayMs", millis(*delay)),
        ]),
        _ => return None,
    })
}

/// The SDK's strategy names, as the JavaScript option spells them.
fn strategy_name(sdk_name: &str) -> &str {
    match sdk_name {
        "three_way_merge" => "merge",
        "last_write_wins" => "lastWriteWins",
        other => other,
    }
}

fn outcome_name(outcome: ConflictOutcome) -> &'static str {
    match outcome {
        ConflictOutcome::Reapplied => "reapplied",
        ConflictOutcome::Merged => "merged",
        ConflictOutcome::Overwritten => "overwritten",
        ConflictOutcome::Replaced => "replaced",
        ConflictOutcome::MergeFailed => "mergeFailed",
        ConflictOutcome::Aborted => "aborted",
        ConflictOutcome::GaveUp => "gaveUp",
        _ => "other",
    }
}

fn hint_name(source: HintSource) -> &'static str {
    match source {
        HintSource::RetryAfterMs => "retryAfterMs",
        HintSource::RetryAfterSeconds => "retryAfterSeconds",
        HintSource::RetryAfterDate => "retryAfterDate",
        HintSource::RateLimit => "rateLimit",
        _ => "other",
    }
}

/// The counters with JavaScript names.
pub(crate) fn stats_to_js(stats: &Stats) -> JsValue {
    // Counters stay far below 2^53, so they are exact as JavaScript numbers.
    let count = |n: u64| JsValue::from_f64(n as f64);
    object(&[
        ("requests", count(stats.requests)),
        ("notModified", count(stats.not_modified_hits)),
        ("conflicts412", count(stats.conflicts_412)),
        ("conflicts409", count(stats.conflicts_409)),
        ("retries", count(stats.retries)),
        ("merges", count(stats.merges)),
        ("throttled", count(stats.throttle_waits)),
        ("throttledWaitMs", millis(stats.throttle_wait_total)),
        ("budgetExhausted", count(stats.budget_exhausted)),
        ("malformedHeaders", count(stats.malformed_headers)),
        ("transactionsCommitted", count(stats.transactions_committed)),
        ("transactionConflicts", count(stats.transaction_conflicts)),
        (
            "conflictStreamConnects",
            count(stats.conflict_stream_connects),
        ),
        (
            "conflictStreamReconnects",
            count(stats.conflict_stream_reconnects),
        ),
        ("deprecatedResponses", count(stats.deprecated_responses)),
        (
            "earliestSunsetMs",
            crate::versions::unix_ms(stats.earliest_sunset),
        ),
        // The Rust (and Prometheus) names of the three counters named otherwise above, so that
        // every counter is also under the camelCase of its `Stats` field (docs/javascript.md).
        ("notModifiedHits", count(stats.not_modified_hits)),
        ("throttleWaits", count(stats.throttle_waits)),
        ("throttleWaitTotalMs", millis(stats.throttle_wait_total)),
    ])
}
