//! `/elections`, their `/electoral-units` and the units' `/candidates`.
use super::query::Query;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::{Admin, Caller};
use super::idempotency::{run_once, Answer};
use super::openapi::inputs::{Id, IdempotencyKey, Paging};
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::candidates::{self, CandidatePatch, NewCandidate};
use crate::app::elections::{self, ElectionPatch, NewElection};
use crate::app::units::{self, NewUnit, UnitPatch};
use crate::app::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/elections")
            .post(create_election)
            .get(list_elections),
    )
    .service(
        web::resource("/elections/{id}")
            .get(get_election)
            .patch(patch_election),
    )
    .service(
        web::resource("/elections/{id}/electoral-units")
            .post(create_unit)
            .get(list_units),
    )
    .service(
        web::resource("/electoral-units/{id}")
            .get(get_unit)
            .patch(patch_unit),
    )
    .service(
        web::resource("/electoral-units/{id}/candidates")
            .post(create_candidate)
            .get(list_candidates),
    )
    .service(
        web::resource("/candidates/{id}")
            .get(get_candidate)
            .patch(patch_candidate),
    );
}

#[utoipa::path(
    post,
    path = "/api/v1/elections",
    operation_id = "createElection",
    tag = "elections",
    summary = "Create an election (admin)",
    params(IdempotencyKey),
    request_body = NewElection,
    responses(
        (
            status = 201,
            description = "Created",
            body = crate::app::elections::Election,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (
            status = 422,
            description = "`validation_failed` (e.g. unknown time zone, campaign starting after it ends), or `idempotency_key_reused`.",
        ),
    ),
)]
async fn create_election(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Json<NewElection>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (caller, new) = (who.clone(), body.clone());
    run_once(&ctx, &who, &req, &body, move |tx| {
        let election = elections::create(tx, &caller, new.clone())?;
        Answer::created(
            &election,
            Some(format!("/api/v1/elections/{}", election.id)),
        )
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/elections",
    operation_id = "listElections",
    tag = "elections",
    summary = "List elections",
    params(Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::app::elections::Election>,
        ),
    ),
)]
async fn list_elections(
    _who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    page.by_id(&ctx, elections::list, |r| r.id).await
}

#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}",
    operation_id = "getElection",
    tag = "elections",
    summary = "Read an election",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::app::elections::Election),
    ),
)]
async fn get_election(
    _who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "election")?;
    let election = ctx.read(move |tx| elections::find(tx, id)).await?;
    Ok(HttpResponse::Ok().json(election))
}

#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/electoral-units",
    operation_id = "createElectoralUnit",
    tag = "elections",
    summary = "Create an electoral unit of the election",
    params(Id, IdempotencyKey),
    request_body = NewUnit,
    responses(
        (
            status = 201,
            description = "Created",
            body = crate::db::units::ElectoralUnit,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (
            status = 409,
            description = "`already_exists`: a unit with this name exists in this region and body.",
        ),
        (
            status = 422,
            description = "`validation_failed` (region of the wrong level for the body, seats out of range), or `idempotency_key_reused`.",
        ),
    ),
)]
async fn create_unit(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<NewUnit>,
) -> Result<HttpResponse, ApiError> {
    let election_id = super::parse_id(&id, "election")?;
    let body = body.into_inner();
    let (caller, new) = (who.clone(), body.clone());
    run_once(&ctx, &who, &req, &body, move |tx| {
        let unit = units::create(tx, &caller, election_id, new.clone())?;
        Answer::created(&unit, Some(format!("/api/v1/electoral-units/{}", unit.id)))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UnitQuery {
    /// Units of this region's subtree.
    region_id: Option<Uuid>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/elections/{id}/electoral-units",
    operation_id = "listElectoralUnits",
    tag = "elections",
    summary = "List the election's electoral units in the caller's subtree",
    params(Id, UnitQuery, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::units::ElectoralUnit>,
        ),
    ),
)]
async fn list_units(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    q: Query<UnitQuery>,
) -> Result<HttpResponse, ApiError> {
    let election_id = super::parse_id(&id, "election")?;
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let region_id = q.region_id;
    page.by_id(
        &ctx,
        move |tx, after, limit| units::list(tx, &who, election_id, region_id, after, limit),
        |r| r.id,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/electoral-units/{id}",
    operation_id = "getElectoralUnit",
    tag = "elections",
    summary = "Read an electoral unit",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::db::units::ElectoralUnit),
    ),
)]
async fn get_unit(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "electoral unit")?;
    let (unit, _) = ctx.read(move |tx| units::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(unit))
}

