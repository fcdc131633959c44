//! Calendar subscription links: one per candidate, found by the SHA-256 of its secret.
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::calendar_links;
use super::DbResult;

/// A candidate's link: the nonce its secret is derived from, and the secret's hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calendar_links)]
pub struct CalendarLink {
    pub province_id: Uuid,
    pub candidate_id: Uuid,
    pub nonce: String,
    pub secret_hash: String,
}

/// The links of these candidates.
pub fn of_candidates(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<CalendarLink>> {
    Ok(calendar_links::table
        .filter(calendar_links::candidate_id.eq_any(ids))
        .select(CalendarLink::as_select())
        .load(conn)?)
}

/// Sets these candidates' links, replacing any they had: the old secrets stop working.
pub fn put(conn: &mut PgConnection, links: &[CalendarLink]) -> DbResult<()> {
    for chunk in links.chunks(1_000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|l| {
                (
                    calendar_links::province_id.eq(l.province_id),
                    calendar_links::candidate_id.eq(l.candidate_id),
                    calendar_links::nonce.eq(&l.nonce),
                    calendar_links::secret_hash.eq(&l.secret_hash),
                    calendar_links::created_at.eq(diesel::dsl::now),
                )
            })
            .collect();
        diesel::insert_into(calendar_links::table)
            .values(rows)
            .on_conflict((calendar_links::province_id, calendar_links::candidate_id))
            .do_update()
            .set((
                calendar_links::nonce.eq(diesel::upsert::excluded(calendar_links::nonce)),
                calendar_links::secret_hash
                    .eq(diesel::upsert::excluded(calendar_links::secret_hash)),
                // From the row, not a function: Citus evaluates none in DO UPDATE SET.
                calendar_links::created_at.eq(diesel::upsert::excluded(calendar_links::created_at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The candidate whose secret hashes to `secret_hash`.
pub fn candidate_of(conn: &mut PgConnection, secret_hash: &str) -> DbResult<Option<Uuid>> {
    Ok(calendar_links::table
        .filter(calendar_links::secret_hash.eq(secret_hash))
        .select(calendar_links::candidate_id)
        .first(conn)
        .optional()?)
}
