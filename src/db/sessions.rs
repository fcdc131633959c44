//! Web console sessions: the SHA-256 of a session secret, the token it stands for, its expiry.
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{api_tokens, console_sessions, regions};
use super::{tokens, DbResult};
use crate::domain::scope::Caller;

pub fn insert(
    conn: &mut PgConnection,
    id_hash: &[u8],
    token_id: uuid::Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> DbResult<()> {
    diesel::insert_into(console_sessions::table)
        .values((
            console_sessions::id_hash.eq(id_hash),
            console_sessions::token_id.eq(token_id),
            console_sessions::created_at.eq(now),
            console_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The caller of a live session: not expired, its token not revoked.
pub fn caller(
    conn: &mut PgConnection,
    id_hash: &[u8],
    now: DateTime<Utc>,
) -> DbResult<Option<Caller>> {
    let row: Option<tokens::CallerRow> = console_sessions::table
        .inner_join(api_tokens::table)
        .left_join(regions::table.on(regions::id.nullable().eq(api_tokens::region_id)))
        .filter(console_sessions::id_hash.eq(id_hash))
        .filter(console_sessions::expires_at.gt(now))
        .filter(api_tokens::revoked_at.is_null())
        .select(tokens::caller_columns())
        .first(conn)
        .optional()?;
    Ok(row.map(tokens::into_caller))
}

pub fn delete(conn: &mut PgConnection, id_hash: &[u8]) -> DbResult<()> {
    diesel::delete(console_sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

/// Forgets sessions that expired before `now`.
pub fn purge(conn: &mut PgConnection, now: DateTime<Utc>) -> DbResult<usize> {
    Ok(
        diesel::delete(console_sessions::table.filter(console_sessions::expires_at.le(now)))
            .execute(conn)?,
    )
}
