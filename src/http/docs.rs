//! `GET /api/docs`: the API document for people, rendered by RapiDoc (npm `rapidoc` 9.3.8,
//! MIT, vendored in `vendor/rapidoc/` and embedded: nothing is fetched from outside). The page is open;
//! the document it shows needs a token, which the page asks for.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

const PAGE: &str = r#"<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>voter-meetings API</title>
<link rel="stylesheet" href="/api/docs/docs.css">
<script type="module" src="/api/docs/rapidoc-min.js"></script>
<script defer src="/api/docs/docs.js"></script>
</head>
<body>
<form id="token-form">
<label for="token">API token / Mã truy cập</label>
<input id="token" type="password" autocomplete="off" required>
<button type="submit">Load / Tải</button>
<output id="status" aria-live="polite"></output>
</form>
<rapi-doc id="doc" render-style="read" show-header="false" allow-spec-url-load="false" allow-spec-file-load="false" allow-server-selection="false" allow-authentication="true" persist-auth="false" theme="light" regular-font="system-ui, sans-serif" mono-font="ui-monospace, monospace"></rapi-doc>
</body>
</html>
"#;

const CSS: &str = "body{margin:0;font-family:system-ui,sans-serif}\
#token-form{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;padding:.5rem 1rem;border-bottom:1px solid #ccc}\
#token{min-width:18rem;padding:.3rem}rapi-doc{height:calc(100vh - 3.5rem);width:100%}";

const RAPIDOC: &str = include_str!("vendor/rapidoc/rapidoc-min.js");
const SCRIPT: &str = include_str!("assets/docs.js");

/// The page and its assets: each serves `GET` (and so `HEAD`) only.
pub const ROUTES: [&str; 4] = [
    "/api/docs",
    "/api/docs/rapidoc-min.js",
    "/api/docs/docs.js",
    "/api/docs/docs.css",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(ROUTES[0]).get(page))
        .service(web::resource(ROUTES[1]).get(rapidoc))
        .service(web::resource(ROUTES[2]).get(script))
        .service(web::resource(ROUTES[3]).get(css));
}

/// Everything from this origin; RapiDoc's components style themselves (`'unsafe-inline'` for
/// styles only), and no script runs that the service did not serve.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(PAGE)
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

async fn rapidoc() -> HttpResponse {
    asset("text/javascript; charset=utf-8", RAPIDOC)
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}
