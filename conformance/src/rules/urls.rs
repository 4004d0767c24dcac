//! The URLs the suite derives: where a resource's lock lives, how to break it,
//! and a `Location` resolved against the collection.

/// The URL that breaks the lock at `lock_url` (`?break=true`): no token needed.
pub fn break_url(lock_url: &str) -> String {
    let joiner = if lock_url.contains('?') { '&' } else { '?' };
    format!("{lock_url}{joiner}break=true")
}

/// Where a resource's lock lives by default: `{item}` is the resource's URL.
pub const DEFAULT_LOCK_PATH: &str = "{item}/lock";

/// The URL of the lock of `item` under `template`: `{item}` is replaced by the
/// resource's absolute URL; otherwise `{id}` by its last path segment and the
/// result is resolved against `collection_url` (e.g. `/locks/{id}`).
pub fn lock_url(template: &str, collection_url: &str, item: &str) -> String {
    let item = item.trim_end_matches('/');
    if template.contains("{item}") {
        return template.replace("{item}", item);
    }
    let id = item.rsplit('/').next().unwrap_or_default();
    let path = template.replace("{id}", id);
    resolve(collection_url, &path).unwrap_or(path)
}

/// Resolves a `Location` value (absolute or relative) against the collection URL.
pub fn resolve(base: &str, location: &str) -> Option<String> {
    let base = reqwest::Url::parse(base).ok()?;
    base.join(location).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::{lock_url, resolve, DEFAULT_LOCK_PATH};

    #[test]
    fn lock_urls_follow_the_template() {
        let (collection, item) = ("http://h:1/v1/items", "http://h:1/v1/items/7");
        assert_eq!(
            lock_url(DEFAULT_LOCK_PATH, collection, item),
            "http://h:1/v1/items/7/lock"
        );
        assert_eq!(
            lock_url("{item}:lock", collection, "http://h:1/v1/items/7/"),
            "http://h:1/v1/items/7:lock"
        );
        assert_eq!(
            lock_url("/locks/{id}", collection, item),
            "http://h:1/locks/7"
        );
    }

    #[test]
    fn location_resolves_relative_and_absolute() {
        let base = "http://127.0.0.1:9/items";
        assert_eq!(
            resolve(base, "/items/7").unwrap(),
            "http://127.0.0.1:9/items/7"
        );
        assert_eq!(resolve(base, "http://h/x").unwrap(), "http://h/x");
    }
}
