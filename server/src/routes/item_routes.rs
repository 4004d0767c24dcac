//! The `/items…` routes, served three times: unprefixed (v1 unless `Api-Version` says 2),
//! under `/v1` and under `/v2`. One handler set serves all of them; the
//! [`negotiate`](crate::api_version::negotiate) middleware tells each request which
//! representation it asked for (the handlers take an [`Api`](crate::api_version::Api)).

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use super::{item, items, lock, versions, AppState};
use crate::api_version::{negotiate, unprefixed, Retirement};

/// The URL prefixes the `/items…` routes are served under.
const PREFIXES: [&str; 3] = ["", "/v1", "/v2"];

/// Every `/items…` route under every prefix, behind the version negotiation.
pub(super) fn routes(retirement: Retirement) -> Router<AppState> {
    let mut router = Router::new();
    for prefix in PREFIXES {
        router = router
            .route(
                &format!("{prefix}/items"),
                get(items::list).post(items::create),
            )
            .route(
                &format!("{prefix}/items/{{id}}"),
                get(item::read)
                    .put(item::put)
                    .patch(item::patch)
                    .delete(item::delete),
            )
            .route(
                &format!("{prefix}/items/{{id}}/lock"),
                post(lock::acquire)
                    .get(lock::show)
                    .put(lock::renew)
                    .delete(lock::release),
            )
            .route(
                &format!("{prefix}/items/{{id}}/versions"),
                get(versions::list),
            )
            .route(
                &format!("{prefix}/items/{{id}}/versions/{{n}}"),
                get(versions::read),
            );
    }
    router.route_layer(middleware::from_fn_with_state(retirement, negotiate))
}

/// The methods served on an `/items…` path (prefixed or not), for `Allow`; `None` for other
/// paths.
pub(super) fn allowed(path: &str) -> Option<&'static str> {
    let path = unprefixed(path);
    if path == "/items" {
        return Some("GET, HEAD, POST");
    }
    let rest = path.strip_prefix("/items/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    Some(match segments.as_slice() {
        [id] if !id.is_empty() => "GET, HEAD, PUT, PATCH, DELETE",
        [id, "lock"] if !id.is_empty() => "GET, HEAD, POST, PUT, DELETE",
        [id, "versions"] | [id, "versions", _] if !id.is_empty() => "GET, HEAD",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_methods_of_each_kind_of_items_path() {
        assert_eq!(allowed("/items"), Some("GET, HEAD, POST"));
        assert_eq!(allowed("/v2/items"), Some("GET, HEAD, POST"));
        assert_eq!(
            allowed("/v1/items/a"),
            Some("GET, HEAD, PUT, PATCH, DELETE")
        );
        assert_eq!(
            allowed("/items/lock"),
            Some("GET, HEAD, PUT, PATCH, DELETE")
        );
        assert_eq!(
            allowed("/v2/items/a/lock"),
            Some("GET, HEAD, POST, PUT, DELETE")
        );
        assert_eq!(allowed("/items/a/versions"), Some("GET, HEAD"));
        assert_eq!(allowed("/v2/items/a/versions/7"), Some("GET, HEAD"));
        assert_eq!(allowed("/items//lock"), None);
        assert_eq!(allowed("/batch"), None);
    }
}
