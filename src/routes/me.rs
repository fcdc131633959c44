//! `GET /me` (the calling token) and `POST /tokens` (admin).
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{self, Caller, Role};
use crate::error::{ApiError, FieldErrors};
use crate::idempotency::Created;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(me))
        .service(web::resource("/tokens").post(create_token));
}

async fn me(who: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": who.id,
        "name": who.name,
        "role": who.role,
        "region_id": who.region_id,
    }))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: String,
    region_id: Option<Uuid>,
}

async fn create_token(
    state: web::Data<AppState>,
    who: Caller,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_admin()?;
    // Not idempotent on purpose: a replay would have to store the plaintext token.
    let body = body.into_inner();
    let created = crate::db::tx(&state.pool, move |conn| {
        let who = &who;
        let mut errors = FieldErrors::new();
        let role = errors.take("role", Role::parse(&body.role));
        errors.finish()?;
        let role = role.ok_or_else(|| ApiError::field("role", "is required"))?;
        let (id, token) = auth::create_token(conn, &body.name, role, body.region_id)?;
        crate::audit::record(
            conn,
            who,
            crate::audit::Change {
                action: "create",
                entity_type: "token",
                entity_id: id,
                province_id: None,
                before: None,
                after: Some(json!({"id": id, "name": body.name, "role": role, "region_id": body.region_id})),
            },
        )?;
        Created::new(
            &json!({"id": id, "token": token, "name": body.name.trim(), "role": role, "region_id": body.region_id}),
            None,
        )
    })
    .await?;
    Ok(created.into_response(false))
}