#[utoipa::path(
    post,
    path = "/api/v1/electoral-units/{id}/candidates",
    operation_id = "createCandidate",
    tag = "elections",
    summary = "Add a candidate to the unit",
    params(Id, IdempotencyKey),
    request_body = NewCandidate,
    responses(
        (
            status = 201,
            description = "Created",
            body = crate::db::candidates::Candidate,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (
            status = 409,
            description = "`already_exists`: a candidate with this email exists in this unit.",
        ),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused`."),
    ),
)]
async fn create_candidate(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<NewCandidate>,
) -> Result<HttpResponse, ApiError> {
    let unit_id = super::parse_id(&id, "electoral unit")?;
    let body = body.into_inner();
    let (caller, new) = (who.clone(), body.clone());
    run_once(&ctx, &who, &req, &body, move |tx| {
        let candidate = candidates::create(tx, &caller, unit_id, new.clone())?;
        Answer::created(
            &candidate,
            Some(format!("/api/v1/candidates/{}", candidate.id)),
        )
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/electoral-units/{id}/candidates",
    operation_id = "listCandidates",
    tag = "elections",
    summary = "List the unit's candidates",
    params(Id, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::candidates::Candidate>,
        ),
    ),
)]
async fn list_candidates(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let unit_id = super::parse_id(&id, "electoral unit")?;
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    page.by_id(
        &ctx,
        move |tx, after, limit| candidates::list(tx, &who, unit_id, after, limit),
        |r| r.id,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/candidates/{id}",
    operation_id = "getCandidate",
    tag = "elections",
    summary = "Read a candidate",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::db::candidates::Candidate),
    ),
)]
async fn get_candidate(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "candidate")?;
    let (candidate, _) = ctx.read(move |tx| candidates::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(candidate))
}

#[utoipa::path(
    patch,
    path = "/api/v1/candidates/{id}",
    operation_id = "updateCandidate",
    tag = "elections",
    summary = "Edit a candidate; `status: withdrawn` withdraws them",
    description = "Withdrawing a candidate (`status: withdrawn`) takes them off every future planned meeting; the meetings stay, with the other candidates.",
    params(Id),
    request_body = CandidatePatch,
    responses(
        (status = 200, description = "OK", body = crate::db::candidates::Candidate),
        (
            status = 409,
            description = "`already_exists`: another candidate of the unit has this email.",
        ),
    ),
)]
async fn patch_candidate(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<CandidatePatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "candidate")?;
    let patch = body.into_inner();
    let candidate = ctx
        .tx(move |tx| candidates::patch(tx, &who, id, patch.clone()))
        .await?;
    Ok(HttpResponse::Ok().json(candidate))
}

#[utoipa::path(
    patch,
    path = "/api/v1/elections/{id}",
    operation_id = "updateElection",
    tag = "elections",
    summary = "Correct an election (admin)",
    params(Id),
    request_body = ElectionPatch,
    responses(
        (status = 200, description = "OK", body = crate::app::elections::Election),
    ),
)]
async fn patch_election(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<ElectionPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "election")?;
    let patch = body.into_inner();
    let election = ctx
        .tx(move |tx| elections::patch(tx, &who, id, &patch))
        .await?;
    Ok(HttpResponse::Ok().json(election))
}

#[utoipa::path(
    patch,
    path = "/api/v1/electoral-units/{id}",
    operation_id = "updateElectoralUnit",
    tag = "elections",
    summary = "Correct an electoral unit (admin)",
    params(Id),
    request_body = UnitPatch,
    responses(
        (status = 200, description = "OK", body = crate::db::units::ElectoralUnit),
        (
            status = 409,
            description = "`already_exists`: a unit with this name exists in the election.",
        ),
    ),
)]
async fn patch_unit(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<UnitPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "electoral unit")?;
    let patch = body.into_inner();
    let unit = ctx.tx(move |tx| units::patch(tx, &who, id, &patch)).await?;
    Ok(HttpResponse::Ok().json(unit))
}
