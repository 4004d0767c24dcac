//! The host (for per-host state) and the origin (for deprecation notices) of a request URL,
//! read from the URL text without parsing it again.
//!
//! Request URLs are the `url` crate's own serialisation (the client resolved them), so their
//! authority is already in normal form: reading `scheme://host[:port]` off the text gives what
//! `url::Url::parse` would. Anything not plainly in that form (user info, upper case, IPv6, a
//! host that ends in a number other than a dotted quad, percent-escapes) is handed to `url`, so
//! the answers are the same either way; the shortcut only saves the parse on the common path.

/// `scheme`, `host` and the explicit port of an `http`/`https` URL whose authority is in the
/// normal form `url` writes; `None` for anything else.
fn split(url: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(u16::try_from(number(port)?).ok()?)),
        None => (authority, None),
    };
    let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
    if host.is_empty() || !host.bytes().all(plain) || host.contains("..") || host.starts_with('.') {
        return None;
    }
    let last = host.trim_end_matches('.').rsplit('.').next()?;
    if last.starts_with(|c: char| c.is_ascii_digit()) && !is_dotted_quad(host) {
        return None;
    }
    Some((scheme, host, port))
}

/// `a.b.c.d`, four decimal numbers 0–255 without leading zeros: an IPv4 address as `url` writes it.
fn is_dotted_quad(host: &str) -> bool {
    let mut parts = 0;
    host.split('.').all(|p| {
        parts += 1;
        number(p).is_some_and(|n| n <= 255)
    }) && parts == 4
}

/// A decimal number of one to five digits without a leading zero.
fn number(digits: &str) -> Option<u32> {
    let canonical = (1..=5).contains(&digits.len())
        && (digits.len() == 1 || !digits.starts_with('0'))
        && digits.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| digits.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

/// `host:port` (the scheme's port if none is given), the key of per-host state; empty for a URL
/// without a host.
pub(crate) fn host_key(url: &str) -> String {
    if let Some((scheme, host, port)) = split(url) {
        return format!("{host}:{}", port.unwrap_or_else(|| default_port(scheme)));
    }
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
}

/// The URL's origin as `url` serialises it (`http://h:8080`, no default port), or the URL itself
/// if it does not parse.
pub(crate) fn origin(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    const URLS: &[&str] = &[
        "http://a.example/x",
        "http://a.example",
        "https://a.example/x?y#z",
        "http://a.example?q",
        "http://a.example#f",
        "http://127.0.0.1:9/x",
        "http://127.0.0.1:80/x",
        "https://127.0.0.1:443/x",
        "https://h:80/",
        "http://h:080/",
        "http://h:0/",
        "http://h:65535/",
        "http://h:99999/",
        "http://1.2.3.4.5/",
        "http://1.2.3.04/",
        "http://h:8080/",
        "http://h:/",
        "http://h:65536/",
        "http://h:x/",
        "http://0x7f.1/",
        "http://123/",
        "http://1.2.3/",
        "http://01.2.3.4/",
        "http://256.1.1.1/",
        "http://a.b.1/",
        "http://a.b.c./",
        "http://a..b/",
        "http://.a/",
        "http://A.Example/",
        "http://u:p@h/",
        "http://[::1]:8080/x",
        "http://[0:0::1]/",
        "http://h%41/",
        "http://h\\x/",
        "http:/h/",
        "HTTP://h/",
        "ftp://h/x",
        "ws://h/x",
        "mailto:a@b",
        "file:///tmp/x",
        "not a url",
        "",
        "http://xn--nxasmq6b.example/",
        "https://a-b.c-d.example:1/p",
    ];

    fn reference_host(url: &str) -> String {
        url::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
            })
            .unwrap_or_default()
    }

    fn reference_origin(url: &str) -> String {
        url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.origin().ascii_serialization())
    }

    #[test]
    fn hosts_include_the_port() {
        assert_eq!(host_key("http://a.example/x"), "a.example:80");
        assert_eq!(host_key("http://127.0.0.1:9/x"), "127.0.0.1:9");
        assert_eq!(host_key("https://[::1]/x"), "[::1]:443");
        assert_eq!(host_key("mailto:a@b"), "");
    }

    #[test]
    fn the_shortcut_agrees_with_url() {
        for url in URLS {
            assert_eq!(host_key(url), reference_host(url), "host of {url:?}");
            assert_eq!(origin(url), reference_origin(url), "origin of {url:?}");
        }
    }

    #[test]
    fn the_shortcut_is_taken_for_urls_url_wrote() {
        for url in URLS {
            let Ok(parsed) = url::Url::parse(url) else {
                continue;
            };
            let written = String::from(parsed);
            assert_eq!(host_key(&written), reference_host(&written), "{written}");
            assert_eq!(origin(&written), reference_origin(&written), "{written}");
        }
        assert_eq!(
            split("http://127.0.0.1:9/x"),
            Some(("http", "127.0.0.1", Some(9)))
        );
        assert_eq!(
            split("https://a.example/x"),
            Some(("https", "a.example", None))
        );
        assert_eq!(split("http://[::1]/"), None);
        assert_eq!(split("http://0x7f.1/"), None);
    }
}
