//! API tokens, stored only as SHA-256 hashes of the secret.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{api_tokens, regions};
use super::DbResult;
use crate::domain::kinds::Role;
use crate::domain::scope::Caller;

#[derive(Insertable)]
#[diesel(table_name = api_tokens)]
pub struct TokenInsertForm<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub role: Role,
    pub region_id: Option<Uuid>,
    pub token_hash: Vec<u8>,
}

/// A token as admins see it: never the secret.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct Token {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub region_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, form: TokenInsertForm<'_>) -> DbResult<Token> {
    Ok(diesel::insert_into(api_tokens::table)
        .values(form)
        .returning(Token::as_returning())
        .get_result(conn)?)
}

/// A live token's id, name, role, region and the region's path.
pub(super) type CallerRow = (Uuid, String, Role, Option<Uuid>, Option<Vec<Uuid>>);

/// The columns of a [`CallerRow`]: `api_tokens` left-joined to its region.
pub(super) fn caller_columns() -> (
    api_tokens::id,
    api_tokens::name,
    api_tokens::role,
    api_tokens::region_id,
    diesel::dsl::Nullable<regions::path>,
) {
    (
        api_tokens::id,
        api_tokens::name,
        api_tokens::role,
        api_tokens::region_id,
        regions::path.nullable(),
    )
}

/// The caller a token row stands for.
pub(super) fn into_caller((id, name, role, region_id, path): CallerRow) -> Caller {
    Caller {
        id,
        name,
        role,
        region_id,
        region_path: path.unwrap_or_default(),
    }
}

/// The caller a live token stands for, with its region's path.
pub fn caller(conn: &mut PgConnection, token_hash: &[u8]) -> DbResult<Option<Caller>> {
    let row: Option<CallerRow> = api_tokens::table
        .left_join(regions::table.on(regions::id.nullable().eq(api_tokens::region_id)))
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(caller_columns())
        .first(conn)
        .optional()?;
    Ok(row.map(into_caller))
}

/// Notes that a token was used at `now`, at most once a minute: no write per request.
pub fn touch(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> DbResult<()> {
    diesel::update(
        api_tokens::table.find(id).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.lt(now - chrono::TimeDelta::minutes(1))),
        ),
    )
    .set(api_tokens::last_used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<Token>> {
    Ok(api_tokens::table
        .find(id)
        .select(Token::as_select())
        .first(conn)
        .optional()?)
}

/// Tokens in creation order (ids are UUIDv7), `limit` after `after`.
pub fn list(conn: &mut PgConnection, after: Option<Uuid>, limit: i64) -> DbResult<Vec<Token>> {
    let mut q = api_tokens::table.select(Token::as_select()).into_boxed();
    if let Some(after) = after {
        q = q.filter(api_tokens::id.gt(after));
    }
    Ok(q.order(api_tokens::id).limit(limit).load(conn)?)
}

/// Revokes a live token; `None` when it was already revoked (or never existed).
pub fn revoke(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> DbResult<Option<Token>> {
    Ok(diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .returning(Token::as_returning())
    .get_result(conn)
    .optional()?)
}
