//! `/elections`, their `/electoral-units` and the units' `/candidates`.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::db::elections::{
    self as db, Body, CandidateInsertForm, CandidateUpdateForm, ElectionInsertForm, UnitForm,
};
use crate::domain::campaign::CampaignWindow;
use crate::domain::values::{text, time_zone, timestamp, EmailAddress};
use crate::error::{vouched, ApiError, FieldErrors};
use crate::idempotency::Created;
use crate::pagination::PageRequest;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/elections")
            .post(create_election)
            .get(list_elections),
    )
    .service(web::resource("/elections/{id}").get(get_election))
    .service(
        web::resource("/elections/{id}/electoral-units")
            .post(create_unit)
            .get(list_units),
    )
    .service(web::resource("/electoral-units/{id}").get(get_unit))
    .service(
        web::resource("/electoral-units/{id}/candidates")
            .post(create_candidate)
            .get(list_candidates),
    )
    .service(
        web::resource("/candidates/{id}")
            .get(get_candidate)
            .patch(patch_candidate),
    );
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewElection {
    name: String,
    polling_starts_at: String,
    campaign_starts_at: String,
    timezone: Option<String>,
    report_deadline_hours: Option<i32>,
    min_meetings_per_candidate: Option<serde_json::Value>,
}

impl NewElection {
    fn parse(&self) -> Result<ElectionInsertForm, ApiError> {
        let mut e = FieldErrors::new();
        let name = e.take("name", text(&self.name, 300));
        let polling = e.take("polling_starts_at", timestamp(&self.polling_starts_at));
        let campaign = e.take("campaign_starts_at", timestamp(&self.campaign_starts_at));
        let tz = e.take(
            "timezone",
            time_zone(self.timezone.as_deref().unwrap_or("Asia/Ho_Chi_Minh")),
        );
        let deadline = self.report_deadline_hours.unwrap_or(24);
        if !(1..=720).contains(&deadline) {
            e.add("report_deadline_hours", "must be between 1 and 720");
        }
        let minimums = e.take(
            "min_meetings_per_candidate",
            db::parse_minimums(
                self.min_meetings_per_candidate
                    .as_ref()
                    .unwrap_or(&json!({})),
            ),
        );
        if let (Some(p), Some(c)) = (polling, campaign) {
            if c >= CampaignWindow::for_election(c, p).ends_at {
                e.add(
                    "campaign_starts_at",
                    "must be before campaign_ends_at (24 hours before polling_starts_at)",
                );
            }
        }
        e.finish()?;
        Ok(ElectionInsertForm {
            id: Uuid::now_v7(),
            name: vouched(name)?,
            polling_starts_at: vouched(polling)?,
            campaign_starts_at: vouched(campaign)?,
            timezone: vouched(tz)?.name().to_owned(),
            report_deadline_hours: deadline,
            min_meetings_per_candidate: vouched(minimums)?,
        })
    }
}

