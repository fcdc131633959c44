//! `/meetings`: plan, list, read, edit (with `If-Match`) and cancel voter-contact meetings.
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::meetings::{self as db, MeetingFilter, MeetingView};
use crate::domain::values::{optional_text, text, timestamp};
use crate::error::{ApiError, FieldErrors};
use crate::idempotency::Created;
use crate::pagination::PageRequest;
use crate::planning::{self, Format, MeetingPlan, OnlinePlan, SiteRequest};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/meetings").post(create).get(list))
        .service(web::resource("/meetings/{id}").get(get).patch(patch))
        .service(web::resource("/meetings/{id}/cancel").post(cancel));
}

const DEFAULT_TITLE: &str = "Hội nghị tiếp xúc cử tri";
const MAX_UNITS: usize = 10;
const MAX_SITES: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChairIn {
    name: String,
    role: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteIn {
    venue_id: Uuid,
    expected_attendees: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OnlineIn {
    platform: Option<String>,
    join_url: Option<String>,
    max_participants: i32,
    expected_attendees: i32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMeeting {
    election_id: Uuid,
    electoral_unit_ids: Vec<Uuid>,
    format: String,
    title: Option<String>,
    chair: Option<ChairIn>,
    starts_at: String,
    ends_at: String,
    candidate_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    sites: Vec<SiteIn>,
    online: Option<OnlineIn>,
}

fn chair(e: &mut FieldErrors, c: Option<&ChairIn>) -> Option<(String, Option<String>)> {
    let c = c?;
    let name = e.take("chair.name", text(&c.name, 200))?;
    let role = e.take("chair.role", optional_text(c.role.as_deref(), 200))?;
    Some((name, role))
}

fn online(e: &mut FieldErrors, o: &OnlineIn) -> Option<OnlinePlan> {
    let platform = e.take("online.platform", optional_text(o.platform.as_deref(), 100));
    let join_url = e.take(
        "online.join_url",
        o.join_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| match url::Url::parse(u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(u.to_owned()),
                _ => Err(format!("{u:?} is not an http(s) URL")),
            })
            .transpose(),
    );
    if !(1..=1_000_000).contains(&o.max_participants) {
        e.add("online.max_participants", "must be between 1 and 1000000");
    }
    if !(0..=1_000_000).contains(&o.expected_attendees) {
        e.add("online.expected_attendees", "must be between 0 and 1000000");
    }
    Some(OnlinePlan {
        platform: platform?,
        join_url: join_url?,
        max_participants: o.max_participants,
        expected_attendees: o.expected_attendees,
    })
}

fn sites(e: &mut FieldErrors, sites: &[SiteIn]) -> Vec<SiteRequest> {
    if sites.len() > MAX_SITES {
        e.add("sites", format!("at most {MAX_SITES} sites"));
    }
    for (i, s) in sites.iter().enumerate() {
        if !(0..=100_000).contains(&s.expected_attendees) {
            e.add(
                format!("sites[{i}].expected_attendees"),
                "must be between 0 and 100000",
            );
        }
        if sites[..i].iter().any(|o| o.venue_id == s.venue_id) {
            e.add(format!("sites[{i}].venue_id"), "the venue is listed twice");
        }
    }
    sites
        .iter()
        .map(|s| SiteRequest {
            venue_id: s.venue_id,
            expected_attendees: s.expected_attendees,
        })
        .collect()
}

/// The checks on a plan's shape that need no database.
fn shape(e: &mut FieldErrors, plan: &MeetingPlan) {
    if plan.ends_at <= plan.starts_at {
        e.add("ends_at", "must be after starts_at");
    } else if plan.ends_at - plan.starts_at > Duration::hours(24) {
        e.add("ends_at", "a meeting lasts at most 24 hours");
    }
    if plan.unit_ids.is_empty() || plan.unit_ids.len() > MAX_UNITS {
        e.add(
            "electoral_unit_ids",
            format!("name 1 to {MAX_UNITS} electoral units"),
        );
    }
    let mut units = plan.unit_ids.clone();
    units.sort();
    units.dedup();
    if units.len() != plan.unit_ids.len() {
        e.add("electoral_unit_ids", "an electoral unit is listed twice");
    }
    match plan.format {
        Format::InPerson => {
            if plan.sites.len() != 1 {
                e.add("sites", "an in_person meeting has exactly one site");
            }
            if plan.online.is_some() {
                e.add("online", "an in_person meeting has no online block");
            }
        }
        Format::Online => {
            if plan.online.is_none() {
                e.add("online", "an online meeting needs its online block");
            }
        }
    }
}

impl NewMeeting {
    fn parse(&self) -> Result<MeetingPlan, ApiError> {
        let mut e = FieldErrors::new();
        let format = e.take("format", Format::parse(&self.format));
        let title = e.take(
            "title",
            text(self.title.as_deref().unwrap_or(DEFAULT_TITLE), 300),
        );
        let chair = chair(&mut e, self.chair.as_ref());
        let starts_at = e.take("starts_at", timestamp(&self.starts_at));
        let ends_at = e.take("ends_at", timestamp(&self.ends_at));
        let online = self.online.as_ref().map(|o| online(&mut e, o));
        let sites = sites(&mut e, &self.sites);
        if let (Some(format), Some(title), Some(starts_at), Some(ends_at)) =
            (format, title.clone(), starts_at, ends_at)
        {
            let plan = MeetingPlan {
                election_id: self.election_id,
                unit_ids: self.electoral_unit_ids.clone(),
                format,
                title,
                chair,
                starts_at,
                ends_at,
                candidate_ids: self.candidate_ids.clone(),
                sites,
                online: online.clone().flatten(),
            };
            // An online block that failed its own checks is reported already; the shape
            // check would only add "an online meeting needs its online block".
            if !matches!(online, Some(None)) {
                shape(&mut e, &plan);
            }
            e.finish()?;
            return Ok(plan);
        }
        e.finish()?;
        Err(ApiError::internal(anyhow::anyhow!(
            "validated meeting lost a field"
        )))
    }
}

fn etag(m: &MeetingView) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{}\"", m.version))
}

