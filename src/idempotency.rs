//! `Idempotency-Key` on creating POSTs: the same key and body replay the first response for
//! 24 hours; the same key with another body is 422 `idempotency_key_reused`.
//!
//! The key row is inserted in the same transaction as the creation it guards: a concurrent
//! request with the same key waits on the row lock, then replays the committed response.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::schema::idempotency_keys;
use crate::error::ApiError;

/// The `Idempotency-Key` header of a request, if it sent one.
pub fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

/// A response that can be stored and replayed.
#[derive(Debug, Clone)]
pub struct Created {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
    pub etag: Option<String>,
}

impl Created {
    pub fn new(body: &impl Serialize, location: Option<String>) -> Result<Self, ApiError> {
        Ok(Self {
            status: StatusCode::CREATED,
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
            location,
            etag: None,
        })
    }

    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(loc) = &self.location {
            r.insert_header((header::LOCATION, loc.as_str()));
        }
        if let Some(tag) = &self.etag {
            r.insert_header((header::ETAG, tag.as_str()));
        }
        if replayed {
            r.insert_header(("Idempotent-Replayed", "true"));
        }
        r.json(self.body)
    }
}

/// Fingerprint of a request: method, path and its canonical JSON body.
pub fn fingerprint(req: &HttpRequest, body: &impl Serialize) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(req.method().as_str());
    h.update(b" ");
    h.update(req.uri().to_string());
    h.update(b"\n");
    h.update(serde_json::to_vec(body).unwrap_or_default());
    h.finalize().to_vec()
}

/// Runs `work` once per key; must be called inside a transaction.
/// Returns the response and whether it is a replay.
pub fn once(
    conn: &mut PgConnection,
    token_id: Uuid,
    key: Option<&str>,
    request_hash: Vec<u8>,
    work: impl FnOnce(&mut PgConnection) -> Result<Created, ApiError>,
) -> Result<(Created, bool), ApiError> {
    let Some(key) = key else {
        return Ok((work(conn)?, false));
    };
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::token_id.eq(token_id))
            .filter(idempotency_keys::key.eq(key))
            .filter(
                idempotency_keys::created_at.lt(chrono::Utc::now() - chrono::Duration::hours(24)),
            ),
    )
    .execute(conn)?;
    let claimed = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::token_id.eq(token_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(&request_hash),
            idempotency_keys::status.eq(0i16),
            idempotency_keys::response.eq(Value::Null),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if claimed == 1 {
        let created = work(conn)?;
        diesel::update(idempotency_keys::table.find((token_id, key)))
            .set((
                idempotency_keys::status.eq(created.status.as_u16() as i16),
                idempotency_keys::response.eq(&created.body),
                idempotency_keys::location.eq(&created.location),
                idempotency_keys::etag.eq(&created.etag),
            ))
            .execute(conn)?;
        return Ok((created, false));
    }
    let (stored_hash, status, body, location, etag): (
        Vec<u8>,
        i16,
        Value,
        Option<String>,
        Option<String>,
    ) = idempotency_keys::table
        .find((token_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response,
            idempotency_keys::location,
            idempotency_keys::etag,
        ))
        .first(conn)?;
    if stored_hash != request_hash {
        return Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request",
        ));
    }
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("stored status {status} is not valid"))
        })?;
    Ok((
        Created {
            status,
            body,
            location,
            etag,
        },
        true,
    ))
}
