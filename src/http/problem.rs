//! `ApiError`: a use case's failure as an RFC 9457 `application/problem+json` answer.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

use crate::app;
use crate::db::{Constraint, DbError, Violation};
use crate::domain::problem::{Code, Problem};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(pub app::Error);

impl From<app::Error> for ApiError {
    fn from(e: app::Error) -> Self {
        ApiError(e)
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(app::Error::Problem(p))
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError(app::Error::Db(e))
    }
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Problem::new(code, detail).into()
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(Code::BadRequest, detail)
    }

    /// What the client is told: the use case's problem, or the problem a database failure
    /// amounts to. `None` for a bug (a 500, whose cause is logged and never shown).
    fn problem(&self) -> Option<Problem> {
        match &self.0 {
            app::Error::Problem(p) => Some(p.clone()),
            app::Error::Db(e) => database_problem(e),
        }
    }
}

/// Database failures that mean something to a client. Violations the use cases did not
/// translate where they happened fall back to what the kind of constraint says.
fn database_problem(e: &DbError) -> Option<Problem> {
    let p = match e {
        DbError::Unavailable(_) => Problem::new(
            Code::Unavailable,
            "the database is not reachable right now; retry shortly",
        ),
        DbError::ConnectionLost(_) => Problem::new(
            Code::ConnectionLost,
            "the connection to the database was lost; retry the request",
        ),
        DbError::Retry(_) => Problem::new(
            Code::Retry,
            "the request collided with a concurrent one; retry it",
        ),
        DbError::Timeout => Problem::new(
            Code::Timeout,
            "the request took longer than the database allows; nothing was changed",
        ),
        DbError::Violated {
            violation: Violation::Unique,
            constraint,
        } => Problem::new(Code::AlreadyExists, taken(constraint)),
        DbError::Violated {
            violation: Violation::ForeignKey,
            constraint,
        } => Problem::new(
            Code::ValidationFailed,
            format!("a referenced record does not exist ({})", name(constraint)),
        ),
        DbError::Violated { .. } | DbError::Other(_) => return None,
    };
    Some(p)
}

/// What a unique constraint found taken (names compare case-insensitively after NFC).
fn taken(c: &Constraint) -> String {
    let what = match c {
        Constraint::RegionsCodeUnique | Constraint::ProvincesCodeUnique => {
            "a region with this code already exists"
        }
        Constraint::RegionsNameUnique | Constraint::ProvincesNameUnique => {
            "a region of this name already exists beside it"
        }
        Constraint::ElectoralUnitsNameUnique | Constraint::ElectoralUnitsFoldedNameUnique => {
            "an electoral unit of this name already exists for this body and region"
        }
        Constraint::CandidatesEmailUnique | Constraint::CandidatesFoldedEmailUnique => {
            "a candidate of this unit already has this email"
        }
        Constraint::VenuesNameUnique | Constraint::VenuesFoldedNameUnique => {
            "a venue of this name already exists in this region"
        }
        other => {
            return format!(
                "a record with these values already exists ({})",
                name(other)
            )
        }
    };
    format!("{what} (names and emails compare case-insensitively, after NFC)")
}

fn name(c: &Constraint) -> String {
    match c {
        Constraint::Other(n) => n.clone(),
        known => format!("{known:?}"),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        let code = self.problem().map_or(Code::InternalError, |p| p.code);
        StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem().unwrap_or_else(|| {
            tracing::error!(error = ?self.0, "internal error");
            Problem::new(
                Code::InternalError,
                "an internal error occurred; it has been logged",
            )
        });
        if let app::Error::Db(e) = &self.0 {
            if problem.code != Code::InternalError {
                tracing::warn!(error = %e, code = problem.code.as_str(), "database trouble");
            }
        }
        render(&problem)
    }
}

/// The problem object as [`body`] writes it, for the OpenAPI document (a test holds the two
/// together).
#[derive(utoipa::ToSchema)]
#[schema(
    as = Problem,
    description = "RFC 9457 problem details (`application/problem+json`). Some problems add \
members: `candidate_conflict` adds `conflicting_meeting_id` and `candidate_id`; `venue_conflict` \
adds `conflicting_meeting_id` and `venue_id`; `capacity_reached` adds `present` and `capacity`; \
`capacity_exceeded` and `in_person_not_allowed` add `problems` (a list of SchedulingProblem)."
)]
pub struct ProblemSchema {
    /// `urn:voter-meetings:problem:<code>`
    #[schema(
        rename = "type",
        examples("urn:voter-meetings:problem:capacity_reached")
    )]
    pub kind: String,
    #[schema(examples("Capacity reached"))]
    pub title: String,
    #[schema(examples(409))]
    pub status: u16,
    pub detail: String,
    #[schema(inline)]
    pub code: Code,
    /// Present on 422 `validation_failed`: every invalid field.
    #[schema(required = false, nullable = false)]
    pub errors: Option<Vec<crate::domain::problem::FieldError>>,
}

/// The problem object of RFC 9457 with the service's `code` and any `errors` and extras.
pub fn body(problem: &Problem) -> Value {
    let code = problem.code;
    let mut body = json!({
        "type": format!("urn:voter-meetings:problem:{}", code.as_str()),
        "title": code.title(),
        "status": code.status(),
        "code": code.as_str(),
        "detail": problem.detail,
    });
    if !problem.errors.is_empty() {
        body["errors"] = json!(problem.errors);
    }
    if let Value::Object(obj) = &mut body {
        for (k, v) in &problem.extra {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    body
}

/// The problem object, with the headers its status asks for.
pub fn render(problem: &Problem) -> HttpResponse {
    let code = problem.code;
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = body(problem);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    match status {
        StatusCode::UNAUTHORIZED => {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        StatusCode::TOO_MANY_REQUESTS => {
            let after = problem
                .extra
                .get("retry_after")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            response.insert_header((header::RETRY_AFTER, after.to_string()));
        }
        _ => {}
    }
    response.body(body.to_string())
}
