//! What several handlers name in their `#[utoipa::path]`: the shared parameters (made
//! components by `Shared`) and the import's spreadsheet body. Kept apart from the document's
//! root, which names the handlers, so that they need not name it.
use utoipa::IntoParams;
use uuid::Uuid;

/// A path's `{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Id {
    /// A UUID; anything else names nothing (404).
    pub id: Uuid,
}

/// `?limit=` and `?cursor=` of every list, as `PageRequest::parse` reads them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The next_cursor of the previous page.
    pub cursor: Option<String>,
}

/// `Idempotency-Key`, as `idempotency::key_of` reads it.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// The same key and body replay the first response for 24 hours (with
    /// `Idempotent-Replayed: true`); the same key with another body is 422
    /// `idempotency_key_reused`.
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]{1,255}$"
    )]
    pub key: Option<String>,
}

/// The `If-Match` a meeting's change requires.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The meeting's ETag from GET (`"<version>"`), or `*`. Compared strongly: a weak `W/"3"`
    /// never matches (412). Missing: 428 `precondition_required`; stale: 412 `version_conflict`.
    #[param(rename = "If-Match", example = "\"3\"")]
    pub version: String,
}

/// An XLSX workbook, as an import's body.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Workbook(pub Vec<u8>);
