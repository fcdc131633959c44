//! The pages that change something: sign-in and sign-out, the attendance report, planning,
//! changing and cancelling a meeting. Each POST checks the session's cross-site token, then
//! calls the same use case as the API; a refusal is shown next to the field it concerns.
use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono_tz::Tz;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::session::{self, csrf_of, Signed};
use super::view::{blank, election_of, utc_of, Layout};
use super::words::Lang;
use super::{html, local_input, see_other, zone, ConsoleError};
use crate::app::attendance::ReportRequest;
use crate::app::meetings::{Expected, MeetingPatch, NewMeeting, OnlineIn, SiteIn};
use crate::app::{self, Ctx};
use crate::db::attendance::SiteAttendance;
use crate::domain::problem::{Code, Problem};
use crate::http::problem::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in", web::get().to(sign_in_form))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/meetings/new", web::get().to(plan_form))
        .route("/meetings/new", web::post().to(plan))
        .route("/meetings/{id}/edit", web::get().to(edit_form))
        .route("/meetings/{id}/edit", web::post().to(edit))
        .route("/meetings/{id}/cancel", web::post().to(cancel))
        .route("/meetings/{id}/report", web::get().to(report_form))
        .route("/meetings/{id}/report", web::post().to(report))
        .route("/console/capacity", web::get().to(capacity));
}

/// Messages of a refusal, by the form field they concern (`""`: the form as a whole), and the
/// meeting a booking clashed with.
#[derive(Default)]
pub struct Refusal {
    fields: HashMap<String, String>,
    clash: Option<String>,
}

impl Refusal {
    /// Where a problem of a use case goes on a form whose fields are named as the API's.
    pub fn of(p: &Problem) -> Self {
        let mut fields = HashMap::new();
        for e in &p.errors {
            let name = e
                .field
                .trim_start_matches("sites[0].")
                .replace("online.", "online_")
                .replace("electoral_unit_ids", "electoral_unit_id");
            fields.entry(name).or_insert_with(|| e.message.clone());
        }
        let field = match p.code {
            Code::ValidationFailed => None,
            Code::OutsideCampaignWindow | Code::MeetingEnded => Some("starts_at"),
            Code::CandidateConflict => Some("electoral_unit_id"),
            Code::VenueConflict | Code::InPersonNotAllowed => Some("venue_id"),
            Code::CapacityExceeded => Some("expected_attendees"),
            Code::AttendanceExceedsCapacity => Some("attendees"),
            Code::ReportExists => Some("correction_reason"),
            _ => Some(""),
        };
        if let Some(f) = field {
            fields.insert(f.to_owned(), format!("{}: {}", p.code.as_str(), p.detail));
        }
        let clash = p
            .extra
            .get("conflicting_meeting_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Refusal { fields, clash }
    }

    pub fn at(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }

    pub fn clash(&self) -> &str {
        self.clash.as_deref().unwrap_or("")
    }
}

/// A refusal is drawn on the form; anything else is an error page.
fn refused(e: app::Error) -> Result<Refusal, ConsoleError> {
    match e {
        app::Error::Problem(p) => Ok(Refusal::of(&p)),
        other => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    l: Layout,
    failed: bool,
}

fn pre_session(req: &HttpRequest) -> Option<String> {
    req.cookie(session::PRE_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64)
}

async fn sign_in_form(req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    sign_in_page(&req, false)
}

fn sign_in_page(req: &HttpRequest, failed: bool) -> Result<HttpResponse, ConsoleError> {
    let pre = pre_session(req).unwrap_or_else(|| {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        hex::encode(b)
    });
    let page = SignInPage {
        l: Layout::bare(Lang::of(req), csrf_of(&pre), req, None),
        failed,
    };
    let age = actix_web::cookie::time::Duration::hours(1);
    let mut res = html(&page)?;
    res.add_cookie(&session::cookie(req, session::PRE_COOKIE, pre, age))
        .map_err(app::Error::internal)?;
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
    }
    Ok(res)
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
    csrf: String,
}

async fn sign_in(
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    form: web::Form<SignIn>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let expected = pre_session(&req).map(|p| csrf_of(&p));
    if expected.as_deref() != Some(form.csrf.as_str()) {
        return Err(ConsoleError::CrossSite);
    }
    let opened = ctx
        .tx(move |tx| app::sessions::sign_in(tx, &form.token))
        .await?;
    let Some(opened) = opened else {
        return sign_in_page(&req, true);
    };
    let mut res = see_other("/");
    res.add_cookie(&session::session_cookie(&req, opened.secret))
        .map_err(app::Error::internal)?;
    res.add_cookie(&session::removal(&req, session::PRE_COOKIE))
        .map_err(app::Error::internal)?;
    Ok(res)
}

#[derive(Deserialize)]
struct Token {
    csrf: String,
}

async fn sign_out(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    form: web::Form<Token>,
) -> Result<HttpResponse, ConsoleError> {
    s.check(&form.csrf)?;
    let secret = s.secret.clone();
    ctx.tx(move |tx| app::sessions::sign_out(tx, &secret))
        .await?;
    let mut res = see_other("/sign-in");
    res.add_cookie(&session::removal(&req, session::COOKIE))
        .map_err(app::Error::internal)?;
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
struct PlanFields {
    #[serde(default)]
    csrf: String,
    #[serde(default, deserialize_with = "blank")]
    election_id: Option<Uuid>,
    #[serde(default, deserialize_with = "blank")]
    electoral_unit_id: Option<Uuid>,
    #[serde(default)]
    format: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default, deserialize_with = "blank")]
    venue_id: Option<Uuid>,
    #[serde(default, deserialize_with = "blank")]
    expected_attendees: Option<i32>,
    #[serde(default, deserialize_with = "blank")]
    online_max_participants: Option<i32>,
    #[serde(default, deserialize_with = "blank")]
    online_expected_attendees: Option<i32>,
    #[serde(default)]
    online_join_url: String,
    #[serde(default, deserialize_with = "blank")]
    version: Option<i32>,
}

