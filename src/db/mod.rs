//! The database: connection pool, migrations, and one module of plain query functions per table group.
pub mod schema;

use anyhow::Context;
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<Manager>;

/// A pooled connection that remembers whether it lost its server.
pub struct Conn {
    pg: PgConnection,
    lost: bool,
}

/// Opens connections for the pool. Connections are not pinged at every checkout (that
/// would cost each request a round trip); instead a connection whose query found the
/// server gone is marked lost and the pool drops it, so after a database restart each
/// stale connection fails one request (as `503 unavailable`, safe to retry) and is replaced.
pub struct Manager {
    database_url: String,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        PgConnection::establish(&self.database_url)
            .map(|pg| Conn { pg, lost: false })
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        diesel::sql_query("SELECT 1")
            .execute(&mut conn.pg)
            .map(|_| ())
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.lost || std::thread::panicking() || R2D2Connection::is_broken(&mut conn.pg)
    }
}

/// Builds the pool; connections are opened lazily, so this succeeds while the database is down.
pub fn pool(database_url: &str, size: u32) -> PgPool {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .test_on_check_out(false)
        .connection_timeout(std::time::Duration::from_secs(5))
        .build_unchecked(Manager {
            database_url: database_url.to_owned(),
        })
}

/// Runs blocking database work on actix's blocking thread pool, never on a worker thread.
pub async fn run<T, F>(pool: &PgPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        let outcome = work(&mut conn.pg);
        if matches!(&outcome, Err(e) if e.code() == crate::error::CONNECTION_LOST) {
            conn.lost = true;
        }
        outcome
    })
    .await
    .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// Like [`run`], inside one transaction: everything or nothing.
pub async fn tx<T, F>(pool: &PgPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| conn.transaction(work)).await
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

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
pub mod attendance;
pub mod elections;
pub mod health_rules;
pub mod meetings;
pub mod regions;
pub mod reports;
pub mod venues;
