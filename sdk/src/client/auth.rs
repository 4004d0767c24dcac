//! Bearer-token authentication: the `Authorization` value, never shown.

use http::HeaderValue;

/// `Bearer <token>` as a sensitive header value (its `Debug` prints `Sensitive`); the error
/// explains what is wrong without repeating the token.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue, String> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "a bearer token must be non-empty visible ASCII without spaces (RFC 6750 token68)"
                .into(),
        );
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "a bearer token must be visible ASCII (RFC 6750 token68)".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_sensitive_and_errors_never_repeat_the_token() {
        let value = bearer("s3cret-t0ken").unwrap();
        assert_eq!(value, "Bearer s3cret-t0ken");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("s3cret"));
        for bad in ["", "two words", "caf\u{e9}-s3cret", "line\ns3cret"] {
            let reason = bearer(bad).unwrap_err();
            assert!(!reason.contains("s3cret"), "{reason}");
        }
    }

    #[test]
    fn builder_and_request_options_send_it_without_showing_it() {
        let builder = crate::Client::builder().bearer_token("s3cret").unwrap();
        let text = format!("{builder:?}");
        assert!(
            text.contains("authorization") && !text.contains("s3cret"),
            "{text}"
        );
        let err = crate::Client::builder()
            .bearer_token("bad s3cret")
            .unwrap_err();
        assert_eq!(err.code(), "invalid_config");
        assert!(!err.to_string().contains("s3cret"), "{err}");

        let mut options = super::super::options::Options::default();
        options.bearer_token("0ther");
        assert_eq!(options.headers["authorization"], "Bearer 0ther");
        assert!(!format!("{options:?}").contains("0ther"));
        options.bearer_token("not ok");
        assert_eq!(options.check().unwrap_err().code(), "invalid_config");
    }
}