#[derive(Template)]
#[template(path = "console/plan.html")]
struct PlanPage {
    l: Layout,
    action: String,
    editing: Option<Uuid>,
    election_id: Uuid,
    units: Vec<(Uuid, String)>,
    venues: Vec<(Uuid, String)>,
    f: PlanFields,
    r: Refusal,
}

impl PlanPage {
    fn unit_selected(&self, id: &Uuid) -> bool {
        self.f.electoral_unit_id == Some(*id)
    }

    fn venue_selected(&self, id: &Uuid) -> bool {
        self.f.venue_id == Some(*id)
    }

    fn num(v: &Option<i32>) -> String {
        v.map(|n| n.to_string()).unwrap_or_default()
    }
}

/// The units and venues the caller may choose from, and the election's zone.
async fn choices(
    ctx: &Ctx,
    s: &Signed,
    election: Option<Uuid>,
) -> Result<(Uuid, Tz, Vec<(Uuid, String)>, Vec<(Uuid, String)>), ConsoleError> {
    let who = s.caller.clone();
    let found = ctx
        .read(move |tx| {
            let Some(e) = election_of(tx, election)? else {
                return Ok(None);
            };
            let units = app::units::list(tx, &who, e.id, None, None, 500)?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
            let venues = app::venues::list(
                tx,
                &who,
                crate::db::venues::VenueFilter {
                    scope: None,
                    region_id: None,
                    setting: None,
                    min_capacity: None,
                    after: None,
                    limit: 500,
                },
            )?
            .into_iter()
            .map(|v| (v.id, format!("{} ({})", v.name, v.capacity)))
            .collect();
            Ok(Some((e.id, zone(&e.timezone), units, venues)))
        })
        .await?;
    found.ok_or_else(|| Problem::field("election_id", "no election yet").into())
}

async fn plan_form(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
) -> Result<HttpResponse, ConsoleError> {
    let (election_id, _, units, venues) = choices(&ctx, &s, None).await?;
    html(&PlanPage {
        l: Layout::new(&s, &req),
        action: "/meetings/new".to_owned(),
        editing: None,
        election_id,
        units,
        venues,
        f: PlanFields {
            format: "in_person".to_owned(),
            ..Default::default()
        },
        r: Refusal::default(),
    })
}

