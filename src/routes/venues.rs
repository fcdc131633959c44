//! `/venues`: where meetings take place, and their capacity under the rules in force.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::db::venues::{self as db, VenueFilter, VenueInsertForm, VenueUpdateForm};
use crate::domain::capacity::Setting;
use crate::domain::values::text;
use crate::error::{vouched, ApiError, FieldErrors};
use crate::idempotency::Created;
use crate::pagination::PageRequest;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/venues").post(create).get(list))
        .service(web::resource("/venues/{id}").get(get).patch(patch));
}

fn capacity(n: i32) -> Result<i32, String> {
    if (1..=100_000).contains(&n) {
        Ok(n)
    } else {
        Err("must be between 1 and 100000".to_owned())
    }
}

fn area(a: f64) -> Result<f64, String> {
    if a.is_finite() && a > 0.0 && a <= 1_000_000.0 {
        Ok(a)
    } else {
        Err("must be a positive number of square metres".to_owned())
    }
}

fn setting(s: &str) -> Result<String, String> {
    s.parse::<Setting>()
        .map(|s| s.as_str().to_owned())
        .map_err(|_| format!("must be indoor or outdoor, not {s:?}"))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVenue {
    name: String,
    region_id: Uuid,
    address: String,
    capacity: i32,
    area_m2: Option<f64>,
    setting: String,
}

async fn create(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    body: web::Json<NewVenue>,
) -> Result<HttpResponse, ApiError> {
    super::create_once(&state, who, &req, body.into_inner(), |conn, who, body| {
        let mut e = FieldErrors::new();
        let name = e.take("name", text(&body.name, 200));
        let address = e.take("address", text(&body.address, 500));
        let cap = e.take("capacity", capacity(body.capacity));
        let area_m2 = e.take("area_m2", body.area_m2.map(area).transpose());
        let set = e.take("setting", setting(&body.setting));
        let region = crate::db::regions::find(conn, body.region_id).ok();
        if region.is_none() {
            e.add("region_id", "no such region");
        }
        e.finish()?;
        let region = vouched(region)?;
        who.ensure_write(&region.path)?;
        let venue = db::create(
            conn,
            VenueInsertForm {
                id: Uuid::now_v7(),
                province_id: region.province_id,
                region_id: region.id,
                name: vouched(name)?,
                address: vouched(address)?,
                capacity: vouched(cap)?,
                area_m2: vouched(area_m2)?,
                setting: vouched(set)?,
            },
        )?;
        audit::record(
            conn,
            who,
            Change {
                action: "create",
                entity_type: "venue",
                entity_id: venue.id,
                province_id: Some(venue.province_id),
                before: None,
                after: serde_json::to_value(&venue).ok(),
            },
        )?;
        Created::new(&venue, Some(format!("/api/v1/venues/{}", venue.id)))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region_id: Option<Uuid>,
    setting: Option<String>,
    min_capacity: Option<i32>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let setting = q
        .setting
        .as_deref()
        .map(setting)
        .transpose()
        .map_err(|m| ApiError::field("setting", m))?;
    let filter = VenueFilter {
        scope: who.scope(),
        region_id: q.region_id,
        setting,
        min_capacity: q.min_capacity,
        after: page.after_id()?,
        limit: page.fetch(),
    };
    let rows = crate::db::run(&state.pool, move |conn| db::list(conn, filter)).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

async fn get(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let (venue, path) = crate::db::run(&state.pool, move |conn| db::find(conn, id)).await?;
    who.ensure_read(&path)?;
    Ok(HttpResponse::Ok().json(venue))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VenuePatch {
    name: Option<String>,
    address: Option<String>,
    capacity: Option<i32>,
    #[serde(default, deserialize_with = "super::nullable")]
    area_m2: Option<Option<f64>>,
    setting: Option<String>,
}

impl VenuePatch {
    fn parse(&self) -> Result<VenueUpdateForm, ApiError> {
        let mut e = FieldErrors::new();
        let form = VenueUpdateForm {
            name: self
                .name
                .as_deref()
                .and_then(|n| e.take("name", text(n, 200))),
            address: self
                .address
                .as_deref()
                .and_then(|a| e.take("address", text(a, 500))),
            capacity: self.capacity.and_then(|c| e.take("capacity", capacity(c))),
            area_m2: match self.area_m2 {
                Some(Some(a)) => e.take("area_m2", area(a)).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            setting: self
                .setting
                .as_deref()
                .and_then(|s| e.take("setting", setting(s))),
        };
        e.finish()?;
        Ok(form)
    }
}

async fn patch(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    body: web::Json<VenuePatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let changes = body.parse()?;
    let venue = crate::db::tx(&state.pool, move |conn| {
        let (current, path) = db::find(conn, id)?;
        who.ensure_write(&path)?;
        // A venue's capacity, area and setting decide its meetings' effective capacity:
        // changing them re-evaluates its planned meetings like a rule change does.
        crate::db::health_rules::lock_province_rules(conn, current.province_id, true)?;
        let before = db::lock(conn, id)?;
        let after = db::update(conn, id, changes)?;
        let planned = crate::planning::meetings_at_venue(conn, id)?;
        crate::planning::reevaluate(conn, &planned, None)?;
        audit::record(
            conn,
            &who,
            Change {
                action: "update",
                entity_type: "venue",
                entity_id: id,
                province_id: Some(after.province_id),
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
            },
        )?;
        Ok(after)
    })
    .await?;
    Ok(HttpResponse::Ok().json(venue))
}
