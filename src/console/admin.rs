//! The lists admins (and, for venues and rules, organizers) keep: health rules, venues,
//! candidates, tokens; each with a form that creates one through the API's use case, and
//! tokens with their revocation. A new token's secret is shown once, on the answer page.
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::forms::Refusal;
use super::session::Signed;
use super::view::{blank, election_of, utc_of, Layout};
use super::{html, local, see_other, zone, ConsoleError};
use crate::app::{self, Ctx, Tx};
use crate::db::health_rules::RuleFilter;
use crate::db::regions::RegionFilter;
use crate::db::venues::VenueFilter;
use crate::domain::problem::Problem;
use crate::domain::scope::Caller;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/{what}", web::get().to(list))
        .route("/admin/{what}", web::post().to(create))
        .route("/admin/tokens/{id}/revoke", web::post().to(revoke));
}

/// What one list shows.
struct Listed {
    head: Vec<&'static str>,
    rows: Vec<(String, Vec<String>)>,
    regions: Vec<(Uuid, String)>,
    units: Vec<(Uuid, String)>,
}

#[derive(Template)]
#[template(path = "console/admin.html")]
struct AdminPage {
    l: Layout,
    what: String,
    listed: Listed,
    /// A token's secret, shown this once.
    secret: String,
    affected: Option<usize>,
    r: Refusal,
}

fn regions(tx: &mut Tx<'_>, who: &Caller) -> app::Result<Vec<(Uuid, String)>> {
    let filter = RegionFilter {
        scope: None,
        parent_id: None,
        level: None,
        after: None,
        limit: 500,
    };
    Ok(app::regions::list(tx, who, filter)?
        .into_iter()
        .map(|r| (r.id, format!("{} ({})", r.name, r.level.as_str())))
        .collect())
}

fn listed(
    tx: &mut Tx<'_>,
    who: &Caller,
    lang: super::words::Lang,
    what: &str,
) -> app::Result<Listed> {
    let yes_no = |b: bool| lang.t(if b { "yes" } else { "no" }).to_owned();
    let opt = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let tz = election_of(tx, None)?.map_or(chrono_tz::Asia::Ho_Chi_Minh, |e| zone(&e.timezone));
    let at = |t: Option<DateTime<Utc>>| t.map(|t| local(t, tz)).unwrap_or_default();
    let mut units = Vec::new();
    let regions = regions(tx, who)?;
    let region_name = |id: Option<Uuid>| {
        id.map(|id| {
            regions
                .iter()
                .find(|(r, _)| *r == id)
                .map_or_else(|| id.to_string(), |(_, name)| name.clone())
        })
        .unwrap_or_default()
    };
    let (head, rows) = match what {
        "health-rules" => (
            vec![
                "reference",
                "period",
                "setting",
                "max_attendees",
                "in_person_allowed",
            ],
            app::health_rules::list(
                tx,
                who,
                RuleFilter {
                    scope: None,
                    region_id: None,
                    active_at: None,
                    after: None,
                    limit: 500,
                },
            )?
            .into_iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    vec![
                        r.reference.clone().unwrap_or_default(),
                        format!("{} – {}", at(Some(r.effective_from)), at(r.effective_until)),
                        r.applies_to.as_str().to_owned(),
                        opt(r.max_attendees),
                        yes_no(r.in_person_allowed),
                    ],
                )
            })
            .collect(),
        ),
        "venues" => (
            vec!["name", "address", "capacity", "setting"],
            app::venues::list(
                tx,
                who,
                VenueFilter {
                    scope: None,
                    region_id: None,
                    setting: None,
                    min_capacity: None,
                    after: None,
                    limit: 500,
                },
            )?
            .into_iter()
            .map(|v| {
                (
                    v.id.to_string(),
                    vec![
                        v.name,
                        v.address,
                        v.capacity.to_string(),
                        v.setting.as_str().to_owned(),
                    ],
                )
            })
            .collect(),
        ),
        "candidates" => {
            let mut rows = Vec::new();
            if let Some(e) = election_of(tx, None)? {
                for u in app::units::list(tx, who, e.id, None, None, 500)? {
                    for c in app::candidates::list(tx, who, u.id, None, 500)? {
                        rows.push((
                            c.id.to_string(),
                            vec![
                                c.full_name,
                                u.name.clone(),
                                c.email,
                                c.status.as_str().to_owned(),
                            ],
                        ));
                    }
                    units.push((u.id, u.name));
                }
            }
            (vec!["name", "unit", "email", "status"], rows)
        }
        "tokens" => (
            vec!["name", "role", "region", "last_used", "revoked"],
            app::tokens::list(tx, who, None, 500)?
                .into_iter()
                .map(|t| {
                    (
                        t.id.to_string(),
                        vec![
                            t.name,
                            t.role.as_str().to_owned(),
                            region_name(t.region_id),
                            at(t.last_used_at),
                            at(t.revoked_at),
                        ],
                    )
                })
                .collect(),
        ),
        _ => return Err(Problem::not_found("page").into()),
    };
    Ok(Listed {
        head,
        rows,
        regions,
        units,
    })
}

