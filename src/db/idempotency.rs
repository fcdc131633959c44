//! Stored answers of requests sent with an `Idempotency-Key`.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::idempotency_keys;
use super::DbResult;

/// A stored answer.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    pub request_hash: Vec<u8>,
    pub status: i16,
    pub response: Value,
    pub location: Option<String>,
    pub etag: Option<String>,
}

/// Claims `key` for this token; false when it is taken (by a committed or a concurrent
/// request: the insert then waits for that one's transaction). A claim older than `expired`
/// is replaced.
pub fn claim(
    conn: &mut PgConnection,
    token_id: Uuid,
    key: &str,
    request_hash: &[u8],
    expired: DateTime<Utc>,
) -> DbResult<bool> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::token_id.eq(token_id))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::created_at.lt(expired)),
    )
    .execute(conn)?;
    let claimed = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::token_id.eq(token_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status.eq(0i16),
            idempotency_keys::response.eq(Value::Null),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(claimed == 1)
}

/// Stores the answer of a claimed key.
pub fn store(
    conn: &mut PgConnection,
    token_id: Uuid,
    key: &str,
    status: i16,
    response: &Value,
    location: Option<&str>,
    etag: Option<&str>,
) -> DbResult<()> {
    diesel::update(idempotency_keys::table.find((token_id, key)))
        .set((
            idempotency_keys::status.eq(status),
            idempotency_keys::response.eq(response),
            idempotency_keys::location.eq(location),
            idempotency_keys::etag.eq(etag),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn stored(conn: &mut PgConnection, token_id: Uuid, key: &str) -> DbResult<Option<Stored>> {
    Ok(idempotency_keys::table
        .find((token_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response,
            idempotency_keys::location,
            idempotency_keys::etag,
        ))
        .first(conn)
        .optional()?)
}

/// Deletes answers older than `before`: the promise is 24 hours.
pub fn purge(conn: &mut PgConnection, before: DateTime<Utc>) -> DbResult<usize> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)?,
    )
}