fn buffer(state: &AppState) -> Duration {
    Duration::minutes(state.settings.scheduling.travel_buffer_minutes)
}

async fn create(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    body: web::Json<NewMeeting>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_can_mutate()?;
    let plan = body.parse()?;
    let travel = buffer(&state);
    super::create_once(&state, who, &req, body.into_inner(), move |conn, who, _| {
        let meeting = planning::create(conn, who, plan, travel)?;
        let created = Created::new(&meeting, Some(format!("/api/v1/meetings/{}", meeting.id)))?;
        Ok(created.with_etag(etag(&meeting).1))
    })
    .await
}

async fn get(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "meeting")?;
    let meeting = crate::db::run(&state.pool, move |conn| {
        let row = db::find(conn, id)?;
        who.ensure_read(&row.region_path)?;
        db::view_one(conn, row)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(&meeting))
        .json(meeting))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetingPatch {
    title: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    chair: Option<Option<ChairIn>>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    format: Option<String>,
    candidate_ids: Option<Vec<Uuid>>,
    sites: Option<Vec<SiteIn>>,
    #[serde(default, deserialize_with = "super::nullable")]
    online: Option<Option<OnlineIn>>,
}

impl MeetingPatch {
    /// Merges the fields present into the stored plan and checks the result's shape.
    fn apply(self, mut plan: MeetingPlan) -> Result<MeetingPlan, ApiError> {
        let mut e = FieldErrors::new();
        if let Some(t) = &self.title {
            plan.title = e.take("title", text(t, 300)).unwrap_or_default();
        }
        if let Some(c) = &self.chair {
            plan.chair = chair(&mut e, c.as_ref());
        }
        if let Some(s) = &self.starts_at {
            if let Some(t) = e.take("starts_at", timestamp(s)) {
                plan.starts_at = t;
            }
        }
        if let Some(s) = &self.ends_at {
            if let Some(t) = e.take("ends_at", timestamp(s)) {
                plan.ends_at = t;
            }
        }
        if let Some(f) = &self.format {
            if let Some(f) = e.take("format", Format::parse(f)) {
                plan.format = f;
            }
        }
        if let Some(c) = self.candidate_ids {
            plan.candidate_ids = Some(c);
        }
        if let Some(s) = &self.sites {
            plan.sites = sites(&mut e, s);
        }
        if let Some(o) = &self.online {
            plan.online = o.as_ref().and_then(|o| online(&mut e, o));
        }
        if e.is_empty() {
            shape(&mut e, &plan);
        }
        e.finish()?;
        Ok(plan)
    }
}

