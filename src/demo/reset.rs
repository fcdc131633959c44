//! An earlier demo province: found by its code and the demo's own audit entry, and removed
//! with everything in it. No use case deletes election data, so this is the one place the
//! demo writes rows itself; the removal is audited, the demo's tokens revoked or deleted.
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::ACTOR;
use crate::app::audit::{self, Change};
use crate::app::{tokens, Ctx};
use crate::domain::scope::Caller;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The demo province with this code, if the demo created one.
pub fn existing(conn: &mut PgConnection, code: &str) -> anyhow::Result<Option<Uuid>> {
    Ok(diesel::sql_query(
        "SELECT r.id FROM regions r
          WHERE r.level = 'province' AND r.code = $1
            AND EXISTS (SELECT 1 FROM audit_log a
                         WHERE a.province_id = r.province_id
                           AND a.entity_type = 'region' AND a.action = 'create'
                           AND a.entity_id = r.id AND a.actor_name = $2)",
    )
    .bind::<Text, _>(code)
    .bind::<Text, _>(ACTOR)
    .get_result::<Id>(conn)
    .optional()?
    .map(|r| r.id))
}

/// What goes, in the order of the foreign keys; `$1` is the province, `$2` its elections,
/// `$3` the tokens scoped inside it. Each statement names one table and its province or a
/// list of ids, so that on Citus each goes to the province's shard or is a plain write to a
/// reference table.
const REMOVALS: [&str; 13] = [
    "DELETE FROM attendance_reports WHERE province_id = $1",
    "DELETE FROM outbox WHERE province_id = $1",
    "DELETE FROM calendar_links WHERE province_id = $1",
    "DELETE FROM schedule_fan_outs WHERE province_id = $1 OR election_id = ANY($2)",
    "DELETE FROM meetings WHERE province_id = $1",
    "DELETE FROM health_rules WHERE province_id = $1",
    "DELETE FROM candidates WHERE province_id = $1",
    "DELETE FROM electoral_units WHERE province_id = $1",
    "DELETE FROM venues WHERE province_id = $1",
    "DELETE FROM idempotency_keys WHERE token_id = ANY($3)",
    "DELETE FROM api_tokens WHERE id = ANY($3)",
    "DELETE FROM regions WHERE province_id = $1",
    "DELETE FROM provinces WHERE id = $1",
];

/// Removes the province and everything in it, its election when nothing else uses it, the
/// tokens scoped inside it; revokes the admin token the demo issued with it.
pub fn remove(
    ctx: &Ctx,
    conn: &mut PgConnection,
    who: &Caller,
    province: Uuid,
    admin_token: &str,
) -> anyhow::Result<()> {
    let ids = |rows: Vec<Id>| -> Vec<Uuid> { rows.into_iter().map(|r| r.id).collect() };
    let admin_tokens = ids(diesel::sql_query(
        "SELECT id FROM api_tokens WHERE name = $1 AND role = 'admin' AND revoked_at IS NULL",
    )
    .bind::<Text, _>(admin_token)
    .load(conn)?);
    let elections = ids(diesel::sql_query(
        "SELECT DISTINCT election_id AS id FROM electoral_units WHERE province_id = $1",
    )
    .bind::<SqlUuid, _>(province)
    .load(conn)?);
    let scoped_tokens = ids(diesel::sql_query(
        "SELECT t.id FROM api_tokens t
          WHERE t.region_id IN (SELECT r.id FROM regions r WHERE r.province_id = $1)",
    )
    .bind::<SqlUuid, _>(province)
    .load(conn)?);
    ctx.tx_on(conn, |tx| {
        for sql in REMOVALS {
            diesel::sql_query(sql)
                .bind::<SqlUuid, _>(province)
                .bind::<diesel::sql_types::Array<SqlUuid>, _>(&elections)
                .bind::<diesel::sql_types::Array<SqlUuid>, _>(&scoped_tokens)
                .execute(tx.conn())?;
        }
        // The elections still used elsewhere, read from the distributed tables on their own:
        // on Citus a write to a reference table may not read distributed ones, nor may a
        // reference table be joined to them by anything but their distribution column.
        let used = ids(diesel::sql_query(
            "SELECT election_id AS id FROM electoral_units WHERE election_id = ANY($1)
             UNION SELECT election_id AS id FROM meetings WHERE election_id = ANY($1)",
        )
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&elections)
        .load(tx.conn())?);
        let unused: Vec<Uuid> = elections
            .iter()
            .copied()
            .filter(|e| !used.contains(e))
            .collect();
        diesel::sql_query("DELETE FROM elections WHERE id = ANY($1)")
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(&unused)
            .execute(tx.conn())?;
        for id in &admin_tokens {
            tokens::revoke(tx, who, *id)?;
        }
        audit::record(
            tx,
            who,
            Change {
                action: "delete",
                entity_type: "region",
                entity_id: province,
                province_id: None,
                before: Some(serde_json::json!({"id": province, "reason": "demo --reset"})),
                after: None,
            },
        )
    })
    .map_err(|e| anyhow::anyhow!("removing the earlier demo province: {e}"))
}
