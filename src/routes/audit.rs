//! `GET /audit?entity_id=`: the audit trail (admin).
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::schema::audit_log;
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").get(list));
}

#[derive(Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
struct AuditEntry {
    id: i64,
    province_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    actor_name: String,
    action: String,
    entity_type: String,
    entity_id: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    entity_id: Option<Uuid>,
    entity_type: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_admin()?;
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let after = page
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API issued"))
        })
        .transpose()?;
    let limit = page.fetch();
    let rows = crate::db::run(&state.pool, move |conn| {
        let mut query = audit_log::table
            .select(AuditEntry::as_select())
            .into_boxed();
        if let Some(id) = q.entity_id {
            query = query.filter(audit_log::entity_id.eq(id));
        }
        if let Some(t) = q.entity_type {
            query = query.filter(audit_log::entity_type.eq(t));
        }
        if let Some(after) = after {
            query = query.filter(audit_log::id.gt(after));
        }
        Ok(query.order(audit_log::id).limit(limit).load(conn)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}
