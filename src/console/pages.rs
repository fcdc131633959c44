//! The pages that read: overview, agenda, a meeting, the door check-in, reports, admin lists;
//! and the JSON routes the check-in and plan scripts call.
use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate, TimeDelta, TimeZone};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::chart::{self, Bar};
use super::session::Signed;
use super::view::{self, countdown, election_of, Layout, Line};
use super::{html, local, zone, ConsoleError};
use crate::app::attendance::{self, CheckIn};
use crate::app::{self, reports, Ctx};
use crate::db::audit::AuditFilter;
use crate::db::reports::{Figures, GroupBy, Overdue, Row};
use crate::domain::kinds::{self, Format, MeetingStatus};
use crate::http::idempotency::{run_once, Answer};
use crate::http::problem::ApiError;
use crate::http::spreadsheets;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(overview))
        .route("/meetings", web::get().to(agenda))
        .route("/meetings/{id}", web::get().to(meeting))
        .route("/meetings/{id}/checkin/{site}", web::get().to(checkin))
        .route("/console/meetings/{id}/counters", web::get().to(counters))
        .route("/console/meetings/{id}/checkins", web::post().to(check_in))
        .route("/reports", web::get().to(reports_page))
        .route("/reports/download", web::get().to(download));
}

fn id(raw: &str, what: &str) -> Result<Uuid, ConsoleError> {
    Ok(crate::http::parse_id(raw, what)?)
}

#[derive(Debug, Deserialize)]
struct Where {
    election_id: Option<Uuid>,
    region_id: Option<Uuid>,
}

/// A region report's rows directly under `region` (the provinces for a national token).
fn children(rows: &[Row], region: Option<Uuid>) -> Vec<&Row> {
    let parent = region.map(|r| r.to_string());
    rows.iter().filter(|r| r.parent == parent).collect()
}

struct Drill {
    key: String,
    label: String,
    figures: Figures,
}

fn drill(rows: &[Row], region: Option<Uuid>) -> Vec<Drill> {
    children(rows, region)
        .into_iter()
        .map(|r| Drill {
            key: r.key.clone(),
            label: r.label.clone(),
            figures: r.figures.clone(),
        })
        .collect()
}

fn region_name(rows: &[Row], region: Option<Uuid>) -> String {
    let key = region.map(|r| r.to_string());
    rows.iter()
        .find(|r| Some(&r.key) == key.as_ref())
        .map(|r| r.label.clone())
        .unwrap_or_default()
}

struct OverdueLine {
    id: Uuid,
    title: String,
    region: String,
    due: String,
}

fn overdue_lines(items: &[Overdue], tz: chrono_tz::Tz) -> Vec<OverdueLine> {
    items
        .iter()
        .map(|o| OverdueLine {
            id: o.meeting_id,
            title: o.title.clone(),
            region: o.region_name.clone(),
            due: local(o.report_due_at, tz),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    l: Layout,
    election: Option<(Uuid, String)>,
    elections: Vec<(Uuid, String)>,
    region_name: String,
    countdown: String,
    totals: Option<Figures>,
    chart: String,
    rows: Vec<Drill>,
    attention: Vec<Line>,
    overdue: Vec<OverdueLine>,
}

async fn overview(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    q: web::Query<Where>,
) -> Result<HttpResponse, ConsoleError> {
    let who = s.caller.clone();
    let (asked, region) = (q.election_id, q.region_id);
    let found = ctx
        .report(move |tx| {
            let elections = view::elections(tx)?;
            let Some(e) = election_of(tx, asked)? else {
                return Ok((elections, None));
            };
            let report = reports::attendance(tx, &who, e.id, region, GroupBy::Region)?;
            let (_, overdue) = reports::overdue(tx, &who, e.id, region)?;
            let mut f = view::filter(Some(e.id), 20);
            f.needs_attention = Some(true);
            f.region_id = region;
            let attention = app::meetings::list(tx, &who, f)?;
            Ok((elections, Some((e, report, overdue, attention))))
        })
        .await?;
    let (elections, data) = found;
    let l = Layout::new(&s, &req);
    let Some((e, report, overdue, attention)) = data else {
        return html(&OverviewPage {
            l,
            election: None,
            elections,
            region_name: String::new(),
            countdown: String::new(),
            totals: None,
            chart: String::new(),
            rows: Vec::new(),
            attention: Vec::new(),
            overdue: Vec::new(),
        });
    };
    let tz = zone(&e.timezone);
    let now = ctx.now();
    let countdown = if now < e.campaign_starts_at {
        format!(
            "{} {}",
            s.lang.t("campaign_starts_in"),
            countdown(s.lang, now, e.campaign_starts_at)
        )
    } else if now < e.campaign_ends_at {
        format!(
            "{} {}",
            s.lang.t("campaign_ends_in"),
            countdown(s.lang, now, e.campaign_ends_at)
        )
    } else {
        s.lang.t("campaign_over").to_owned()
    };
    let region = report.region_id;
    let rows = drill(&report.rows, region);
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            label: r.label.clone(),
            value: r.figures.attendees,
            note: r.figures.meetings,
            href: format!("/?election_id={}&region_id={}", e.id, r.key),
        })
        .collect();
    html(&OverviewPage {
        region_name: region_name(&report.rows, region),
        chart: chart::bars(&bars, s.lang.t("attendees"), s.lang.t("meetings")),
        rows,
        totals: Some(report.totals),
        attention: attention.iter().map(|m| Line::of(m, tz)).collect(),
        overdue: overdue_lines(&overdue, tz),
        countdown,
        election: Some((e.id, e.name)),
        elections,
        l,
    })
}