fn sites_of(f: &PlanFields) -> Vec<SiteIn> {
    f.venue_id
        .map(|venue_id| SiteIn {
            venue_id,
            expected_attendees: f.expected_attendees.unwrap_or(0),
        })
        .into_iter()
        .collect()
}

fn online_of(f: &PlanFields) -> Option<OnlineIn> {
    (f.format == "online").then(|| OnlineIn {
        platform: None,
        join_url: Some(f.online_join_url.clone()).filter(|u| !u.trim().is_empty()),
        max_participants: f.online_max_participants.unwrap_or(0),
        expected_attendees: f.online_expected_attendees.unwrap_or(0),
    })
}

async fn plan(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    form: web::Form<PlanFields>,
) -> Result<HttpResponse, ConsoleError> {
    let f = form.into_inner();
    s.check(&f.csrf)?;
    let (election_id, tz, units, venues) = choices(&ctx, &s, f.election_id).await?;
    let new = NewMeeting {
        election_id,
        electoral_unit_ids: f.electoral_unit_id.into_iter().collect(),
        format: f.format.clone(),
        title: Some(f.title.clone()).filter(|t| !t.trim().is_empty()),
        chair: None,
        starts_at: utc_of(&f.starts_at, tz),
        ends_at: utc_of(&f.ends_at, tz),
        candidate_ids: None,
        sites: sites_of(&f),
        online: online_of(&f),
    };
    let who = s.caller.clone();
    match ctx.tx(move |tx| app::meetings::plan(tx, &who, &new)).await {
        Ok(m) => Ok(see_other(&format!("/meetings/{}", m.id))),
        Err(e) => {
            let r = refused(e)?;
            let mut res = html(&PlanPage {
                l: Layout::new(&s, &req),
                action: "/meetings/new".to_owned(),
                editing: None,
                election_id,
                units,
                venues,
                f,
                r,
            })?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

async fn edit_form(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::http::parse_id(&path, "meeting")?;
    let who = s.caller.clone();
    let m = ctx
        .read(move |tx| app::meetings::find(tx, &who, id))
        .await?;
    let (election_id, tz, units, venues) = choices(&ctx, &s, Some(m.election_id)).await?;
    let site = m.sites.first();
    html(&PlanPage {
        l: Layout::new(&s, &req),
        action: format!("/meetings/{id}/edit"),
        editing: Some(id),
        election_id,
        units,
        venues,
        f: PlanFields {
            electoral_unit_id: m.electoral_unit_ids.first().copied(),
            format: m.format.as_str().to_owned(),
            title: m.title.clone(),
            starts_at: local_input(m.starts_at, tz),
            ends_at: local_input(m.ends_at, tz),
            venue_id: site.map(|s| s.venue_id),
            expected_attendees: site.map(|s| s.expected_attendees),
            online_max_participants: m.online.as_ref().map(|o| o.max_participants),
            online_expected_attendees: m.online.as_ref().map(|o| o.expected_attendees),
            online_join_url: m
                .online
                .as_ref()
                .and_then(|o| o.join_url.clone())
                .unwrap_or_default(),
            version: Some(m.version),
            ..Default::default()
        },
        r: Refusal::default(),
    })
}

async fn edit(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    form: web::Form<PlanFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::http::parse_id(&path, "meeting")?;
    let f = form.into_inner();
    s.check(&f.csrf)?;
    let (election_id, tz, units, venues) = choices(&ctx, &s, f.election_id).await?;
    let patch = MeetingPatch {
        title: Some(f.title.clone()),
        chair: None,
        starts_at: Some(utc_of(&f.starts_at, tz)),
        ends_at: Some(utc_of(&f.ends_at, tz)),
        format: Some(f.format.clone()),
        candidate_ids: None,
        sites: Some(sites_of(&f)),
        online: Some(online_of(&f)),
    };
    let expected = f.version.map_or(Expected::Any, Expected::Version);
    let who = s.caller.clone();
    match ctx
        .tx(move |tx| app::meetings::edit(tx, &who, id, expected, &patch))
        .await
    {
        Ok(m) => Ok(see_other(&format!("/meetings/{}", m.id))),
        Err(e) => {
            let r = refused(e)?;
            let mut res = html(&PlanPage {
                l: Layout::new(&s, &req),
                action: format!("/meetings/{id}/edit"),
                editing: Some(id),
                election_id,
                units,
                venues,
                f,
                r,
            })?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

#[derive(Deserialize)]
struct CancelForm {
    csrf: String,
    reason: String,
}

async fn cancel(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    form: web::Form<CancelForm>,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::http::parse_id(&path, "meeting")?;
    let form = form.into_inner();
    s.check(&form.csrf)?;
    let who = s.caller.clone();
    match ctx
        .tx(move |tx| app::meetings::cancel(tx, &who, id, &form.reason))
        .await
    {
        Ok(_) => Ok(see_other(&format!("/meetings/{id}"))),
        Err(app::Error::Problem(p)) => {
            let mut said = format!("{}: {}", p.code.as_str(), p.detail);
            for e in &p.errors {
                said.push_str(&format!(" — {}: {}", e.field, e.message));
            }
            let mut res = super::pages::meeting_page(&s, &req, &ctx, id, said).await?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/report_form.html")]
struct ReportPage {
    l: Layout,
    meeting_id: Uuid,
    title: String,
    correction: bool,
    /// The revision a correction replaces, sent back as its `If-Match`.
    revision: i32,
    sites: Vec<(Uuid, String, i32, String)>,
    online: Option<(i32, String)>,
    attendees: String,
    opinions_count: String,
    notes: String,
    r: Refusal,
}

async fn report_page(
    s: &Signed,
    req: &HttpRequest,
    ctx: &Ctx,
    meeting_id: Uuid,
    typed: Option<&HashMap<String, String>>,
    r: Refusal,
) -> Result<HttpResponse, ConsoleError> {
    let who = s.caller.clone();
    let (m, current, names) = ctx
        .read(move |tx| {
            let m = app::meetings::find(tx, &who, meeting_id)?;
            let current = match app::attendance::report(tx, &who, meeting_id) {
                Ok((c, _)) => Some(c),
                Err(app::Error::Problem(_)) => None,
                Err(e) => return Err(e),
            };
            let mut names = Vec::new();
            for site in &m.sites {
                names.push(
                    app::venues::find(tx, &who, site.venue_id)
                        .map(|v| v.name)
                        .unwrap_or_default(),
                );
            }
            Ok((m, current, names))
        })
        .await?;
    let prior = |site: Uuid| -> String {
        current
            .as_ref()
            .and_then(|c| c.sites.as_array())
            .and_then(|a| {
                a.iter()
                    .find(|x| x["site_id"].as_str() == Some(&site.to_string()))
                    .and_then(|x| x["attendees"].as_i64())
            })
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    let typed_or = |key: String, fallback: String| -> String {
        typed.and_then(|t| t.get(&key).cloned()).unwrap_or(fallback)
    };
    let page = ReportPage {
        l: Layout::new(s, req),
        meeting_id,
        title: m.title.clone(),
        correction: current.is_some(),
        revision: current.as_ref().map_or(0, |c| c.revision),
        sites: m
            .sites
            .iter()
            .zip(names)
            .map(|(site, name)| {
                (
                    site.id,
                    name,
                    site.effective_capacity,
                    typed_or(format!("site_{}", site.id), prior(site.id)),
                )
            })
            .collect(),
        online: m.online.as_ref().map(|o| {
            (
                o.max_participants,
                typed_or(
                    "online_attendees".to_owned(),
                    current
                        .as_ref()
                        .and_then(|c| c.online_attendees)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                ),
            )
        }),
        attendees: typed_or(
            "attendees".to_owned(),
            current
                .as_ref()
                .map(|c| c.attendees.to_string())
                .unwrap_or_default(),
        ),
        opinions_count: typed_or(
            "opinions_count".to_owned(),
            current
                .as_ref()
                .map(|c| c.opinions_count.to_string())
                .unwrap_or_default(),
        ),
        notes: typed_or(
            "notes".to_owned(),
            current
                .as_ref()
                .and_then(|c| c.notes.clone())
                .unwrap_or_default(),
        ),
        r,
    };
    html(&page)
}

async fn report_form(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::http::parse_id(&path, "meeting")?;
    report_page(&s, &req, &ctx, id, None, Refusal::default()).await
}

fn number(
    typed: &HashMap<String, String>,
    key: &str,
    e: &mut Vec<(String, String)>,
) -> Option<i32> {
    let raw = typed.get(key).map(|v| v.trim()).unwrap_or_default();
    if raw.is_empty() {
        return None;
    }
    match raw.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            e.push((key.to_owned(), "must be a whole number".to_owned()));
            None
        }
    }
}

async fn report(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::http::parse_id(&path, "meeting")?;
    let typed = form.into_inner();
    s.check(typed.get("csrf").map_or("", String::as_str))?;
    let mut bad = Vec::new();
    let attendees = number(&typed, "attendees", &mut bad);
    let mut sites = Vec::new();
    for (k, _) in typed.iter().filter(|(k, _)| k.starts_with("site_")) {
        if let Ok(site_id) = Uuid::parse_str(&k["site_".len()..]) {
            if let Some(n) = number(&typed, k, &mut bad) {
                sites.push(SiteAttendance {
                    site_id,
                    attendees: n,
                });
            }
        }
    }
    sites.sort_by_key(|s| s.site_id);
    let request = ReportRequest {
        attendees: attendees.unwrap_or(0),
        sites,
        online_attendees: number(&typed, "online_attendees", &mut bad),
        opinions_count: number(&typed, "opinions_count", &mut bad),
        opinions: Vec::new(),
        notes: typed.get("notes").cloned().filter(|n| !n.trim().is_empty()),
        correction_reason: typed
            .get("correction_reason")
            .cloned()
            .filter(|n| !n.trim().is_empty()),
    };
    // A correction names the revision the form showed, as the API's If-Match does.
    let expected = typed
        .get("revision")
        .and_then(|r| r.parse::<i32>().ok())
        .filter(|r| *r > 0)
        .map(app::meetings::Expected::Version);
    let outcome = if bad.is_empty() {
        let who = s.caller.clone();
        ctx.tx(move |tx| app::attendance::file_report(tx, &who, id, &request, expected))
            .await
            .map(|_| ())
    } else {
        Err(Problem::invalid(
            bad.into_iter()
                .map(|(field, message)| crate::domain::problem::FieldError { field, message })
                .collect(),
        )
        .into())
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/meetings/{id}"))),
        Err(e) => {
            let r = refused(e)?;
            let mut res = report_page(&s, &req, &ctx, id, Some(&typed), r).await?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

#[derive(Deserialize)]
struct CapacityQuery {
    venue_id: Uuid,
    starts_at: String,
    ends_at: String,
    election_id: Uuid,
}

/// The effective capacity of a venue at the times typed in the plan form, for its script:
/// the use case of `GET /venues/{id}/capacity`.
async fn capacity(
    s: Signed,
    ctx: web::Data<Ctx>,
    q: web::Query<CapacityQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let who = s.caller;
    let c = ctx
        .read(move |tx| {
            let e = app::elections::find(tx, q.election_id)?;
            let tz = zone(&e.timezone);
            let c = app::health_rules::venue_capacity(
                tx,
                &who,
                q.venue_id,
                &utc_of(&q.starts_at, tz),
                &utc_of(&q.ends_at, tz),
            )?;
            let binding = c.rules.iter().find(|r| r.binding).map(|r| {
                r.rule
                    .reference
                    .clone()
                    .unwrap_or_else(|| r.rule.id.to_string())
            });
            Ok(json!({
                "capacity": c.capacity,
                "effective_capacity": c.effective_capacity,
                "binding_rule_id": c.binding_rule_id,
                "binding_rule": binding,
                "in_person_allowed": c.in_person_allowed,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(c))
}
