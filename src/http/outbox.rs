//! `/outbox`: the admin's view of every email and its delivery attempts, and a failed email
//! sent again.
use super::query::Query;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Admin;
use super::openapi::inputs::{Id, Paging};
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

/// The order of a page of emails.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    ToSchema,
    strum::EnumIter,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[schema(rename_all = "snake_case")]
pub(super) enum Order {
    Oldest,
    Newest,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    #[param(value_type = Option<crate::domain::kinds::OutboxStatus>)]
    status: Option<String>,
    candidate_id: Option<Uuid>,
    #[param(format = Email)]
    recipient: Option<String>,
    /// `newest` (newest first) or `oldest` (the default).
    #[param(value_type = Option<Order>, default = "oldest")]
    order: Option<String>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/outbox",
    operation_id = "listOutbox",
    tag = "email",
    summary = "Emails and their delivery state (admin)",
    params(OutboxQuery, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::outbox::OutboxEntry>,
        ),
    ),
)]
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
        q.order
            .as_deref()
            .map_or(Ok(Order::Oldest), kinds::parse::<Order>)
            .map(|o| o == Order::Newest),
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

#[utoipa::path(
    get,
    path = "/api/v1/outbox/{id}",
    operation_id = "getOutboxEmail",
    tag = "email",
    summary = "One email in full, with every delivery attempt (admin)",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::db::outbox::OutboxDetail),
    ),
)]
async fn get(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "email")?;
    let email = ctx.read(move |tx| outbox::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(email))
}

#[utoipa::path(
    post,
    path = "/api/v1/outbox/{id}/retry",
    operation_id = "retryOutboxEmail",
    tag = "email",
    summary = "Send a failed email again: back to pending, attempts kept (admin, audited)",
    params(Id),
    responses(
        (status = 200, description = "The email, pending.", body = crate::db::outbox::OutboxEntry),
        (status = 409, description = "`email_not_failed` (`status` says what it is)."),
    ),
)]
async fn retry(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "email")?;
    let email = ctx.tx(move |tx| outbox::retry(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(email))
}