#[derive(Debug, Deserialize)]
struct AgendaQuery {
    election_id: Option<Uuid>,
    view: Option<String>,
    date: Option<NaiveDate>,
    q: Option<String>,
    status: Option<String>,
    format: Option<String>,
    #[serde(default, deserialize_with = "super::view::blank")]
    electoral_unit_id: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "console/agenda.html")]
struct AgendaPage {
    l: Layout,
    election: Option<(Uuid, String)>,
    week: bool,
    date: String,
    prev: String,
    next: String,
    q: String,
    status: String,
    format: String,
    unit: Option<Uuid>,
    units: Vec<(Uuid, String)>,
    days: Vec<(String, Vec<Line>)>,
}

impl AgendaPage {
    fn unit_sel(&self, id: &Uuid) -> &'static str {
        if self.unit == Some(*id) {
            " selected"
        } else {
            ""
        }
    }

    fn sel(&self, chosen: &str, value: &str) -> &'static str {
        if chosen == value {
            " selected"
        } else {
            ""
        }
    }
}

async fn agenda(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    q: web::Query<AgendaQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let q = q.into_inner();
    let week = q.view.as_deref() == Some("week");
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(kinds::parse::<MeetingStatus>(raw).map_err(|m| app_field("status", m))?),
        None => None,
    };
    let format = match q.format.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(kinds::parse::<Format>(raw).map_err(|m| app_field("format", m))?),
        None => None,
    };
    let who = s.caller.clone();
    let (asked, date, unit, words) = (
        q.election_id,
        q.date,
        q.electoral_unit_id,
        q.q.clone().filter(|w| !w.trim().is_empty()),
    );
    let found = ctx
        .read(move |tx| {
            let Some(e) = election_of(tx, asked)? else {
                return Ok(None);
            };
            let tz = zone(&e.timezone);
            let today = tx.now().with_timezone(&tz).date_naive();
            let mut day = date.unwrap_or(today);
            if week {
                day -= TimeDelta::days(day.weekday().num_days_from_monday().into());
            }
            let span = if week { 7 } else { 1 };
            let start = |d: NaiveDate| {
                tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
                    .earliest()
                    .map(|t| t.to_utc())
            };
            let mut f = view::filter(Some(e.id), 500);
            f.from = start(day);
            f.to = start(day + TimeDelta::days(span));
            f.q = words.clone();
            f.status = status;
            f.format = format;
            f.electoral_unit_id = unit;
            let meetings = app::meetings::list(tx, &who, f)?;
            let units = app::units::list(tx, &who, e.id, None, None, 500)?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
            Ok(Some((e, day, span, meetings, units)))
        })
        .await?;
    let l = Layout::new(&s, &req);
    let Some((e, day, span, meetings, units)) = found else {
        return html(&AgendaPage {
            l,
            election: None,
            week,
            date: String::new(),
            prev: String::new(),
            next: String::new(),
            q: String::new(),
            status: String::new(),
            format: String::new(),
            unit: None,
            units: Vec::new(),
            days: Vec::new(),
        });
    };
    let tz = zone(&e.timezone);
    let mut days: Vec<(String, Vec<Line>)> = (0..span)
        .map(|i| {
            (
                (day + TimeDelta::days(i)).format("%d/%m/%Y").to_string(),
                Vec::new(),
            )
        })
        .collect();
    for m in &meetings {
        let line = Line::of(m, tz);
        if let Some(slot) = days.iter_mut().find(|(d, _)| *d == line.day) {
            slot.1.push(line);
        }
    }
    let link = |d: NaiveDate| {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        u.append_pair("election_id", &e.id.to_string())
            .append_pair("view", if week { "week" } else { "day" })
            .append_pair("date", &d.to_string());
        for (key, value) in [("q", &q.q), ("status", &q.status), ("format", &q.format)] {
            if let Some(v) = value {
                u.append_pair(key, v);
            }
        }
        if let Some(unit) = q.electoral_unit_id {
            u.append_pair("electoral_unit_id", &unit.to_string());
        }
        format!("/meetings?{}", u.finish())
    };
    html(&AgendaPage {
        prev: link(day - TimeDelta::days(span)),
        next: link(day + TimeDelta::days(span)),
        l,
        election: Some((e.id, e.name)),
        week,
        date: day.to_string(),
        q: q.q.unwrap_or_default(),
        status: q.status.unwrap_or_default(),
        format: q.format.unwrap_or_default(),
        unit: q.electoral_unit_id,
        units,
        days,
    })
}

