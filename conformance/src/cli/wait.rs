//! `--wait-for SECS`: wait for a server that is still starting (in CI) before
//! checking it.

use std::time::{Duration, Instant};

/// How often the server is asked.
pub(super) const POLL_EVERY: Duration = Duration::from_millis(250);

/// Sends `GET url` every [`POLL_EVERY`] until any HTTP answer comes (whatever its
/// status) or `limit` has passed. Returns how long it waited, or, when no answer
/// came in time, why the last attempt failed. `check` then reports that the
/// server cannot be reached, as without waiting; `stress` stops with the reason.
pub(crate) async fn until_answers(url: &str, limit: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    let deadline = start + limit;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // One attempt may not outlast the wait, but gets at least a moment to connect.
        let timeout = left.clamp(Duration::from_millis(100), Duration::from_secs(5));
        let failed = match client.get(url).timeout(timeout).send().await {
            Ok(_) => return Ok(start.elapsed()),
            Err(e) => e,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(failed.to_string());
        }
        tokio::time::sleep(left.min(POLL_EVERY)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gives_up_after_the_limit_when_nothing_listens() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let start = Instant::now();
        let waited = until_answers(
            &format!("http://127.0.0.1:{port}/items"),
            Duration::from_millis(600),
        )
        .await;
        assert!(waited.is_err(), "{waited:?}");
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(600) && took < Duration::from_secs(3),
            "{took:?}"
        );
    }
}
