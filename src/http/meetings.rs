//! `/meetings`: plan, list, read, edit (with `If-Match`) and cancel voter-contact meetings.
use super::query::Query;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::idempotency::{run_once, Answer};
use super::openapi::inputs::{Id, IdempotencyKey, IfMatch, Paging};
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::meetings::{self, Expected, Meeting, MeetingPatch, NewMeeting};
use crate::app::Ctx;
use crate::db::meetings::MeetingFilter;
use crate::domain::kinds::{self, Format, MeetingStatus};
use crate::domain::problem::{Code, FieldErrors, Problem};
use crate::domain::values::timestamp;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/meetings").post(create).get(list))
        .service(web::resource("/meetings/{id}").get(get).patch(patch))
        .service(web::resource("/meetings/{id}/cancel").post(cancel));
}

fn etag(m: &Meeting) -> String {
    format!("\"{}\"", m.version)
}

#[utoipa::path(
    post,
    path = "/api/v1/meetings",
    operation_id = "createMeeting",
    tag = "meetings",
    summary = "Plan a meeting (every rule of SPEC §3 is checked)",
    params(IdempotencyKey),
    request_body = NewMeeting,
    responses(
        (
            status = 201,
            description = "Created",
            body = Meeting,
            headers(("Location" = String), ("ETag" = String), ("Idempotent-Replayed" = String)),
        ),
        (
            status = 409,
            description = "`candidate_conflict` (a candidate is in an overlapping meeting, counting the travel buffer) or `venue_conflict` (the venue hosts an overlapping meeting); the problem names the other meeting in `conflicting_meeting_id`.",
        ),
        (
            status = 422,
            description = "`validation_failed`; `outside_campaign_window`; `capacity_exceeded` (names the site and binding rule in `problems`); `in_person_not_allowed`; `idempotency_key_reused`.",
        ),
    ),
)]
async fn create(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Json<NewMeeting>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (caller, new) = (who.clone(), body.clone());
    run_once(&ctx, &who, &req, &body, move |tx| {
        let meeting = meetings::plan(tx, &caller, &new)?;
        let location = format!("/api/v1/meetings/{}", meeting.id);
        Ok(Answer::created(&meeting, Some(location))?.with_etag(etag(&meeting)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/meetings/{id}",
    operation_id = "getMeeting",
    tag = "meetings",
    summary = "Read a meeting",
    params(Id),
    responses(
        (status = 200, description = "OK", body = Meeting, headers(("ETag" = String))),
    ),
)]
async fn get(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "meeting")?;
    let meeting = ctx.read(move |tx| meetings::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&meeting)))
        .json(meeting))
}

/// The version an `If-Match` header names, if the request sent one: `"3"`, or `*` for
/// whatever is current. Comparison is strong (RFC 9110): a weak tag `W/"3"` matches nothing.
pub(super) fn if_match_sent(req: &HttpRequest) -> Result<Option<Expected>, ApiError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = raw
        .to_str()
        .map_err(|_| ApiError::bad_request("If-Match is not valid text"))?
        .trim();
    if raw == "*" {
        return Ok(Some(Expected::Any));
    }
    let stale = |why: &str| ApiError::new(Code::VersionConflict, format!("If-Match {raw} {why}"));
    if raw.starts_with("W/") {
        return Err(stale(
            "is a weak ETag; a change needs the strong one this API sends",
        ));
    }
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .and_then(|v| v.parse::<i32>().ok())
        .map(|v| Some(Expected::Version(v)))
        .ok_or_else(|| stale("is not an ETag this API sent"))
}

/// The `If-Match` a change requires (428 `precondition_required` without it).
fn if_match(req: &HttpRequest) -> Result<Expected, ApiError> {
    if_match_sent(req)?.ok_or_else(|| {
        ApiError::new(
            Code::PreconditionRequired,
            "send If-Match with the meeting's ETag (from GET) to change it",
        )
    })
}

