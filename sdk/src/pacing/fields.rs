//! What a response's `RateLimit` and `RateLimit-Policy` fields (IETF httpapi draft) say about
//! the partition it was counted in: its name, and how much of its quota is left.

use http::HeaderMap;

/// A quota smaller than this gives no early signal: with a bucket of a few requests, "low"
/// is the normal state of a client that paces correctly, and only a 429 says too fast.
const MIN_QUOTA_FOR_SIGNAL: u64 = 8;

/// How much of its quota a partition has left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Level {
    /// Some policy has less than half its quota left; `ceiling` is the lowest average rate
    /// (q/w) of those policies.
    Low { ceiling: f64 },
    /// Every policy has at least three quarters of its quota left.
    Plenty,
    /// In between, or not known (no usable quota).
    Unknown,
}

/// The partition a response was counted in and how full it is.
#[derive(Debug, PartialEq)]
pub(crate) struct Reading {
    /// The policy names of the `RateLimit` field, sorted and joined by commas.
    pub partition: String,
    /// What is left of its quota.
    pub level: Level,
}

/// Reads `RateLimit` (`"name";r=remaining;t=seconds`, a list) and the quotas of
/// `RateLimit-Policy` (`"name";q=quota;w=seconds`); `None` when `RateLimit` is absent or
/// malformed (malformed fields are ignored, as the draft asks).
pub(crate) fn read(headers: &HeaderMap) -> Option<Reading> {
    let state = headers.get("ratelimit")?.to_str().ok()?;
    let policies = headers
        .get("ratelimit-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut names = Vec::new();
    let mut ceiling: Option<f64> = None;
    let mut plenty = true;
    for item in state.split(',') {
        let (name, [remaining, _]) = item_params(item, ["r", "t"])?;
        let policy = quota(policies, name).filter(|(q, _)| *q >= MIN_QUOTA_FOR_SIGNAL);
        match (remaining, policy) {
            (Some(r), Some((q, window))) => {
                if r.saturating_mul(2) < q {
                    let rate = q as f64 / window.max(1) as f64;
                    ceiling = Some(ceiling.map_or(rate, |c| c.min(rate)));
                }
                plenty &= r.saturating_mul(4) >= q.saturating_mul(3);
            }
            _ => plenty = false,
        }
        // Kept sorted as it grows (a few names): no sort instance of its own in the wasm.
        let at = names.partition_point(|n| *n < name);
        names.insert(at, name);
    }
    let level = match ceiling {
        Some(ceiling) => Level::Low { ceiling },
        None if plenty => Level::Plenty,
        None => Level::Unknown,
    };
    Some(Reading {
        partition: names.join(","),
        level,
    })
}

/// The quota and window of policy `name` in a `RateLimit-Policy` list, if well formed.
fn quota(policies: &str, name: &str) -> Option<(u64, u64)> {
    policies
        .split(',')
        .filter_map(|item| item_params(item, ["q", "w"]))
        .find(|(n, _)| *n == name)
        .and_then(|(_, [q, w])| Some((q?, w?)))
}

/// One list member `name;key=value;...`: its name (quotes removed) and the parameters `keys`,
/// if present. `None` when the member is malformed.
fn item_params<'a>(item: &'a str, keys: [&str; 2]) -> Option<(&'a str, [Option<u64>; 2])> {
    let mut parts = item.split(';').map(str::trim);
    let raw = parts.next()?;
    let name = match raw.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"')?,
        None => raw,
    };
    if name.is_empty() {
        return None;
    }
    let mut values = [None; 2];
    for param in parts {
        let (k, v) = param.split_once('=')?;
        if let Some(i) = keys.iter().position(|key| *key == k.trim()) {
            values[i] = Some(crate::retry::digits(v.trim())?);
        }
    }
    Some((name, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(state: &str, policy: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("ratelimit", HeaderValue::from_str(state).unwrap());
        if let Some(p) = policy {
            map.insert("ratelimit-policy", HeaderValue::from_str(p).unwrap());
        }
        map
    }

    fn reading(partition: &str, level: Level) -> Option<Reading> {
        Some(Reading {
            partition: partition.into(),
            level,
        })
    }

    const UNKNOWN: Level = Level::Unknown;

    fn low(ceiling: f64) -> Level {
        Level::Low { ceiling }
    }

    #[test]
    fn low_means_under_half_the_quota_and_plenty_three_quarters() {
        let policy = Some("\"reads\";q=200;w=2");
        let level = |r: u64| {
            read(&headers(&format!("\"reads\";r={r};t=1"), policy))
                .unwrap()
                .level
        };
        assert_eq!(level(200), Level::Plenty);
        assert_eq!(level(150), Level::Plenty);
        assert_eq!(level(149), UNKNOWN);
        assert_eq!(level(100), UNKNOWN);
        assert_eq!(level(99), low(100.0));
        assert_eq!(level(0), low(100.0));
    }

    #[test]
    fn the_most_depleted_policy_decides_and_names_are_the_partition() {
        let policy = Some("\"day\";q=10000;w=86400, \"burst\";q=100;w=10");
        let h = headers("\"day\";r=9000;t=600, \"burst\";r=3;t=10", policy);
        assert_eq!(read(&h), reading("burst,day", low(10.0)));
        // Plenty only when every policy has plenty.
        let h = headers("\"day\";r=9000;t=600, \"burst\";r=60;t=10", policy);
        assert_eq!(read(&h), reading("burst,day", UNKNOWN));
        let h = headers("\"day\";r=9000;t=600, \"burst\";r=80;t=10", policy);
        assert_eq!(read(&h), reading("burst,day", Level::Plenty));
    }

    #[test]
    fn without_a_known_quota_or_with_a_tiny_one_remaining_says_nothing() {
        assert_eq!(read(&headers("\"p\";r=0;t=1", None)), reading("p", UNKNOWN));
        let tiny = Some("\"p\";q=4;w=1");
        assert_eq!(read(&headers("\"p\";r=0;t=1", tiny)), reading("p", UNKNOWN));
        let other = Some("\"q\";q=100;w=1");
        assert_eq!(
            read(&headers("\"p\";r=0;t=1", other)),
            reading("p", UNKNOWN)
        );
        let no_window = Some("\"p\";q=100");
        assert_eq!(
            read(&headers("\"p\";r=0;t=1", no_window)),
            reading("p", UNKNOWN)
        );
    }

    #[test]
    fn malformed_fields_are_ignored() {
        assert_eq!(read(&HeaderMap::new()), None);
        for bad in [
            "",
            ";r=1",
            "\"p;r=1",
            "\"p\";r=-1",
            "\"p\";r",
            "\"p\";r=1.5",
            "\"p\";t=x",
        ] {
            assert_eq!(read(&headers(bad, None)), None, "{bad:?}");
        }
        // A malformed policy only loses the early signal.
        let h = headers("\"p\";r=0;t=1", Some("\"p\";q=lots;w=1"));
        assert_eq!(read(&h), reading("p", UNKNOWN));
    }
}