fn app_field(field: &str, message: String) -> ConsoleError {
    crate::domain::problem::Problem::field(field, message).into()
}

struct SiteLine {
    id: Uuid,
    venue: String,
    expected: i32,
    effective: i32,
    rule: String,
    present: i32,
    admitted: i32,
}

struct HistoryLine {
    at: String,
    actor: String,
    action: String,
}

#[derive(Template)]
#[template(path = "console/meeting.html")]
struct MeetingPage {
    l: Layout,
    m: app::meetings::Meeting,
    when: String,
    sites: Vec<SiteLine>,
    candidates: Vec<String>,
    report: Option<ReportView>,
    history: Vec<HistoryLine>,
    online_present: i32,
    online_max: i32,
    cancel_refused: String,
}

/// A filed report as the meeting page shows it.
struct ReportView {
    revision: i32,
    attendees: i32,
    online: i32,
    opinions: i32,
    late: bool,
    filed_at: String,
    notes: String,
    earlier: Vec<(i32, i32, String)>,
}

async fn meeting(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let meeting_id = id(&path, "meeting")?;
    meeting_page(&s, &req, &ctx, meeting_id, String::new()).await
}

/// A meeting's page, with the refusal of a cancellation by its reason field (if any).
pub async fn meeting_page(
    s: &Signed,
    req: &HttpRequest,
    ctx: &Ctx,
    meeting_id: Uuid,
    cancel_refused: String,
) -> Result<HttpResponse, ConsoleError> {
    let who = s.caller.clone();
    let (m, e, sites, candidates, report, history) = ctx
        .read(move |tx| {
            let m = app::meetings::find(tx, &who, meeting_id)?;
            let e = app::elections::find(tx, m.election_id)?;
            let mut rules: HashMap<Uuid, String> = HashMap::new();
            let mut sites = Vec::new();
            for site in &m.sites {
                let venue = app::venues::find(tx, &who, site.venue_id)
                    .map(|v| v.name)
                    .unwrap_or_else(|_| site.venue_id.to_string());
                let rule = match site.binding_rule_id {
                    Some(r) => match rules.get(&r) {
                        Some(name) => name.clone(),
                        None => {
                            let name = app::health_rules::find(tx, &who, r)
                                .ok()
                                .and_then(|h| h.reference)
                                .unwrap_or_else(|| r.to_string());
                            rules.insert(r, name.clone());
                            name
                        }
                    },
                    None => String::new(),
                };
                sites.push(SiteLine {
                    id: site.id,
                    venue,
                    expected: site.expected_attendees,
                    effective: site.effective_capacity,
                    rule,
                    present: site.present,
                    admitted: site.admitted,
                });
            }
            let mut candidates = Vec::new();
            for c in &m.candidate_ids {
                if let Ok((c, _)) = app::candidates::find(tx, &who, *c) {
                    candidates.push(c.full_name);
                }
            }
            let report = match attendance::report(tx, &who, meeting_id) {
                Ok(r) => Some(r),
                Err(app::Error::Problem(_)) => None,
                Err(e) => return Err(e),
            };
            let history = if who.role == crate::domain::kinds::Role::Admin {
                app::audit::list(
                    tx,
                    &who,
                    AuditFilter {
                        entity_id: Some(meeting_id),
                        entity_type: None,
                        after: None,
                        limit: 100,
                    },
                )?
            } else {
                Vec::new()
            };
            Ok((m, e, sites, candidates, report, history))
        })
        .await?;
    let tz = zone(&e.timezone);
    let report = report.map(|(r, earlier)| ReportView {
        revision: r.revision,
        attendees: r.attendees,
        online: r.online_attendees.unwrap_or(0),
        opinions: r.opinions_count,
        late: r.late,
        filed_at: local(r.filed_at, tz),
        notes: r.notes.unwrap_or_default(),
        earlier: earlier
            .into_iter()
            .map(|r| (r.revision, r.attendees, local(r.filed_at, tz)))
            .collect(),
    });
    html(&MeetingPage {
        l: Layout::new(s, req),
        cancel_refused,
        when: format!(
            "{} – {} ({})",
            local(m.starts_at, tz),
            local(m.ends_at, tz),
            e.timezone
        ),
        online_present: m.online.as_ref().map_or(0, |o| o.present),
        online_max: m.online.as_ref().map_or(0, |o| o.max_participants),
        sites,
        candidates,
        report,
        history: history
            .into_iter()
            .map(|h| HistoryLine {
                at: local(h.at, tz),
                actor: h.actor_name,
                action: h.action,
            })
            .collect(),
        m,
    })
}

