//! SPEC §8: the database on a Citus cluster. `voter-meetings citus distribute` runs
//! [`distribute`] on the coordinator after `migrate`: the small shared tables become reference
//! tables (a copy on every node), the tables of election data are sharded by `province_id` in
//! one co-location group, so that a province's rows of every table live on one node and a
//! transaction of one province runs there, and the check-in functions run on the node of the
//! province they are given. Idempotent: what is distributed already is left alone.
use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

/// Shared tables, small and read everywhere: a full copy on every node, so that any shard can
/// join them and point foreign keys at them. In the order of their own foreign keys.
pub const REFERENCE_TABLES: [&str; 7] = [
    "provinces",
    "elections",
    "api_tokens",
    "idempotency_keys",
    "console_sessions",
    "outbox_workers",
    "schedule_fan_outs",
];

/// Tables of election data, sharded by `province_id`, all co-located with `regions`, in the
/// order of their foreign keys (migration 000013 made every key `(province_id, …)`).
pub const DISTRIBUTED_TABLES: [&str; 14] = [
    "regions",
    "electoral_units",
    "candidates",
    "venues",
    "health_rules",
    "meetings",
    "meeting_units",
    "meeting_candidates",
    "meeting_sites",
    "attendance_reports",
    "outbox",
    "outbox_attempts",
    "calendar_links",
    "audit_log",
];

/// The check-in functions (rule 6, `domain::check_in`) and their province argument: Citus
/// runs a call on the worker that holds that province's shards, in one round trip.
const FUNCTIONS: [(&str, &str); 2] = [
    (
        "check_in_site(uuid, uuid, uuid, integer, uuid[], timestamptz)",
        "p_province",
    ),
    (
        "check_in_online(uuid, uuid, integer, uuid[], timestamptz)",
        "p_province",
    ),
];

/// Shards per distributed table: a few per worker for a province count in the tens, so
/// that provinces spread and a large one can later get a shard of its own.
const SHARD_COUNT: u32 = 32;

/// What [`distribute`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Distributed {
    pub reference_tables: Vec<String>,
    pub distributed_tables: Vec<String>,
    pub functions: Vec<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

fn count(conn: &mut PgConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// Tables of `wanted` that Citus knows already, with the kind it knows them as
/// (`pg_dist_partition.partmethod`: `h` hash-distributed, `n` reference).
fn known(conn: &mut PgConnection, method: &str) -> anyhow::Result<Vec<String>> {
    Ok(diesel::sql_query(
        "SELECT logicalrelid::regclass::text AS name FROM pg_dist_partition WHERE partmethod = $1",
    )
    .bind::<Text, _>(method)
    .load::<Name>(conn)?
    .into_iter()
    .map(|n| n.name)
    .collect())
}

/// Distributes the database at `database_url`, which must be a Citus coordinator with its
/// workers registered and every migration applied.
pub fn distribute(database_url: &str) -> anyhow::Result<Distributed> {
    let mut conn = super::connect(database_url)?;
    if count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_extension WHERE extname = 'citus'",
    )? == 0
    {
        bail!(
            "this database is plain PostgreSQL, not a Citus coordinator: there is nothing to \
             distribute (the service runs on it as it is; see docs/scaling.md)"
        );
    }
    let pending = super::pending_migrations(&mut conn)?;
    if pending > 0 {
        bail!("{pending} migration(s) are not applied yet: run `voter-meetings migrate` first");
    }
    let workers = count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0",
    )?;
    if workers == 0 {
        bail!(
            "no worker is registered with this coordinator (citus_add_node): nothing to shard onto"
        );
    }
    let mut done = Distributed::default();
    let references = known(&mut conn, "n")?;
    let sharded = known(&mut conn, "h")?;
    let references_missing: Vec<&str> = REFERENCE_TABLES
        .into_iter()
        .filter(|t| !references.iter().any(|r| r == t))
        .collect();
    let shards_missing: Vec<&str> = DISTRIBUTED_TABLES
        .into_iter()
        .filter(|t| !sharded.iter().any(|s| s == t))
        .collect();
    conn.transaction(|conn| -> anyhow::Result<()> {
        // Citus may not open a connection per shard after DDL in one transaction.
        conn.batch_execute(&format!(
            "SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
             SET LOCAL citus.shard_count TO {SHARD_COUNT};"
        ))?;
        for table in &references_missing {
            diesel::sql_query("SELECT create_reference_table($1::regclass)::text")
                .bind::<Text, _>(*table)
                .execute(conn)
                .with_context(|| format!("create_reference_table({table})"))?;
            done.reference_tables.push((*table).to_owned());
        }
        if shards_missing.is_empty() {
            return Ok(());
        }
        // Tables linked by foreign keys cannot be distributed one at a time (a local table
        // may not point at a distributed one, nor the reverse): the keys inside the group go,
        // the group is distributed, the keys come back as they were.
        let group = DISTRIBUTED_TABLES.map(String::from).to_vec();
        let keys: Vec<ForeignKey> = diesel::sql_query(
            "SELECT c.conrelid::regclass::text AS table, c.conname::text AS name,
                    pg_get_constraintdef(c.oid) AS definition
               FROM pg_constraint c
              WHERE c.contype = 'f'
                AND c.conrelid::regclass::text = ANY($1)
                AND c.confrelid::regclass::text = ANY($1)
              ORDER BY c.conname",
        )
        .bind::<diesel::sql_types::Array<Text>, _>(&group)
        .load(conn)?;
        for k in &keys {
            conn.batch_execute(&format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                k.table, k.name
            ))?;
        }
        for table in &shards_missing {
            let colocate = if *table == "regions" {
                "default"
            } else {
                "regions"
            };
            diesel::sql_query(
                "SELECT create_distributed_table($1::regclass, 'province_id', colocate_with => $2)::text",
            )
            .bind::<Text, _>(*table)
            .bind::<Text, _>(colocate)
            .execute(conn)
            .with_context(|| format!("create_distributed_table({table})"))?;
            done.distributed_tables.push((*table).to_owned());
        }
        for k in &keys {
            conn.batch_execute(&format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {}",
                k.table, k.name, k.definition
            ))
            .with_context(|| format!("restoring {} on {}", k.name, k.table))?;
        }
        Ok(())
    })?;
    for (function, argument) in FUNCTIONS {
        let delegated = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM pg_dist_object
                  WHERE objid = '{function}'::regprocedure AND distribution_argument_index IS NOT NULL"
            ),
        )?;
        if delegated == 0 {
            diesel::sql_query(
                "SELECT create_distributed_function($1::regprocedure, $2, colocate_with => 'regions')::text",
            )
            .bind::<Text, _>(function)
            .bind::<Text, _>(argument)
            .execute(&mut conn)
            .with_context(|| format!("create_distributed_function({function})"))?;
            done.functions.push(function.to_owned());
        }
    }
    Ok(done)
}
