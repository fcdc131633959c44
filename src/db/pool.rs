//! Connection pools and the two ways to use a connection: [`run`] (autocommit) and [`tx`]
//! (one transaction), both off the async runtime. A pooled connection that died (a server
//! restart, a failover, an idle-connection killer) fails the work before anything could
//! commit, so the work is run again on a fresh connection instead of failing the request.
use std::time::{Duration, Instant};

use diesel::connection::TransactionManager;
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, RunQueryDsl};

use super::error::DbError;

pub type PgPool = Pool<Manager>;

/// A pooled connection that remembers whether it lost its server.
pub struct Conn {
    pub(crate) pg: PgConnection,
    lost: bool,
    /// How a transaction begins on this connection's server.
    begin: &'static str,
}

/// Opens connections for a pool, each with the statement time limit set. Connections are not
/// pinged at checkout (that would cost each request a round trip); a connection whose work
/// found the server gone is marked lost and the pool drops it.
pub struct Manager {
    database_url: String,
    statement_timeout_ms: u64,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        let mut pg = PgConnection::establish(&self.database_url)
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        diesel::sql_query(format!(
            "SET statement_timeout = {}",
            self.statement_timeout_ms
        ))
        .execute(&mut pg)
        .map_err(diesel::r2d2::Error::QueryError)?;
        let citus = super::on_citus_one_connection_per_node(&mut pg)
            .map_err(diesel::r2d2::Error::QueryError)?;
        let begin = if citus { BEGIN_CITUS } else { BEGIN };
        Ok(Conn {
            pg,
            lost: false,
            begin,
        })
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

/// How a pool is sized and how long a request waits for one of its connections.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub size: u32,
    /// Connections kept open while idle, opened in the background from the start. A one-shot
    /// command keeps none: a background connect still running when the process exits
    /// crashes it inside libpq.
    pub min_idle: u32,
    pub wait: Duration,
    pub statement_timeout_ms: u64,
}

/// Builds a pool; connections are opened lazily, so this succeeds while the database is down.
pub fn pool(database_url: &str, settings: &PoolSettings) -> PgPool {
    Pool::builder()
        .max_size(settings.size)
        .min_idle(Some(settings.min_idle))
        .test_on_check_out(false)
        .connection_timeout(settings.wait)
        .build_unchecked(Manager {
            database_url: database_url.to_owned(),
            statement_timeout_ms: settings.statement_timeout_ms,
        })
}

/// An error that can say whether the work failed because its connection was lost before
/// anything committed (so the work may run again on another connection).
pub trait Lost: From<DbError> {
    fn connection_lost(&self) -> bool;
}

impl Lost for DbError {
    fn connection_lost(&self) -> bool {
        self.is_connection_lost()
    }
}

/// Runs `work` on a pooled connection, on the blocking thread pool, again on a fresh
/// connection when the one it had turned out dead (each dead one is dropped).
pub async fn run<T, E, F>(pool: &PgPool, work: F) -> Result<T, E>
where
    F: FnMut(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Lost + Send + 'static,
{
    on_connection(pool, work, Mode::Autocommit).await
}

/// Like [`run`], inside one transaction: everything or nothing. A connection lost while
/// committing is not retried: the outcome is then unknown to the service.
pub async fn tx<T, E, F>(pool: &PgPool, work: F) -> Result<T, E>
where
    F: FnMut(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Lost + Send + 'static,
{
    on_connection(pool, work, Mode::Transaction).await
}

/// Like [`tx`], but always rolled back: what the work would do, with nothing kept (a dry run).
pub async fn rolled_back<T, E, F>(pool: &PgPool, work: F) -> Result<T, E>
where
    F: FnMut(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Lost + Send + 'static,
{
    on_connection(pool, work, Mode::RolledBack).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Autocommit,
    Transaction,
    RolledBack,
}

async fn on_connection<T, E, F>(pool: &PgPool, mut work: F, mode: Mode) -> Result<T, E>
where
    F: FnMut(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Lost + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut tries = 0;
        loop {
            let mut conn = pool.get().map_err(DbError::from)?;
            let begin = conn.begin;
            let outcome = match mode {
                Mode::Autocommit => Attempt::Done(work(&mut conn.pg)),
                Mode::Transaction => in_transaction(&mut conn.pg, begin, &mut work, true),
                Mode::RolledBack => in_transaction(&mut conn.pg, begin, &mut work, false),
            };
            match outcome {
                Attempt::Done(Err(e)) if e.connection_lost() => {
                    conn.lost = true;
                    tries += 1;
                    // Every pooled connection may have died at once (a restart): try each,
                    // then one fresh, within the pool's own wait.
                    if tries > pool.max_size() || started.elapsed() > pool.connection_timeout() {
                        return Err(e);
                    }
                    tracing::info!(
                        tries,
                        "database connection was dead; running the work on another"
                    );
                }
                Attempt::Done(result) => return result,
                Attempt::CommitLost(e) => {
                    conn.lost = true;
                    return Err(e);
                }
            }
        }
    })
    .await
    .map_err(|e| DbError::Other(anyhow::anyhow!("database task failed: {e}")))?
}

enum Attempt<T, E> {
    Done(Result<T, E>),
    /// The connection went away while committing: nothing is known, nothing is retried.
    CommitLost(E),
}

type Manage = <PgConnection as Connection>::TransactionManager;

/// Opens a transaction whose prepared statements run on generic plans. A use case looks rows
/// up by key, where the generic plan is the custom one; PostgreSQL would otherwise plan a
/// statement taking an array (`= ANY($1)`) afresh on every call, which cost a creation more
/// server time than its inserts (docs/benchmarks.md).
const BEGIN: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

/// Citus plans no generic statement that leaves the shard to a parameter ("could not create
/// distributed plan"): there, PostgreSQL's own choice stays.
const BEGIN_CITUS: &str = "BEGIN";

fn in_transaction<T, E, F>(
    conn: &mut PgConnection,
    begin: &str,
    work: &mut F,
    commit: bool,
) -> Attempt<T, E>
where
    F: FnMut(&mut PgConnection) -> Result<T, E>,
    E: Lost,
{
    if let Err(e) = Manage::begin_transaction_sql(conn, begin) {
        return Attempt::Done(Err(E::from(e.into())));
    }
    match work(conn) {
        Ok(value) if !commit => match Manage::rollback_transaction(conn) {
            Ok(()) => Attempt::Done(Ok(value)),
            Err(e) => Attempt::Done(Err(E::from(e.into()))),
        },
        Ok(value) => match Manage::commit_transaction(conn) {
            Ok(()) => Attempt::Done(Ok(value)),
            Err(e) => {
                let e = DbError::from(e);
                if e.is_connection_lost() {
                    Attempt::CommitLost(E::from(e))
                } else {
                    let _ = Manage::rollback_transaction(conn);
                    Attempt::Done(Err(E::from(e)))
                }
            }
        },
        Err(e) => {
            // A failed rollback leaves the connection broken; r2d2 then drops it.
            let _ = Manage::rollback_transaction(conn);
            Attempt::Done(Err(e))
        }
    }
}
