//! `/meetings/{id}/checkins` (live counters) and `/meetings/{id}/attendance-report`.
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::attendance::{self, Submission};
use crate::auth::Caller;
use crate::db::attendance::{self as db, Opinion, SiteAttendance};
use crate::domain::values::optional_text;
use crate::error::{ApiError, FieldErrors};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/meetings/{id}/checkins").post(check_in))
        .service(
            web::resource("/meetings/{id}/attendance-report")
                .put(file_report)
                .get(read_report),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckIn {
    site_id: Option<Uuid>,
    count: Option<i32>,
}

async fn check_in(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    body: web::Json<CheckIn>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    who.ensure_can_mutate()?;
    let count = body.count.unwrap_or(1);
    if count == 0 || !(-10_000..=10_000).contains(&count) {
        return Err(ApiError::field(
            "count",
            "must be a non-zero number between -10000 and 10000",
        ));
    }
    let site_id = body.site_id;
    let counter = crate::db::run(&state.pool, move |conn| {
        let now = chrono::Utc::now();
        match db::check_in(conn, meeting_id, site_id, count, who.scope(), now)? {
            Some(counter) => Ok(counter),
            None => Err(db::why_not_counted(
                conn,
                meeting_id,
                site_id,
                count,
                |p| who.can_read(p),
                now,
            )?),
        }
    })
    .await;
    crate::metrics::count_check_in(&counter);
    Ok(HttpResponse::Ok().json(counter?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportRequest {
    attendees: i32,
    #[serde(default)]
    sites: Vec<SiteAttendance>,
    online_attendees: Option<i32>,
    opinions_count: Option<i32>,
    #[serde(default)]
    opinions: Vec<Opinion>,
    notes: Option<String>,
    correction_reason: Option<String>,
}

impl ReportRequest {
    fn parse(self) -> Result<Submission, ApiError> {
        let mut e = FieldErrors::new();
        let notes = e.take("notes", optional_text(self.notes.as_deref(), 10_000));
        let correction_reason = e.take(
            "correction_reason",
            optional_text(self.correction_reason.as_deref(), 1_000),
        );
        if self.opinions.len() > 10_000 {
            e.add("opinions", "at most 10000 opinions");
        }
        for (i, o) in self.opinions.iter().enumerate() {
            if o.topic.as_deref().is_some_and(|t| t.chars().count() > 200) {
                e.add(
                    format!("opinions[{i}].topic"),
                    "must be at most 200 characters",
                );
            }
            if o.text
                .as_deref()
                .is_some_and(|t| t.chars().count() > 10_000)
            {
                e.add(
                    format!("opinions[{i}].text"),
                    "must be at most 10000 characters",
                );
            }
        }
        e.finish()?;
        Ok(Submission {
            attendees: self.attendees,
            sites: self.sites,
            online_attendees: self.online_attendees,
            opinions_count: self.opinions_count,
            opinions: self.opinions,
            notes: notes.flatten(),
            correction_reason: correction_reason.flatten(),
        })
    }
}

async fn file_report(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    body: web::Json<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    who.ensure_can_mutate()?;
    let submission = body.into_inner().parse()?;
    let report = crate::db::tx(&state.pool, move |conn| {
        attendance::file(conn, &who, meeting_id, submission, chrono::Utc::now())
    })
    .await?;
    let status = if report.revision == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(report))
}

async fn read_report(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    let revisions = crate::db::run(&state.pool, move |conn| {
        let m = crate::db::meetings::find(conn, meeting_id)?;
        who.ensure_read(&m.region_path)?;
        Ok(db::revisions(conn, meeting_id)?)
    })
    .await?;
    let mut revisions = revisions.into_iter();
    let current = revisions
        .next()
        .ok_or_else(|| ApiError::not_found("attendance report for this meeting"))?;
    Ok(HttpResponse::Ok().json(json!({
        "current": current,
        "revisions": revisions.collect::<Vec<_>>(),
    })))
}
