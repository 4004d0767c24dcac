//! The query of `GET /conflicts` and `GET /conflicts/stream`: which records a client wants.

use super::record::{Record, State};
use crate::problem::{Problem, ProblemKind};

/// Which records match: any of the resources or prefixes (all when none is given), in the
/// given state (any when none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) resources: Vec<String>,
    pub(crate) prefixes: Vec<String>,
    pub(crate) state: Option<State>,
}

impl Filter {
    pub(crate) fn matches(&self, record: &Record) -> bool {
        let place = (self.resources.is_empty() && self.prefixes.is_empty())
            || self.resources.contains(&record.resource)
            || self
                .prefixes
                .iter()
                .any(|p| record.resource.starts_with(p.as_str()));
        place && self.state.is_none_or(|state| state == record.state)
    }
}

/// The default page of `GET /conflicts`.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// The largest page of `GET /conflicts`.
pub(crate) const MAX_LIMIT: usize = 1000;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) filter: Filter,
    pub(crate) limit: usize,
    pub(crate) after: u64,
    pub(crate) last_event_id: Option<u64>,
}

/// Which parameters a route takes besides the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /conflicts`: `limit` and `after`.
    List,
    /// `GET /conflicts/stream`: `last_event_id`.
    Stream,
}

/// Parses `query` (the part after `?`) for `route`; 400 `invalid-query` naming what is wrong.
pub(crate) fn parse(query: Option<&str>, route: Route, instance: &str) -> Result<Query, Problem> {
    let accepted = match route {
        Route::List => "resource, prefix, state, limit and after",
        Route::Stream => "resource, prefix, state and last_event_id",
    };
    let invalid = |detail: String| {
        Problem::new(
            ProblemKind::InvalidQuery,
            instance,
            format!("{detail}; this URL takes the query parameters {accepted}"),
        )
    };
    let mut parsed = Query {
        filter: Filter::default(),
        limit: DEFAULT_LIMIT,
        after: 0,
        last_event_id: None,
    };
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)
            .ok_or_else(|| invalid(format!("`{pair}` is not percent-encoded correctly")))?;
        let value = decode(value)
            .ok_or_else(|| invalid(format!("`{pair}` is not percent-encoded correctly")))?;
        let number = |what: &str| {
            whole_number(&value).ok_or_else(|| {
                invalid(format!(
                    "{what} must be a whole number, not `{}`",
                    value.escape_debug()
                ))
            })
        };
        match (name.as_str(), route) {
            ("resource", _) => parsed.filter.resources.push(value),
            ("prefix", _) => parsed.filter.prefixes.push(value),
            ("state", _) => {
                parsed.filter.state = Some(match value.as_str() {
                    "open" => State::Open,
                    "resolved" => State::Resolved,
                    _ => {
                        return Err(invalid(format!(
                            "state must be open or resolved, not `{}`",
                            value.escape_debug()
                        )))
                    }
                });
            }
            ("limit", Route::List) => {
                let limit = number("limit")?;
                if limit == 0 {
                    return Err(invalid("limit must be at least 1".to_owned()));
                }
                parsed.limit = usize::try_from(limit).unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
            }
            ("after", Route::List) => parsed.after = number("after")?,
            ("last_event_id", Route::Stream) => {
                parsed.last_event_id = Some(number("last_event_id")?)
            }
            _ => {
                return Err(invalid(format!(
                    "unknown query parameter `{}`",
                    name.escape_debug()
                )))
            }
        }
    }
    Ok(parsed)
}

/// A whole number in decimal digits only (`u64::from_str` also takes a leading `+`).
pub(super) fn whole_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Percent-decodes a query component (`+` is a space, as forms send it); `None` when it is
/// malformed or not UTF-8.
pub(super) fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'%' => {
                // Two hex digits (`from_str_radix` alone would also take `%+1`).
                let hex = bytes.get(index + 1..index + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                index += 3;
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-decodes a path segment (no `+` rule); `None` when malformed or not UTF-8.
pub(crate) fn decode_segment(text: &str) -> Option<String> {
    decode(&text.replace('+', "%2B"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_limit_and_after_are_read() {
        let query = parse(
            Some("resource=%2Fitems%2Fa&resource=/items/b&prefix=/items/c&state=open&limit=5000&after=7"),
            Route::List,
            "/conflicts",
        )
        .unwrap();
        assert_eq!(query.filter.resources, ["/items/a", "/items/b"]);
        assert_eq!(query.filter.prefixes, ["/items/c"]);
        assert_eq!(query.filter.state, Some(State::Open));
        assert_eq!((query.limit, query.after), (MAX_LIMIT, 7));
        let stream = parse(Some("last_event_id=12"), Route::Stream, "/s").unwrap();
        assert_eq!(stream.last_event_id, Some(12));
        assert_eq!(parse(None, Route::List, "/c").unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn malformed_or_unknown_parameters_are_400() {
        for (query, route) in [
            ("state=closed", Route::List),
            ("limit=0", Route::List),
            ("limit=x", Route::List),
            ("after=-1", Route::List),
            ("limit=5", Route::Stream),
            ("last_event_id=1", Route::List),
            ("resource=%zz", Route::List),
            ("colour=red", Route::Stream),
        ] {
            let problem = parse(Some(query), route, "/conflicts").unwrap_err();
            assert_eq!(problem.kind(), ProblemKind::InvalidQuery, "{query}");
        }
    }

    #[test]
    fn decoding_handles_plus_and_percent() {
        assert_eq!(decode("a+b%20c").as_deref(), Some("a b c"));
        assert_eq!(decode("%"), None);
        assert_eq!(decode("%4"), None);
        assert_eq!(decode_segment("a+b%20").as_deref(), Some("a+b "));
    }

    #[test]
    fn a_sign_is_neither_a_hex_digit_nor_part_of_a_number() {
        // Found by fuzzing: `%+1` decoded as U+0001 and `after=+7` read as 7.
        assert_eq!(decode("%+1"), None);
        assert_eq!(decode("%-1"), None);
        for query in ["after=+7", "limit=+5", "resource=%+1"] {
            assert!(parse(Some(query), Route::List, "/c").is_err(), "{query}");
        }
        assert!(parse(Some("last_event_id=+1"), Route::Stream, "/c").is_err());
    }
}
