//! HTTP semantics every resource shares (RFC 9110): `HEAD` wherever `GET` works, a `304` to an
//! `If-None-Match` that names the current `ETag`, and `Allow` on every `405`. One middleware
//! around the whole app, so no handler repeats them.
use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;

use super::{docs, openapi};

/// The methods each documented path serves, keyed by the router's pattern of that path
/// (`/api/v1/meetings/{id}`): the OpenAPI document is the one list of routes, and
/// `tests/api/openapi.rs` checks it against the routes the source registers.
static ALLOWED: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    let Some(paths) = openapi::DOCUMENT["paths"].as_object() else {
        return BTreeMap::new();
    };
    paths
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<&str> = ["GET", "PUT", "POST", "DELETE", "PATCH"]
                .into_iter()
                .filter(|m| item.get(m.to_lowercase()).is_some())
                .collect();
            if methods.contains(&"GET") {
                methods.insert(1, "HEAD");
            }
            (path.clone(), methods.join(", "))
        })
        .collect()
});

/// The `Allow` value of the resource a request was routed to, from the document.
/// The API page's routes are not API operations and serve `GET` alone.
pub fn allowed(pattern: &str) -> Option<&'static str> {
    if docs::ROUTES.contains(&pattern) {
        return Some("GET, HEAD");
    }
    ALLOWED.get(pattern).map(String::as_str)
}

/// Does an `If-None-Match` value name `etag`? Weak comparison (RFC 9110 §13.1.2): `W/` is
/// ignored on both sides; `*` matches any current representation.
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let current = etag.trim().trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == current)
}

pub async fn conditional(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // A HEAD is answered as the GET it mirrors; actix sends the headers and drops the body.
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut res = next.call(req).await?.map_into_boxed_body();
    if res.status() == StatusCode::METHOD_NOT_ALLOWED && !res.headers().contains_key(header::ALLOW)
    {
        let allow = res.request().match_pattern().and_then(|p| allowed(&p));
        if let Some(allow) = allow {
            res.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        }
    }
    if reads && res.status() == StatusCode::OK {
        let current = res
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok());
        if let (Some(wanted), Some(current)) = (if_none_match.as_deref(), current) {
            if none_match(wanted, current) {
                let mut not_modified = HttpResponse::NotModified();
                for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
                    if let Some(v) = res.headers().get(&name) {
                        not_modified.insert_header((name, v.clone()));
                    }
                }
                let (req, _) = res.into_parts();
                return Ok(ServiceResponse::new(req, not_modified.finish()));
            }
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::{allowed, none_match};

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_stars() {
        assert!(none_match("\"3\"", "\"3\""));
        assert!(none_match("W/\"3\"", "\"3\""));
        assert!(none_match("\"1\", \"3\"", "\"3\""));
        assert!(none_match("*", "\"3\""));
        assert!(!none_match("\"2\"", "\"3\""));
    }

    #[test]
    fn allow_lists_head_beside_get_and_only_documented_methods() {
        assert_eq!(allowed("/api/v1/meetings/{id}"), Some("GET, HEAD, PATCH"));
        assert_eq!(allowed("/api/v1/meetings/{id}/cancel"), Some("POST"));
        assert_eq!(allowed("/nowhere"), None);
    }
}
