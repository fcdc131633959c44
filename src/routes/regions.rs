//! `/regions`: the administrative tree.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::regions::{self, Level, RegionFilter, RegionForm};
use crate::domain::values::{optional_text, text, EmailAddress};
use crate::error::{vouched, ApiError, FieldErrors};
use crate::idempotency::Created;
use crate::pagination::PageRequest;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/regions").post(create).get(list))
        .service(web::resource("/regions/{id}").get(get));
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRegion {
    name: String,
    level: String,
    parent_id: Option<Uuid>,
    code: Option<String>,
    contact_email: Option<String>,
}

impl NewRegion {
    fn parse(self) -> Result<RegionForm, ApiError> {
        let mut e = FieldErrors::new();
        let name = e.take("name", text(&self.name, 200));
        let level = e.take("level", Level::parse(&self.level));
        let code = e.take("code", optional_text(self.code.as_deref(), 32));
        let contact_email = e.take(
            "contact_email",
            self.contact_email
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(EmailAddress::parse)
                .transpose(),
        );
        e.finish()?;
        Ok(RegionForm {
            name: vouched(name)?,
            level: vouched(level)?,
            parent_id: self.parent_id,
            code: vouched(code)?,
            contact_email: vouched(contact_email)?.map(|e| e.as_str().to_owned()),
        })
    }
}

async fn create(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    body: web::Json<NewRegion>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_admin()?;
    super::create_once(&state, who, &req, body.into_inner(), |conn, who, body| {
        let region = regions::create(conn, body.parse()?)?;
        crate::audit::record(
            conn,
            who,
            crate::audit::Change {
                action: "create",
                entity_type: "region",
                entity_id: region.id,
                province_id: Some(region.province_id),
                before: None,
                after: serde_json::to_value(&region).ok(),
            },
        )?;
        Created::new(&region, Some(format!("/api/v1/regions/{}", region.id)))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    parent_id: Option<Uuid>,
    level: Option<String>,
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
    let level = q
        .level
        .as_deref()
        .map(Level::parse)
        .transpose()
        .map_err(|m| ApiError::field("level", m))?;
    let filter = RegionFilter {
        scope: who.scope(),
        parent_id: q.parent_id,
        level,
        after: page.after_id()?,
        limit: page.fetch(),
    };
    let rows = crate::db::run(&state.pool, move |conn| regions::list(conn, filter)).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

async fn get(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "region")?;
    let region = crate::db::run(&state.pool, move |conn| regions::find(conn, id)).await?;
    who.ensure_read(&region.path)?;
    Ok(HttpResponse::Ok().json(region))
}
