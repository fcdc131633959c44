//! HTTP semantics shared by every resource (RFC 9110, issue 17): `Allow` on a 405, `HEAD`
//! wherever `GET` works, `304` to an `If-None-Match` naming the current `ETag`, and strong
//! comparison for `If-Match`.
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_method_a_resource_does_not_serve_is_405_with_the_methods_it_does() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::DELETE, "/regions", "GET, HEAD, POST"),
        (
            Method::PUT,
            "/meetings/0190a9f4-0000-7000-8000-000000000000",
            "GET, HEAD, PATCH",
        ),
        (
            Method::GET,
            "/meetings/0190a9f4-0000-7000-8000-000000000000/cancel",
            "POST",
        ),
        (Method::POST, "/outbox", "GET, HEAD"),
        (
            Method::PATCH,
            "/tokens/0190a9f4-0000-7000-8000-000000000000",
            "DELETE",
        ),
    ] {
        let answer = app
            .request(method.clone(), path, Some(&app.admin), None, &[])
            .await;
        answer.problem(405, "method_not_allowed");
        assert_eq!(
            answer.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    let region = app.region("Tỉnh Hà Tĩnh", "province", None).await;
    let get = app.get(&format!("/regions/{region}"), &app.admin).await;
    get.ok(200);
    let head = app
        .request(
            Method::HEAD,
            &format!("/regions/{region}"),
            Some(&app.admin),
            None,
            &[],
        )
        .await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty(), "a HEAD has no body: {}", head.text);
    assert_eq!(head.content_type(), get.content_type());
    let length = head
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok());
    assert_eq!(length, Some(get.text.len().to_string().as_str()));
    // Authentication comes first for HEAD as for GET.
    let anonymous = app
        .request(Method::HEAD, &format!("/regions/{region}"), None, None, &[])
        .await;
    assert_eq!(anonymous.status, 401);
    let open = app.request(Method::HEAD, "/healthz", None, None, &[]).await;
    assert_eq!(open.status, 200);
}

#[actix_web::test]
async fn a_meeting_the_client_holds_answers_304_until_it_changes() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let meeting = app.meeting_from_now(&s, s.hall, 600, 660, 20).await;
    let path = format!("/meetings/{}", meeting["id"].as_str().expect("id"));
    let first = app.get(&path, &app.admin).await;
    let etag = first.headers["etag"].to_str().expect("etag").to_owned();
    for held in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"999\", {etag}"),
        "*".to_owned(),
    ] {
        let again = app
            .request(
                Method::GET,
                &path,
                Some(&app.admin),
                None,
                &[("If-None-Match", &held)],
            )
            .await;
        assert_eq!(again.status, 304, "If-None-Match: {held}");
        assert!(again.text.is_empty());
        assert_eq!(again.headers["etag"].to_str().ok(), Some(etag.as_str()));
    }
    // A weak tag never satisfies If-Match (strong comparison): 412, and nothing changes.
    let weak = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"title": "Đổi tên"})),
            &[("If-Match", &format!("W/{etag}"))],
        )
        .await;
    weak.problem(412, "version_conflict");
    let changed = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"title": "Đổi tên"})),
            &[("If-Match", &etag)],
        )
        .await;
    changed.ok(200);
    let stale = app
        .request(
            Method::GET,
            &path,
            Some(&app.admin),
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(stale.status, 200, "changed since: the new version, not 304");
    assert_eq!(stale.body["title"], "Đổi tên");
    assert_ne!(stale.headers["etag"].to_str().ok(), Some(etag.as_str()));
}

#[actix_web::test]
async fn an_outbox_filter_that_is_not_an_address_is_refused() {
    let app = spawn_app().await;
    for bad in ["", "x", "a@b"] {
        let answer = app
            .get(&format!("/outbox?recipient={bad}"), &app.admin)
            .await;
        assert_eq!(answer.invalid_fields(), ["recipient"], "recipient={bad:?}");
    }
    app.get("/outbox?recipient=ung-vien@example.vn", &app.admin)
        .await
        .ok(200);
}

#[actix_web::test]
async fn an_idempotency_key_outside_the_documented_pattern_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let body = json!({"name": "Tỉnh Quảng Bình", "level": "province"});
    for key in ["two words", "ké", &"k".repeat(256)] {
        let answer = app
            .request(
                Method::POST,
                "/regions",
                Some(&app.admin),
                Some(body.clone()),
                &[("Idempotency-Key", key)],
            )
            .await;
        answer.problem(400, "bad_request");
    }
    let listed = app.get("/regions", &app.admin).await;
    assert_eq!(listed.ok(200)["items"], json!([]), "nothing was created");
}

#[actix_web::test]
async fn the_api_page_is_served_with_its_assets_and_nothing_from_outside() {
    let app = spawn_app().await;
    let page = app.request(Method::GET, "/api/docs", None, None, &[]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.content_type().starts_with("text/html"));
    let policy = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    // Every script and stylesheet the page names is served here, none from another host.
    let mut assets = 0;
    for attr in ["src=\"", "href=\""] {
        for piece in page.text.split(attr).skip(1) {
            let url = piece.split('"').next().unwrap_or("");
            assert!(url.starts_with('/'), "the page loads {url} from outside");
            let asset = app.request(Method::GET, url, None, None, &[]).await;
            assert_eq!(asset.status, 200, "{url}");
            assets += 1;
        }
    }
    assert_eq!(assets, 3, "RapiDoc, its loader and the stylesheet");
    let wrong = app
        .request(Method::POST, "/api/docs", None, None, &[])
        .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers["allow"], "GET, HEAD");
}