#[derive(Template)]
#[template(path = "console/checkin.html")]
struct CheckinPage {
    l: Layout,
    meeting_id: Uuid,
    title: String,
    site: String,
    place: String,
    present: i32,
    capacity: i32,
}

async fn checkin(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (raw, site) = path.into_inner();
    let meeting_id = id(&raw, "meeting")?;
    let site_id = match site.as_str() {
        "online" => None,
        other => Some(id(other, "site")?),
    };
    let who = s.caller.clone();
    let (m, place) = ctx
        .read(move |tx| {
            let m = app::meetings::find(tx, &who, meeting_id)?;
            let place = match site_id.and_then(|s| m.sites.iter().find(|x| x.id == s)) {
                Some(site) => app::venues::find(tx, &who, site.venue_id)?.name,
                None => String::new(),
            };
            Ok((m, place))
        })
        .await?;
    let (present, capacity) = match site_id {
        Some(sid) => m
            .sites
            .iter()
            .find(|x| x.id == sid)
            .map(|x| (x.present, x.effective_capacity))
            .ok_or_else(|| crate::domain::problem::Problem::not_found("site"))?,
        None => m
            .online
            .as_ref()
            .map(|o| (o.present, o.max_participants))
            .ok_or_else(|| crate::domain::problem::Problem::not_found("site"))?,
    };
    html(&CheckinPage {
        place: if place.is_empty() {
            s.lang.t("online").to_owned()
        } else {
            place
        },
        l: Layout::new(&s, &req),
        meeting_id,
        title: m.title,
        site,
        present,
        capacity,
    })
}

/// The live counters of a meeting, for the check-in page to follow the other doors.
async fn counters(
    s: Signed,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = crate::http::parse_id(&path, "meeting")?;
    let who = s.caller;
    let m = ctx
        .read(move |tx| app::meetings::find(tx, &who, meeting_id))
        .await?;
    let sites: Vec<_> = m
        .sites
        .iter()
        .map(|x| json!({"site_id": x.id, "present": x.present, "admitted": x.admitted, "capacity": x.effective_capacity}))
        .collect();
    let online = m.online.as_ref().map(
        |o| json!({"present": o.present, "admitted": o.admitted, "capacity": o.max_participants}),
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"sites": sites, "online": online})))
}