async fn create_election(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    body: web::Json<NewElection>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_admin()?;
    super::create_once(&state, who, &req, body.into_inner(), |conn, who, body| {
        let election = db::create_election(conn, body.parse()?)?;
        audit::record(
            conn,
            who,
            Change {
                action: "create",
                entity_type: "election",
                entity_id: election.id,
                province_id: None,
                before: None,
                after: serde_json::to_value(&election).ok(),
            },
        )?;
        Created::new(
            &election,
            Some(format!("/api/v1/elections/{}", election.id)),
        )
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_elections(
    state: web::Data<AppState>,
    _who: Caller,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let (after, limit) = (page.after_id()?, page.fetch());
    let rows = crate::db::run(&state.pool, move |conn| {
        db::list_elections(conn, after, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

async fn get_election(
    state: web::Data<AppState>,
    _who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "election")?;
    let election = crate::db::run(&state.pool, move |conn| db::find_election(conn, id)).await?;
    Ok(HttpResponse::Ok().json(election))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUnit {
    name: String,
    body: String,
    region_id: Uuid,
    seats: i32,
}

impl NewUnit {
    fn parse(&self) -> Result<UnitForm, ApiError> {
        let mut e = FieldErrors::new();
        let name = e.take("name", text(&self.name, 200));
        let body = e.take("body", Body::parse(&self.body));
        if let Some(b) = body {
            if !(1..=b.max_seats()).contains(&self.seats) {
                e.add(
                    "seats",
                    format!(
                        "a {} unit elects 1 to {} deputies (election law, Art. 10)",
                        b.as_str(),
                        b.max_seats()
                    ),
                );
            }
        }
        e.finish()?;
        Ok(UnitForm {
            name: vouched(name)?,
            body: vouched(body)?,
            region_id: self.region_id,
            seats: self.seats,
        })
    }
}

async fn create_unit(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<NewUnit>,
) -> Result<HttpResponse, ApiError> {
    let election_id = super::parse_id(&id, "election")?;
    super::create_once(
        &state,
        who,
        &req,
        body.into_inner(),
        move |conn, who, body| {
            db::find_election(conn, election_id)?;
            let form = body.parse()?;
            let region = db::unit_region(conn, form.body, form.region_id)?;
            who.ensure_write(&region.path)?;
            let unit = db::create_unit(conn, election_id, &region, form)?;
            audit::record(
                conn,
                who,
                Change {
                    action: "create",
                    entity_type: "electoral_unit",
                    entity_id: unit.id,
                    province_id: Some(unit.province_id),
                    before: None,
                    after: serde_json::to_value(&unit).ok(),
                },
            )?;
            Created::new(&unit, Some(format!("/api/v1/electoral-units/{}", unit.id)))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitQuery {
    region_id: Option<Uuid>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_units(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    q: web::Query<UnitQuery>,
) -> Result<HttpResponse, ApiError> {
    let election_id = super::parse_id(&id, "election")?;
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let (after, limit, scope) = (page.after_id()?, page.fetch(), who.scope());
    let rows = crate::db::run(&state.pool, move |conn| {
        db::find_election(conn, election_id)?;
        db::list_units(conn, election_id, scope, q.region_id, after, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

async fn get_unit(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "electoral unit")?;
    let (unit, path) = crate::db::run(&state.pool, move |conn| db::find_unit(conn, id)).await?;
    who.ensure_read(&path)?;
    Ok(HttpResponse::Ok().json(unit))
}

fn locale(raw: Option<&str>) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(l @ ("vi" | "en")) => Ok(Some(l.to_owned())),
        Some(other) => Err(format!("must be vi or en, not {other:?}")),
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCandidate {
    full_name: String,
    email: String,
    locale: Option<String>,
}

async fn create_candidate(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<NewCandidate>,
) -> Result<HttpResponse, ApiError> {
    let unit_id = super::parse_id(&id, "electoral unit")?;
    super::create_once(
        &state,
        who,
        &req,
        body.into_inner(),
        move |conn, who, body| {
            let (unit, path) = db::find_unit(conn, unit_id)?;
            who.ensure_write(&path)?;
            let mut e = FieldErrors::new();
            let full_name = e.take("full_name", text(&body.full_name, 200));
            let email = e.take("email", EmailAddress::parse(&body.email));
            let locale = e.take("locale", locale(body.locale.as_deref()));
            e.finish()?;
            let candidate = db::create_candidate(
                conn,
                CandidateInsertForm {
                    id: Uuid::now_v7(),
                    province_id: unit.province_id,
                    electoral_unit_id: unit.id,
                    full_name: vouched(full_name)?,
                    email: vouched(email)?.as_str().to_owned(),
                    locale: vouched(locale)?.unwrap_or_else(|| "vi".to_owned()),
                },
            )?;
            audit::record(
                conn,
                who,
                Change {
                    action: "create",
                    entity_type: "candidate",
                    entity_id: candidate.id,
                    province_id: Some(candidate.province_id),
                    before: None,
                    after: serde_json::to_value(&candidate).ok(),
                },
            )?;
            Created::new(
                &candidate,
                Some(format!("/api/v1/candidates/{}", candidate.id)),
            )
        },
    )
    .await
}

async fn list_candidates(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let unit_id = super::parse_id(&id, "electoral unit")?;
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let (after, limit) = (page.after_id()?, page.fetch());
    let rows = crate::db::run(&state.pool, move |conn| {
        let (_, path) = db::find_unit(conn, unit_id)?;
        who.ensure_read(&path)?;
        db::list_candidates(conn, unit_id, after, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

async fn get_candidate(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "candidate")?;
    let (candidate, path) =
        crate::db::run(&state.pool, move |conn| db::find_candidate(conn, id)).await?;
    who.ensure_read(&path)?;
    Ok(HttpResponse::Ok().json(candidate))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidatePatch {
    full_name: Option<String>,
    email: Option<String>,
    locale: Option<String>,
    status: Option<String>,
}

impl CandidatePatch {
    fn parse(&self) -> Result<CandidateUpdateForm, ApiError> {
        let mut e = FieldErrors::new();
        let full_name = self
            .full_name
            .as_deref()
            .and_then(|n| e.take("full_name", text(n, 200)));
        let email = self
            .email
            .as_deref()
            .and_then(|m| e.take("email", EmailAddress::parse(m)))
            .map(|m| m.as_str().to_owned());
        let locale = e.take("locale", locale(self.locale.as_deref())).flatten();
        let status = match self.status.as_deref() {
            None => None,
            Some(s @ ("active" | "withdrawn")) => Some(s.to_owned()),
            Some(other) => {
                e.add(
                    "status",
                    format!("must be active or withdrawn, not {other:?}"),
                );
                None
            }
        };
        e.finish()?;
        Ok(CandidateUpdateForm {
            full_name,
            email,
            locale,
            status,
        })
    }
}

async fn patch_candidate(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    body: web::Json<CandidatePatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "candidate")?;
    let changes = body.parse()?;
    let candidate = crate::db::tx(&state.pool, move |conn| {
        let (_, path) = db::find_candidate(conn, id)?;
        who.ensure_write(&path)?;
        let before = db::lock_candidate(conn, id)?;
        let after = db::update_candidate(conn, id, changes)?;
        if before.status == "active" && after.status == "withdrawn" {
            crate::planning::withdraw_from_future_meetings(conn, id)?;
        }
        audit::record(
            conn,
            &who,
            Change {
                action: "update",
                entity_type: "candidate",
                entity_id: id,
                province_id: Some(after.province_id),
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
            },
        )?;
        Ok(after)
    })
    .await?;
    Ok(HttpResponse::Ok().json(candidate))
}
