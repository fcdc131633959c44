//! The database: pools, migrations, and one module of plain query functions per table group.
//! Functions here return [`DbError`], never an HTTP error: the use cases decide what a
//! missing row or a violated constraint means.
/// `lock` and `update` of a table partitioned by province, written once for each table that
/// has them: the province names the partition, so every lookup carries it.
macro_rules! province_rows {
    (
        $table:ident, $row:ty;
        $(#[$lock_doc:meta])* lock;
        $($(#[$update_doc:meta])* update($form:ty);)?
    ) => {
        $(#[$lock_doc])*
        pub fn lock(conn: &mut PgConnection, province_id: Uuid, id: Uuid) -> DbResult<Option<$row>> {
            Ok($table::table
                .filter($table::province_id.eq(province_id))
                .filter($table::id.eq(id))
                .select(<$row>::as_select())
                .for_update()
                .first(conn)
                .optional()?)
        }

        $(
            $(#[$update_doc])*
            pub fn update(
                conn: &mut PgConnection,
                province_id: Uuid,
                id: Uuid,
                changes: $form,
                at: DateTime<Utc>,
            ) -> DbResult<$row> {
                Ok(diesel::update(
                    $table::table
                        .filter($table::province_id.eq(province_id))
                        .filter($table::id.eq(id)),
                )
                .set((changes, $table::updated_at.eq(at)))
                .returning(<$row>::as_returning())
                .get_result(conn)?)
            }
        )?
    };
}

pub mod attendance;
pub mod audit;
mod cached;
pub mod calendars;
pub mod candidates;
pub mod citus;
pub mod elections;
mod error;
pub mod health_rules;
pub mod idempotency;
mod kinds;
pub mod mail;
pub mod meetings;
pub mod outbox;
pub mod pool;
pub mod regions;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod tokens;
pub mod units;
pub mod venues;

use anyhow::Context;
use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use self::cached::{cached, Id};
pub use self::error::{Constraint, DbError, DbResult, Violation};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A connection for work outside the pool (the CLI, tests), set up as the pool's are.
pub fn connect(database_url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(database_url).with_context(|| {
        format!(
            "cannot connect to {}",
            crate::config::redact_url(database_url)
        )
    })?;
    on_citus_one_connection_per_node(&mut conn)?;
    Ok(conn)
}

/// On a Citus coordinator or worker (SPEC §8), a transaction that read or wrote several
/// shards over several connections to one node may not then write a reference table (a
/// token, a fan-out): one connection per node keeps every transaction writable, and the
/// nodes still work in parallel. No-op on plain PostgreSQL, where the extension is absent.
/// True on Citus.
pub fn on_citus_one_connection_per_node(conn: &mut PgConnection) -> diesel::QueryResult<bool> {
    let set = diesel::sql_query(
        "SELECT set_config('citus.multi_shard_modify_mode', 'sequential', false),
                set_config('citus.max_adaptive_executor_pool_size', '1', false)
           FROM pg_extension WHERE extname = 'citus'",
    )
    .execute(conn)?;
    Ok(set > 0)
}

/// Creates the database named in `database_url` when it does not exist yet.
pub fn create_database_if_missing(database_url: &str) -> anyhow::Result<()> {
    if PgConnection::establish(database_url).is_ok() {
        return Ok(());
    }
    let mut url = url::Url::parse(database_url).context("DATABASE_URL is not a URL")?;
    let name = url.path().trim_start_matches('/').to_owned();
    anyhow::ensure!(!name.is_empty(), "DATABASE_URL names no database");
    url.set_path("/postgres");
    let mut admin = PgConnection::establish(url.as_str()).with_context(|| {
        format!(
            "cannot connect to {}",
            crate::config::redact_url(url.as_str())
        )
    })?;
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = {})",
        quote_literal(&name)
    )))
    .get_result(&mut admin)?;
    if !exists {
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&name))).execute(&mut admin)?;
        tracing::info!(database = %name, "created database");
    }
    Ok(())
}

/// Applies every pending migration; returns how many ran.
pub fn migrate(database_url: &str) -> anyhow::Result<usize> {
    let mut conn = PgConnection::establish(database_url).with_context(|| {
        format!(
            "cannot connect to {}",
            crate::config::redact_url(database_url)
        )
    })?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.len())
}

/// How many migrations the database at this connection has not applied yet.
pub fn pending_migrations(conn: &mut PgConnection) -> anyhow::Result<usize> {
    Ok(conn
        .pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading the applied migrations: {e}"))?
        .len())
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