/// A door tap: the API's check-in use case, once per `Idempotency-Key`.
async fn check_in(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    body: web::Json<CheckIn>,
) -> Result<HttpResponse, ConsoleError> {
    s.check_header(&req)?;
    let meeting_id = id(&path, "meeting")?;
    let body = body.into_inner();
    let (who, asked) = (s.caller.clone(), body.clone());
    let answer = run_once(&ctx, &s.caller, &req, &body, move |tx| {
        let counted = attendance::check_in(tx, &who, meeting_id, &asked);
        crate::http::metrics::count_check_in(counted.as_ref().map(|_| ()));
        Answer::with_status(StatusCode::OK, &counted?, None)
    })
    .await;
    Ok(answer.unwrap_or_else(|e| actix_web::ResponseError::error_response(&e)))
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    l: Layout,
    election: Option<(Uuid, String)>,
    region_name: String,
    totals: Option<Figures>,
    rows: Vec<Drill>,
    fairness: Option<reports::Fairness>,
    overdue: Vec<OverdueLine>,
    query: String,
}

async fn reports_page(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    q: web::Query<Where>,
) -> Result<HttpResponse, ConsoleError> {
    let who = s.caller.clone();
    let (asked, region) = (q.election_id, q.region_id);
    let found = ctx
        .report(move |tx| {
            let Some(e) = election_of(tx, asked)? else {
                return Ok(None);
            };
            let report = reports::attendance(tx, &who, e.id, region, GroupBy::Region)?;
            let fairness = reports::fairness(
                tx,
                &who,
                reports::FairnessOf::Election {
                    election_id: e.id,
                    region_id: region,
                },
            )?;
            let (_, overdue) = reports::overdue(tx, &who, e.id, region)?;
            Ok(Some((e, report, fairness, overdue)))
        })
        .await?;
    let l = Layout::new(&s, &req);
    let Some((e, report, fairness, overdue)) = found else {
        return html(&ReportsPage {
            l,
            election: None,
            region_name: String::new(),
            totals: None,
            rows: Vec::new(),
            fairness: None,
            overdue: Vec::new(),
            query: String::new(),
        });
    };
    let tz = zone(&e.timezone);
    let region = report.region_id;
    let mut query = format!("election_id={}&lang={}", e.id, s.lang.code());
    if let Some(r) = q.region_id {
        query.push_str(&format!("&region_id={r}"));
    }
    html(&ReportsPage {
        region_name: region_name(&report.rows, region),
        rows: drill(&report.rows, region),
        totals: Some(report.totals),
        fairness: Some(fairness),
        overdue: overdue_lines(&overdue, tz),
        election: Some((e.id, e.name)),
        query,
        l,
    })
}

#[derive(Debug, Deserialize)]
struct DownloadQuery {
    kind: String,
    format: String,
    election_id: Uuid,
    region_id: Option<Uuid>,
    lang: Option<String>,
}

/// A report as a spreadsheet: the same use case and the same sheets as
/// `GET /api/v1/reports/*?format=csv|xlsx`.
async fn download(
    s: Signed,
    ctx: web::Data<Ctx>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let q = q.into_inner();
    let lang = match q.lang.as_deref() {
        Some("en") => spreadsheets::Lang::En,
        _ => spreadsheets::Lang::Vi,
    };
    let who = s.caller;
    let (election_id, region_id) = (q.election_id, q.region_id);
    let (sheets, name) = match q.kind.as_str() {
        "attendance" => {
            let r = ctx
                .report(move |tx| {
                    reports::attendance(tx, &who, election_id, region_id, GroupBy::Region)
                })
                .await?;
            (spreadsheets::attendance(&r, lang), "attendance-region")
        }
        "fairness" => {
            let of = reports::FairnessOf::Election {
                election_id,
                region_id,
            };
            let r = ctx
                .report(move |tx| reports::fairness(tx, &who, of))
                .await?;
            (spreadsheets::fairness(&r, lang), "fairness")
        }
        "overdue" => {
            let (e, items) = ctx
                .report(move |tx| reports::overdue(tx, &who, election_id, region_id))
                .await?;
            (
                spreadsheets::overdue(&items, lang, zone(&e.timezone)),
                "overdue",
            )
        }
        _ => {
            return Err(app_field(
                "kind",
                "must be attendance, fairness or overdue".into(),
            ))
        }
    };
    let (body, content_type, ext) = match q.format.as_str() {
        "csv" => (spreadsheets::csv(&sheets), "text/csv; charset=utf-8", "csv"),
        "xlsx" => (
            spreadsheets::xlsx(&sheets),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => return Err(app_field("format", "must be csv or xlsx".into())),
    };
    let body = body.map_err(app::Error::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .body(body))
}