/// The version an `If-Match` header names: `"3"`, `W/"3"`, or `*` for whatever is current.
fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::problem(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "send If-Match with the meeting's ETag (from GET) to change it",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::bad_request("If-Match is not valid text"))?
        .trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .map(Some)
        .map_err(|_| {
            ApiError::problem(
                StatusCode::PRECONDITION_FAILED,
                "version_conflict",
                format!("If-Match {raw} is not an ETag of this meeting"),
            )
        })
}

async fn patch(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<MeetingPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "meeting")?;
    let expected = if_match(&req)?;
    let travel = buffer(&state);
    let patch = body.into_inner();
    let meeting = crate::db::tx(&state.pool, move |conn| {
        let version = match expected {
            Some(v) => v,
            None => db::find(conn, id)?.version,
        };
        planning::edit(conn, &who, id, version, |plan| patch.apply(plan), travel)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(&meeting))
        .json(meeting))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    reason: String,
}

async fn cancel(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    body: web::Json<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "meeting")?;
    let reason = text(&body.reason, 1000).map_err(|m| ApiError::field("reason", m))?;
    let meeting = crate::db::tx(&state.pool, move |conn| {
        planning::cancel(conn, &who, id, reason)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(&meeting))
        .json(meeting))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    election_id: Option<Uuid>,
    electoral_unit_id: Option<Uuid>,
    region_id: Option<Uuid>,
    candidate_id: Option<Uuid>,
    status: Option<String>,
    format: Option<String>,
    from: Option<String>,
    to: Option<String>,
    needs_attention: Option<bool>,
    updated_since: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn cursor_of(m: &MeetingView) -> String {
    format!("{}_{}", m.starts_at.timestamp_micros(), m.id)
}

fn parse_cursor(c: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || ApiError::field("cursor", "is not a cursor this API issued");
    let (micros, id) = c.split_once('_').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

async fn list(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let mut e = FieldErrors::new();
    let status = match q.status.as_deref() {
        None => None,
        Some(s @ ("planned" | "cancelled" | "held")) => Some(s.to_owned()),
        Some(other) => {
            e.add(
                "status",
                format!("must be planned, cancelled or held, not {other:?}"),
            );
            None
        }
    };
    let format = q
        .format
        .as_deref()
        .and_then(|f| e.take("format", Format::parse(f)))
        .map(|f| f.as_str().to_owned());
    let mut time =
        |field: &str, v: &Option<String>| v.as_deref().and_then(|s| e.take(field, timestamp(s)));
    let from = time("from", &q.from);
    let to = time("to", &q.to);
    let updated_since = time("updated_since", &q.updated_since);
    e.finish()?;
    let filter = MeetingFilter {
        scope: who.scope(),
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
        after: page.cursor.as_deref().map(parse_cursor).transpose()?,
        limit: page.fetch(),
    };
    let rows = crate::db::run(&state.pool, move |conn| {
        let rows = db::list(conn, filter)?;
        db::views(conn, rows)
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
