//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, kept by hand in
//! `docs/openapi.json` and compiled into the binary. Like every endpoint but the health checks
//! (SPEC §4) it needs a token — any role.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The document; `tests/api/openapi.rs` checks it against the routes actually served.
pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").get(document));
}

async fn document(_who: super::auth::Caller) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::DOCUMENT;

    #[test]
    fn the_document_is_an_openapi_3_json_object() {
        let doc: serde_json::Value =
            serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));
    }
}
