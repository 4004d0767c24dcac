//! `update()` against servers shaped like well-known APIs: the version in the body
//! (Kubernetes), sent back in the query (CouchDB's `?rev=`, GCS's `?ifGenerationMatch=`), and
//! weak ETags (a WebDAV server that makes them strong a moment after a write, and a FHIR
//! server that compares them weakly on purpose). Each stub keeps one counter; eight tasks on one
//! client increment it concurrently, and the count shows whether any increment was lost.
//!
//! Run with `cargo run -p ifmatch --example real_world`. The stubs (wiremock, on 127.0.0.1) are
//! the ones the tests use, in `sdk/tests/shapes/`.

#[path = "../tests/shapes/mod.rs"]
mod shapes;

use ifmatch::{Client, Event, VersionField, WeakValidators};
use serde_json::Value;
use shapes::{Shape, Stub};
use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc,
};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cases = [
        (
            "Kubernetes",
            Shape::Kubernetes,
            Some(VersionField::at("/metadata/resourceVersion")),
            WeakValidators::default(),
        ),
        (
            "CouchDB ?rev=",
            Shape::CouchQuery,
            Some(VersionField::at("/_rev").sent_in_query("rev")),
            WeakValidators::default(),
        ),
        (
            "GCS",
            Shape::Gcs,
            Some(VersionField::at("/generation").sent_in_query("ifGenerationMatch")),
            WeakValidators::default(),
        ),
        // Eight writers keep the tag weak most of the time: wait longer than the default.
        (
            "WebDAV",
            Shape::WebDav,
            None,
            WeakValidators::wait(20, Duration::from_secs(2)),
        ),
        ("FHIR", Shape::Fhir, None, WeakValidators::send_as_is()),
    ];
    for (name, shape, field, weak) in cases {
        let server = wiremock::MockServer::start().await;
        let stub = Stub::new(shape);
        stub.mount(&server).await;
        let conflicts = Arc::new(AtomicU32::new(0));
        let seen = conflicts.clone();
        let mut builder = Client::builder()
            .base_url(&server.uri())?
            .retry(ifmatch::RetryConfig::contended())
            .weak_validators(weak)
            .on_event(move |event| {
                if matches!(event, Event::Conflict { .. }) {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            });
        if let Some(field) = field {
            builder = builder.version_field(field);
        }
        let client = builder.build()?;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    for _ in 0..5 {
                        client.update::<Value>("/doc", shapes::increment).await?;
                    }
                    Ok::<_, ifmatch::Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        println!(
            "{name:<14} 40 increments -> n = {} ({} conflicts recovered)",
            stub.n(),
            conflicts.load(Ordering::Relaxed)
        );
    }
    Ok(())
}
