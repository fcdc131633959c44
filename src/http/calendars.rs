//! `GET /calendars/{secret}.ics`: a candidate's calendar for calendar apps, outside `/api/v1`
//! and without a bearer token (the secret is the credential). Apps poll it: an unchanged
//! calendar answers 304 to the `ETag` they hold.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use super::schedules::ics_response;
use crate::app::{schedules, Ctx};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/calendars/{secret}.ics").get(feed));
}

/// A strong validator of the calendar's bytes.
fn etag(calendar: &str) -> String {
    format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(calendar.as_bytes()))[..32]
    )
}

/// Whether `If-None-Match` names this tag (or any), weak or strong (RFC 9110 §13.1.2).
fn matches(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

#[utoipa::path(
    get,
    path = "/calendars/{secret}.ics",
    operation_id = "subscribedCalendar",
    tag = "email",
    summary = "A candidate's calendar for calendar apps; the secret is the credential (no token)",
    params(
        ("secret" = String, Path, description = "The calendar link's secret."),
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "The ETag of the calendar the app holds."),
    ),
    responses(
        (
            status = 200,
            description = "RFC 5545 (METHOD:PUBLISH, REFRESH-INTERVAL and X-PUBLISHED-TTL one hour): past, upcoming and cancelled meetings.",
            content_type = "text/calendar",
            body = String,
            headers(("ETag" = String)),
        ),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
    ),
    security(()),
)]
async fn feed(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    secret: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let secret = secret.into_inner();
    let calendar = ctx
        .read(move |tx| schedules::subscribed_calendar(tx, &secret))
        .await?;
    let tag = etag(&calendar);
    let mut response = if matches(&req, &tag) {
        HttpResponse::NotModified().finish()
    } else {
        ics_response(calendar)
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        header::HeaderValue::from_str(&tag).map_err(crate::app::Error::internal)?,
    );
    // Revalidate each time: the ETag makes that cheap, and a change shows at the next poll.
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