#[utoipa::path(
    patch,
    path = "/api/v1/meetings/{id}",
    operation_id = "updateMeeting",
    tag = "meetings",
    summary = "Reschedule or edit a planned meeting",
    params(Id, IfMatch),
    request_body = MeetingPatch,
    responses(
        (status = 200, description = "OK", body = Meeting, headers(("ETag" = String))),
        (
            status = 409,
            description = "`meeting_not_planned` (cancelled or held meetings do not change), `candidate_conflict` or `venue_conflict`.",
        ),
        (
            status = 412,
            description = "`version_conflict`: If-Match names an older version; read the meeting again.",
        ),
        (
            status = 422,
            description = "`validation_failed`, `outside_campaign_window`, `capacity_exceeded`, `in_person_not_allowed`, or `meeting_ended` (rule 15: the meeting is over; only an admin may change it, audited).",
        ),
        (status = 428, description = "`precondition_required`: send If-Match."),
    ),
)]
async fn patch(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<MeetingPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "meeting")?;
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let meeting = ctx
        .tx(move |tx| meetings::edit(tx, &who, id, expected, &patch))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&meeting)))
        .json(meeting))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/meetings/{id}/cancel",
    operation_id = "cancelMeeting",
    tag = "meetings",
    summary = "Cancel a planned meeting; its candidates are emailed",
    params(Id),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "OK", body = Meeting, headers(("ETag" = String))),
        (status = 409, description = "`meeting_not_planned`: already cancelled or held."),
        (
            status = 422,
            description = "`validation_failed` (reason), or `meeting_ended` (rule 15: the meeting is over, so its report is due; only an admin may cancel it, audited).",
        ),
    ),
)]
async fn cancel(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "meeting")?;
    let reason = body.into_inner().reason;
    let meeting = ctx
        .tx(move |tx| meetings::cancel(tx, &who, id, &reason))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&meeting)))
        .json(meeting))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    election_id: Option<Uuid>,
    electoral_unit_id: Option<Uuid>,
    /// Meetings in this region's subtree.
    region_id: Option<Uuid>,
    candidate_id: Option<Uuid>,
    #[param(value_type = Option<MeetingStatus>)]
    status: Option<String>,
    #[param(value_type = Option<Format>)]
    format: Option<String>,
    /// Meetings ending after this instant.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Meetings starting before this instant.
    #[param(format = DateTime)]
    to: Option<String>,
    needs_attention: Option<bool>,
    /// Meetings changed at or after this instant.
    #[param(format = DateTime)]
    updated_since: Option<String>,
    /// Words to find in the title, venues and candidates, ignoring case and diacritics.
    #[param(max_length = 200)]
    q: Option<String>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

fn cursor_of(m: &Meeting) -> String {
    format!("{}_{}", m.starts_at.timestamp_micros(), m.id)
}

fn parse_cursor(c: &str) -> Result<(DateTime<Utc>, Uuid), Problem> {
    let bad = || Problem::field("cursor", "is not a cursor this API issued");
    let (micros, id) = c.split_once('_').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

#[utoipa::path(
    get,
    path = "/api/v1/meetings",
    operation_id = "listMeetings",
    tag = "meetings",
    summary = "List meetings in the caller's subtree, by start time",
    params(ListQuery, Paging),
    responses(
        (status = 200, description = "OK", body = super::pagination::Page<Meeting>),
    ),
)]
async fn list(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let mut e = FieldErrors::new();
    let status = q
        .status
        .as_deref()
        .and_then(|s| e.take("status", kinds::parse::<MeetingStatus>(s)));
    let format = q
        .format
        .as_deref()
        .and_then(|f| e.take("format", kinds::parse::<Format>(f)));
    let mut time =
        |field: &str, v: &Option<String>| v.as_deref().and_then(|s| e.take(field, timestamp(s)));
    let from = time("from", &q.from);
    let to = time("to", &q.to);
    let updated_since = time("updated_since", &q.updated_since);
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            e.add("to", "must be after from");
        }
    }
    let words =
        q.q.as_deref()
            .map(|q| e.take("q", crate::domain::text::optional_name(Some(q), 200)))
            .unwrap_or(Some(None))
            .flatten();
    e.finish()?;
    let after = page.cursor.as_deref().map(parse_cursor).transpose()?;
    let filter = MeetingFilter {
        scope: None,
        election_id: q.election_id,
        electoral_unit_id: q.electoral_unit_id,
        region_id: q.region_id,
        candidate_id: q.candidate_id,
        status,
        format,
        from,
        to,
        needs_attention: q.needs_attention,
        updated_since,
        q: words,
        after,
        limit: page.fetch(),
    };
    let rows = ctx
        .page(page.limit, move |tx| {
            meetings::list(tx, &who, filter.clone())
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, cursor_of)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = DateTime::from_timestamp_micros(1_620_000_000_123_456).expect("time");
        let id = Uuid::now_v7();
        let c = format!("{}_{}", at.timestamp_micros(), id);
        assert_eq!(parse_cursor(&c).ok(), Some((at, id)));
        assert!(parse_cursor("12_nope").is_err());
        assert!(parse_cursor("garbage").is_err());
    }
}