async fn page(
    s: &Signed,
    req: &HttpRequest,
    ctx: &Ctx,
    what: String,
    secret: String,
    affected: Option<usize>,
    r: Refusal,
) -> Result<HttpResponse, ConsoleError> {
    let (who, lang, kind) = (s.caller.clone(), s.lang, what.clone());
    let listed = ctx.read(move |tx| listed(tx, &who, lang, &kind)).await?;
    html(&AdminPage {
        l: Layout::new(s, req),
        what,
        listed,
        secret,
        affected,
        r,
    })
}

async fn list(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    page(
        &s,
        &req,
        &ctx,
        path.into_inner(),
        String::new(),
        None,
        Refusal::default(),
    )
    .await
}

/// One form for every list: the fields each kind needs.
#[derive(Debug, Deserialize)]
struct NewRecord {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default, deserialize_with = "blank")]
    region_id: Option<Uuid>,
    #[serde(default, deserialize_with = "blank")]
    electoral_unit_id: Option<Uuid>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default, deserialize_with = "blank")]
    capacity: Option<i32>,
    #[serde(default, deserialize_with = "blank")]
    area_m2: Option<f64>,
    #[serde(default)]
    setting: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    effective_until: String,
    #[serde(default, deserialize_with = "blank")]
    max_attendees: Option<i32>,
    #[serde(default, deserialize_with = "blank")]
    max_occupancy_percent: Option<i32>,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    in_person_allowed: Option<String>,
}

/// What a creation gave back: a token's secret, or the meetings a new rule affects.
enum Made {
    Secret(String),
    Affected(usize),
    Nothing,
}

async fn create(
    s: Signed,
    req: HttpRequest,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    form: web::Form<NewRecord>,
) -> Result<HttpResponse, ConsoleError> {
    let what = path.into_inner();
    let f = form.into_inner();
    s.check(&f.csrf)?;
    let who = s.caller.clone();
    let kind = what.clone();
    let made = ctx
        .tx(move |tx| {
            let f = &f;
            match kind.as_str() {
                "tokens" => {
                    let new = app::tokens::NewToken {
                        name: f.name.clone(),
                        role: f.role.clone(),
                        region_id: f.region_id,
                    };
                    Ok(Made::Secret(app::tokens::create(tx, &who, new)?.token))
                }
                "venues" => {
                    let new = app::venues::NewVenue {
                        name: f.name.clone(),
                        region_id: f
                            .region_id
                            .ok_or_else(|| Problem::field("region_id", "is required"))?,
                        address: f.address.clone(),
                        capacity: f.capacity.unwrap_or(0),
                        area_m2: f.area_m2,
                        setting: f.setting.clone(),
                    };
                    app::venues::create(tx, &who, &new)?;
                    Ok(Made::Nothing)
                }
                "candidates" => {
                    let unit = f
                        .electoral_unit_id
                        .ok_or_else(|| Problem::field("electoral_unit_id", "is required"))?;
                    let new = app::candidates::NewCandidate {
                        full_name: f.name.clone(),
                        email: f.email.clone(),
                        locale: None,
                    };
                    app::candidates::create(tx, &who, unit, new)?;
                    Ok(Made::Nothing)
                }
                "health-rules" => {
                    let tz = election_of(tx, None)?
                        .map_or(chrono_tz::Asia::Ho_Chi_Minh, |e| zone(&e.timezone));
                    let until = Some(f.effective_until.trim())
                        .filter(|u| !u.is_empty())
                        .map(|u| utc_of(u, tz));
                    let fields = app::health_rules::RuleFields {
                        region_id: f.region_id,
                        effective_from: Some(utc_of(&f.effective_from, tz)),
                        effective_until: Some(until),
                        applies_to: Some(f.setting.clone()).filter(|s| !s.is_empty()),
                        max_attendees: Some(f.max_attendees),
                        max_occupancy_percent: Some(f.max_occupancy_percent),
                        min_area_per_person_m2: None,
                        combine: None,
                        reference: Some(Some(f.reference.clone()).filter(|r| !r.trim().is_empty())),
                        in_person_allowed: Some(f.in_person_allowed.is_some()),
                    };
                    let change = app::health_rules::create(tx, &who, &fields)?;
                    Ok(Made::Affected(change.affected_meetings.len()))
                }
                _ => Err(Problem::not_found("page").into()),
            }
        })
        .await;
    match made {
        Ok(Made::Secret(secret)) => {
            page(&s, &req, &ctx, what, secret, None, Refusal::default()).await
        }
        Ok(Made::Affected(n)) => {
            page(
                &s,
                &req,
                &ctx,
                what,
                String::new(),
                Some(n),
                Refusal::default(),
            )
            .await
        }
        Ok(Made::Nothing) => Ok(see_other(&format!("/admin/{what}"))),
        Err(app::Error::Problem(p)) => {
            let mut res = page(&s, &req, &ctx, what, String::new(), None, Refusal::of(&p)).await?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Token {
    csrf: String,
}

async fn revoke(
    s: Signed,
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    form: web::Form<Token>,
) -> Result<HttpResponse, ConsoleError> {
    s.check(&form.csrf)?;
    let id = crate::http::parse_id(&path, "token")?;
    let who = s.caller.clone();
    ctx.tx(move |tx| app::tokens::revoke(tx, &who, id)).await?;
    Ok(see_other("/admin/tokens"))
}
