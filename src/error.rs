//! `ApiError`: the one error type at the HTTP edge, rendered as RFC 9457 `application/problem+json`.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::{json, Value};

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Collects every invalid field of a request, so the client learns them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Keeps the value of a parse, or records its error under `field`.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else the 422 carrying every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.0))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422 `validation_failed`, naming each field.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// Any other client-facing problem, with its SPEC code.
    #[error("{detail}")]
    Problem {
        status: StatusCode,
        code: &'static str,
        detail: String,
        /// Extra members of the problem object (e.g. the conflicting meeting).
        extra: Option<Value>,
    },
    /// 500: the cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn problem(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Problem {
            status,
            code,
            detail: detail.into(),
            extra: None,
        }
    }

    /// Adds members to the problem object.
    pub fn with(self, more: Value) -> Self {
        match self {
            ApiError::Problem {
                status,
                code,
                detail,
                ..
            } => ApiError::Problem {
                status,
                code,
                detail,
                extra: Some(more),
            },
            other => other,
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::CONFLICT, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::problem(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(cause.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "validation_failed",
            ApiError::Problem { code, .. } => code,
            ApiError::Internal(_) => "internal_error",
        }
    }
}

fn title(code: &str) -> String {
    let mut t = code.replace('_', " ");
    if let Some(first) = t.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    t
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Problem { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let code = self.code();
        let mut body = json!({
            "type": format!("urn:voter-meetings:problem:{code}"),
            "title": title(code),
            "status": status.as_u16(),
            "code": code,
        });
        match self {
            ApiError::Invalid(errors) => {
                body["detail"] = json!(format!(
                    "{} field(s) are invalid: {}",
                    errors.len(),
                    errors
                        .iter()
                        .map(|e| e.field.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                body["errors"] = json!(errors);
            }
            ApiError::Problem { detail, extra, .. } => {
                body["detail"] = json!(detail);
                if let (Some(Value::Object(more)), Value::Object(obj)) = (extra, &mut body) {
                    for (k, v) in more {
                        obj.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                body["detail"] = json!("an internal error occurred; it has been logged");
            }
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(body.to_string())
    }
}

/// The code of a request that lost its database connection midway (safe to retry: a
/// transaction that lost its connection never commits).
pub const CONNECTION_LOST: &str = "connection_lost";

/// Constraint names the schema defines, and what each means to a client.
fn constraint_problem(kind: &DatabaseErrorKind, constraint: &str) -> Option<ApiError> {
    let e = match constraint {
        "meeting_candidates_no_overlap" => ApiError::conflict(
            "candidate_conflict",
            "a candidate is already in an overlapping meeting (including the travel buffer)",
        ),
        "meeting_sites_no_overlap" => ApiError::conflict(
            "venue_conflict",
            "the venue already hosts an overlapping meeting",
        ),
        "regions_code_unique" | "regions_province_code_unique" => {
            ApiError::conflict("already_exists", "a region with this code already exists")
        }
        "electoral_units_name_unique" => ApiError::conflict(
            "already_exists",
            "an electoral unit with this name already exists in this region and body",
        ),
        "candidates_email_unique" => ApiError::conflict(
            "already_exists",
            "a candidate with this email already exists in this electoral unit",
        ),
        "venues_name_unique" => ApiError::conflict(
            "already_exists",
            "a venue with this name already exists in this region",
        ),
        "attendance_reports_revision_unique" => ApiError::conflict(
            "report_exists",
            "an attendance report was filed concurrently; file again with a correction_reason",
        ),
        _ => {
            return match kind {
                DatabaseErrorKind::ForeignKeyViolation => Some(ApiError::unprocessable(
                    "validation_failed",
                    format!("a referenced record does not exist ({constraint})"),
                )),
                _ => None,
            }
        }
    };
    Some(e)
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        if let DieselError::DatabaseError(kind, info) = &e {
            if let Some(problem) = info
                .constraint_name()
                .and_then(|c| constraint_problem(kind, c))
            {
                return problem;
            }
            if matches!(
                kind,
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
            ) {
                tracing::warn!(error = %info.message(), "database connection lost");
                return ApiError::problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    CONNECTION_LOST,
                    "the connection to the database was lost; retry the request",
                );
            }
            // diesel reports a deadlock (SQLSTATE 40P01) only by its message; like a
            // serialization failure it rolled everything back and is safe to retry.
            if matches!(kind, DatabaseErrorKind::SerializationFailure)
                || info.message().starts_with("deadlock detected")
            {
                return ApiError::problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "retry",
                    "the request collided with a concurrent one; retry it",
                );
            }
        }
        ApiError::Internal(e.into())
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool exhausted or unreachable");
        ApiError::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is not reachable right now; retry shortly",
        )
    }
}

/// A value that validation has already vouched for: after [`FieldErrors::finish`] succeeds
/// every `take` returned `Some`, so `None` here is a bug, reported as a 500, never a panic.
pub fn vouched<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal(anyhow::anyhow!("a validated field went missing")))
}
