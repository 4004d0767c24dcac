//! What every client of a run shares: the settings, a plain HTTP client with
//! the extra headers, the SDK's transport, the version mode, the secrets to
//! redact, and the deadline; and how a failed update is described.

use std::time::Instant;

use ifmatch::transport::ReqwestTransport;
use ifmatch::{Client, RetryConfig, VersionField};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::record::{redact, shorten, FailedUpdate, LastRefusal, RecordingTransport, Refusal};
use super::StressConfig;

/// What every client shares.
pub(super) struct Shared {
    pub config: StressConfig,
    /// Plain HTTP with the extra headers (creating, naive clients, reading back).
    pub http: reqwest::Client,
    pub transport: ReqwestTransport,
    pub version_field: Option<VersionField>,
    pub secrets: Vec<String>,
    pub deadline: Instant,
    /// The one SDK client every task uses (`StressConfig::shared_client`), with the refusals
    /// its transport saw. Its updates of one URL take turns, so the last refusal is almost
    /// always the failing update's; a task that starts meanwhile may clear it, and the failure
    /// is then described by its error alone.
    pub one_client: Option<(Client, LastRefusal)>,
}

impl Shared {
    /// The client every task shares, on `base_url`, when the run asks for one.
    pub fn one_client_if_asked(
        &self,
        base_url: &str,
    ) -> Result<Option<(Client, LastRefusal)>, String> {
        if !self.config.shared_client {
            return Ok(None);
        }
        self.update_client(base_url).map(Some)
    }

    /// An SDK client on `base_url` for the update strategies (the run's retry settings), with
    /// the refusals its transport records.
    pub fn update_client(&self, base_url: &str) -> Result<(Client, LastRefusal), String> {
        let last = LastRefusal::default();
        let retry = self.config.retry.config(self.config.representation);
        Ok((self.sdk_client(base_url, &last, retry)?, last))
    }

    /// An SDK client on `base_url` that records refusals in `last`.
    pub fn sdk_client(
        &self,
        base_url: &str,
        last: &LastRefusal,
        retry: RetryConfig,
    ) -> Result<Client, String> {
        let mut builder = Client::builder()
            .base_url(base_url)
            .map_err(|e| format!("cannot build an SDK client: {e}"))?
            .retry(retry)
            .server_honours_idempotency_keys(self.config.idempotency_keys);
        for (name, value) in &self.config.headers {
            builder = builder
                .header(name, value)
                .map_err(|_| format!("--header {name:?}: the SDK refused it"))?;
        }
        if let Some(field) = &self.version_field {
            builder = builder.version_field(field.clone());
        }
        let transport = RecordingTransport::new(self.transport.clone(), last.clone());
        builder
            .build_with_transport(transport)
            .map_err(|e| format!("cannot build an SDK client: {e}"))
    }

    /// Why client `client`'s update `update` failed with `error`: the last refused
    /// response when it is the one that ended the update, else the error.
    pub fn failure(
        &self,
        at: (usize, usize, &str),
        error: &ifmatch::Error,
        refusal: Option<Refusal>,
    ) -> (String, FailedUpdate) {
        let status = error.status().map(|s| s.as_u16());
        match refusal.filter(|r| Some(r.status) == status) {
            Some(r) => self.refused(at, r),
            None => {
                let key = match status {
                    Some(s) => s.to_string(),
                    None if error.is_transport() => "connection".into(),
                    None => error.code().to_owned(),
                };
                let failed = FailedUpdate {
                    client: at.0,
                    update: at.1,
                    base_url: at.2.to_owned(),
                    status,
                    request: None,
                    reason: redact(&shorten(&error.to_string()), &self.secrets),
                };
                (key, failed)
            }
        }
    }

    /// A failure ended by the refused response `r`.
    pub fn refused(&self, at: (usize, usize, &str), r: Refusal) -> (String, FailedUpdate) {
        let failed = FailedUpdate {
            client: at.0,
            update: at.1,
            base_url: at.2.to_owned(),
            status: Some(r.status),
            request: Some(r.request),
            reason: redact(&r.excerpt, &self.secrets),
        };
        (r.status.to_string(), failed)
    }

    /// A failure with no usable response: `key` is `connection` when none came,
    /// `not_json` when a read's body was not JSON.
    pub fn unanswered(
        &self,
        at: (usize, usize, &str),
        key: &str,
        what: String,
    ) -> (String, FailedUpdate) {
        let failed = FailedUpdate {
            client: at.0,
            update: at.1,
            base_url: at.2.to_owned(),
            status: None,
            request: None,
            reason: redact(&shorten(&what), &self.secrets),
        };
        (key.to_owned(), failed)
    }
}

pub(super) fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("--header {name:?} is not a valid header name"))?;
        let mut v = HeaderValue::from_str(value).map_err(|_| {
            format!("--header {name:?}: the value contains characters HTTP forbids")
        })?;
        v.set_sensitive(true);
        map.append(n, v);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_checked_without_being_repeated() {
        let err = header_map(&[("Authorization".into(), "Bearer \n s3cret".into())]).unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(header_map(&[("X-A".into(), "1".into()), ("X-A".into(), "2".into())]).is_ok());
    }
}
