//! The shared judgement of a refused write: the status must say "stale" and a
//! re-read must show the resource as it was, judged by content.

use super::version::read;
use super::{differences, summary, Abort, Cx, Snapshot};
use crate::http::Exchange;
use crate::rules::{Evidence, Finding};
use crate::target::VersionSource;

impl Cx {
    /// Whether the run accepts 409 for a stale write (`[version] stale-status`
    /// lists it, or `--mismatch-status 409`).
    pub fn accepts_409(&self) -> bool {
        self.declared_409() || self.shape().version.stale_statuses.contains(&409)
    }

    /// What changed between `before` and the re-read `after` of `url`, judged by
    /// content: every member `before` showed must still be there with the same
    /// value (`[body] ignore` and the version member are not compared; members
    /// the server adds are allowed). A changed `ETag` alone counts only when a
    /// third read shows the new one again: an `ETag` that differs on every read
    /// is `core.etag.stable-without-change`'s business, not a change of state.
    pub async fn change_between(
        &self,
        before: &Snapshot,
        after: &Snapshot,
        url: &str,
    ) -> Result<Option<String>, Abort> {
        if after.status != before.status {
            return Ok(Some(format!(
                "the resource now answers {} instead of {}",
                after.status, before.status
            )));
        }
        if !(200..300).contains(&after.status) {
            // Two error answers (e.g. 404 before and after): no representation to
            // compare, and error bodies carry request ids and times.
            return Ok(None);
        }
        match (&before.body, &after.body) {
            (Some(was), Some(now)) => {
                let diffs = differences(was, now, &self.ignored_pointers());
                if !diffs.is_empty() {
                    return Ok(Some(format!("a changed body ({})", summary(&diffs))));
                }
            }
            _ if before.exchange.response.body != after.exchange.response.body => {
                return Ok(Some("a changed body".into()));
            }
            _ => {}
        }
        let source = &self.shape().version.read;
        let (was, now) = (
            read(source, &before.exchange),
            read(source, &after.exchange),
        );
        match (was, now) {
            (Some(was), Some(now)) if !was.same_as(&now) => {
                if *source != VersionSource::Etag {
                    return Ok(Some(format!("the version changed from {was} to {now}")));
                }
                let again = self.snapshot(url).await?;
                let settled = read(source, &again.exchange).is_some_and(|v| v.same_as(&now));
                Ok(settled.then(|| {
                    format!("the ETag changed from {was} to {now} (the content is the same)")
                }))
            }
            (Some(was), None) if after.status == 200 => {
                Ok(Some(format!("the version {was} is gone from the response")))
            }
            _ => Ok(None),
        }
    }

    /// Whether `stored` holds every member of `sent` with the same value
    /// (members the server adds are allowed; `[body] ignore` and the version
    /// member are not compared): `None` when it does, else why not.
    pub fn not_stored(
        &self,
        sent: &serde_json::Value,
        stored: Option<&serde_json::Value>,
    ) -> Option<String> {
        match stored {
            None => Some("the next GET returned no JSON body".into()),
            Some(stored) => {
                let diffs = differences(sent, stored, &self.ignored_pointers());
                (!diffs.is_empty()).then(|| {
                    format!(
                        "the next GET returned a different body: {}",
                        summary(&diffs)
                    )
                })
            }
        }
    }

    /// Skips a rule about the `ETag`/`If-Match` headers themselves on a target
    /// whose version is not a strong `ETag` sent back in `If-Match` (`has_etag`:
    /// whether the server sent a strong `ETag`, e.g. [`Fixture::has_etag`](super::Fixture::has_etag)).
    pub fn needs_if_match(&self, has_etag: bool) -> Result<(), Abort> {
        if self.shape().version.send != crate::target::VersionSend::IfMatch {
            return Err(Abort::Prerequisite(format!(
                "not applicable: writes carry the version in {}, not If-Match ([version] send); this rule is about If-Match",
                self.version_carrier()
            )));
        }
        if !has_etag {
            return Err(Abort::Prerequisite(format!(
                "not applicable: the server sends no strong ETag (its version is read from {}); this rule is about ETag headers",
                self.shape().version.read
            )));
        }
        Ok(())
    }

    /// Judges a write that a conforming server refuses for a failed precondition:
    /// the status must be 412 (409 when declared) AND a re-read must show the
    /// resource as `before` showed it, judged by content.
    pub async fn judge_refusal(
        &self,
        before: &Snapshot,
        url: &str,
        attempt: &Exchange,
        what: &str,
    ) -> Result<Finding, Abort> {
        let after = self.snapshot(url).await?;
        let status = attempt.status();
        if let Some(change) = self.change_between(before, &after, url).await? {
            return Ok(Finding::violation_after(
                format!("{what} is refused and the resource stays as it was"),
                format!("the server answered {status}, and a re-read shows {change}"),
                attempt,
                &after.exchange,
            ));
        }
        Ok(self.refusal_status(attempt, what))
    }

    /// The verdict on a refusal's status once the state is known to be unchanged.
    pub fn refusal_status(&self, attempt: &Exchange, what: &str) -> Finding {
        match attempt.status() {
            412 => self.pass(format!(
                "{what} was refused with 412; a re-read shows nothing changed"
            )),
            409 if self.accepts_409() => Finding::NonStrict(format!(
                "{what} was refused with 409 (declared as a stale status; RFC 9110 prefers 412); nothing changed"
            )),
            409 => Finding::Warn(Evidence {
                expectation: format!(
                    "{what} is refused with 412 Precondition Failed (RFC 9110 §13.1.1); declare [version] stale-status = [412, 409] (or --mismatch-status 409) to accept 409"
                ),
                observed: "409 Conflict (state unchanged); RFC 9110 wants 412. If 409 is this server's documented refusal (Azure's BlobAlreadyExists, CouchDB's conflict), declare it with [version] stale-status = [412, 409] and it is judged non-strict".into(),
                exchange: Some(attempt.clone()),
                write: None,
            }),
            other => Finding::violation(
                format!("{what} is refused with 412 Precondition Failed"),
                format!("the server answered {other} (state unchanged)"),
                attempt,
            ),
        }
    }
}

/// What differs between two reads of one resource, if anything: status, `ETag`
/// or body, compared exactly (profiles whose servers are shaped like the
/// reference server use it).
pub(crate) fn describe_change(before: &Snapshot, after: &Snapshot) -> Option<String> {
    if after.status != before.status {
        return Some(format!(
            "the resource now answers {} instead of {}",
            after.status, before.status
        ));
    }
    if after.etag != before.etag {
        return Some(format!(
            "the ETag changed from {} to {}",
            before.etag.as_deref().unwrap_or("(none)"),
            after.etag.as_deref().unwrap_or("(none)")
        ));
    }
    if after.body != before.body {
        return Some("a changed body".into());
    }
    None
}
