//! `/outbox`: the admin's view of every email and its delivery attempts, and a failed email
//! sent again.
use super::query::Query;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Admin;
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::{outbox, Ctx};
use crate::db::outbox::OutboxFilter;
use crate::domain::email_address::EmailAddress;
use crate::domain::kinds::{self, OutboxStatus};
use crate::domain::problem::FieldErrors;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/outbox").get(list))
        .service(web::resource("/outbox/{id}").get(get))
        .service(web::resource("/outbox/{id}/retry").post(retry));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    status: Option<String>,
    candidate_id: Option<Uuid>,
    recipient: Option<String>,
    /// `newest` (newest first) or `oldest` (the default).
    order: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    q: Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let mut e = FieldErrors::new();
    let status = e.take(
        "status",
        q.status
            .as_deref()
            .map(kinds::parse::<OutboxStatus>)
            .transpose(),
    );
    let newest = e.take(
        "order",
        match q.order.as_deref().map(str::trim) {
            None | Some("oldest") => Ok(false),
            Some("newest") => Ok(true),
            Some(other) => Err(format!("must be one of newest, oldest, not {other:?}")),
        },
    );
    let recipient = e.take(
        "recipient",
        q.recipient
            .as_deref()
            .map(|r| EmailAddress::parse(r).map(|a| a.as_str().to_owned()))
            .transpose(),
    );
    let ((status, newest), recipient) = e.done(status.zip(newest).zip(recipient))?;
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let candidate_id = q.candidate_id;
    page.by_id(
        &ctx,
        move |tx, after, limit| {
            let filter = OutboxFilter {
                status,
                candidate_id,
                recipient: recipient.clone(),
                newest,
                after,
                limit,
            };
            outbox::list(tx, &who, filter)
        },
        |r| r.id,
    )
    .await
}

async fn get(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "email")?;
    let email = ctx.read(move |tx| outbox::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(email))
}

async fn retry(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "email")?;
    let email = ctx.tx(move |tx| outbox::retry(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(email))
}
