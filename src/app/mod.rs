//! The use cases: one function per change a user can ask for (plan a meeting, check in, file
//! a report, change a rule, withdraw a candidate, import rows …). Each takes the caller and
//! the request, and does scope, locks, rules, database, audit and outbox in the transaction it
//! is given. The HTTP API, the console, the CLI and the demo all call these; none repeats them.
pub mod attendance;
pub mod audit;
pub mod candidates;
pub mod clock;
pub mod elections;
pub mod health_rules;
pub mod imports;
pub mod meetings;
pub mod outbox;
pub mod reevaluation;
pub mod regions;
pub mod reports;
pub mod schedules;
pub mod sessions;
pub mod tokens;
pub mod units;
pub mod venues;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::PgConnection;

pub use self::clock::Clock;
use crate::config::Settings;
use crate::db::pool::{self, Lost, PgPool};
use crate::db::DbError;
use crate::domain::problem::{Code, Problem};

/// What a use case can fail with: a problem the client is told, or a database failure the
/// HTTP edge turns into a 503 or a logged 500.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Problem(#[from] Problem),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(e.into())
    }
}

impl Lost for Error {
    fn connection_lost(&self) -> bool {
        matches!(self, Error::Db(e) if e.is_connection_lost())
    }
}

impl Error {
    /// A bug or an impossible state: logged, answered as a 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Db(DbError::Other(anyhow::anyhow!("{cause}")))
    }

    /// The problem code a client sees, when it is a problem.
    pub fn code(&self) -> Option<Code> {
        match self {
            Error::Problem(p) => Some(p.code),
            Error::Db(_) => None,
        }
    }
}

/// What every use case may consult besides the database: settings and the clock.
pub struct Env {
    pub settings: Settings,
    pub clock: Clock,
}

/// A connection with the environment, handed to use cases. Through [`Ctx::tx`] it is one
/// transaction; through [`Ctx::read`] and [`Ctx::report`] it runs statements as they come.
pub struct Tx<'a> {
    conn: &'a mut PgConnection,
    env: &'a Env,
}

impl Tx<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }

    pub fn settings(&self) -> &Settings {
        &self.env.settings
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn
    }

    /// Runs `work` in a savepoint: on failure only its own changes are undone, and the
    /// transaction goes on (an import collecting every bad row).
    pub fn savepoint<T>(&mut self, work: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        use diesel::Connection;
        let env = self.env;
        self.conn.transaction(|conn| work(&mut Tx { conn, env }))
    }
}

impl Deref for Tx<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
    }
}

/// The pools: `main` for changes and short reads, `reports` for long reads (roll-ups, big
/// pages, exports), so a flood of reports never takes the connections check-ins need.
#[derive(Clone)]
pub struct Pools {
    pub main: PgPool,
    pub reports: PgPool,
}

/// Pages of more rows than this are long reads (see [`Ctx::page`]).
pub const BIG_PAGE: i64 = 100;

/// How long a long read waits for its turn before it is answered 503 (as the pools wait).
const LONG_READ_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Everything a use case runs with; one per process, shared by every request.
#[derive(Clone)]
pub struct Ctx {
    pub pools: Pools,
    pub env: Arc<Env>,
    /// One permit per connection of the reports pool: long reads wait for their turn here,
    /// asynchronously, instead of each holding a blocking thread (and its memory) while it
    /// waits for a connection, so a flood of them never takes the threads check-ins need.
    long_reads: Arc<tokio::sync::Semaphore>,
}

impl Ctx {
    pub fn new(pools: Pools, settings: Settings, clock: Clock) -> Self {
        let permits = usize::try_from(settings.database_reports_pool_size).unwrap_or(1);
        Ctx {
            pools,
            env: Arc::new(Env { settings, clock }),
            long_reads: Arc::new(tokio::sync::Semaphore::new(permits.max(1))),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.env.settings
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }

    /// Runs `work` in one transaction on the main pool.
    pub async fn tx<T, F>(&self, mut work: F) -> Result<T>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let env = self.env.clone();
        pool::tx(&self.pools.main, move |conn| {
            work(&mut Tx { conn, env: &env })
        })
        .await
    }

    /// Runs `work` in one transaction that is then rolled back: a dry run.
    pub async fn dry_run<T, F>(&self, mut work: F) -> Result<T>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let env = self.env.clone();
        pool::rolled_back(&self.pools.main, move |conn| {
            work(&mut Tx { conn, env: &env })
        })
        .await
    }

    /// Runs `work` outside a transaction on the main pool (short reads).
    pub async fn read<T, F>(&self, mut work: F) -> Result<T>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let env = self.env.clone();
        pool::run(&self.pools.main, move |conn| {
            work(&mut Tx { conn, env: &env })
        })
        .await
    }

    /// A page of a list: more than [`BIG_PAGE`] rows is a long read, on the reports pool, so
    /// that many big pages at once queue for those few connections (and the memory their
    /// answers take) instead of taking the connections check-ins and plans need.
    pub async fn page<T, F>(&self, limit: i64, work: F) -> Result<T>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if limit > BIG_PAGE {
            self.report(work).await
        } else {
            self.read(work).await
        }
    }

    /// Runs a long read on the reports pool, once one of its turns is free.
    pub async fn report<T, F>(&self, mut work: F) -> Result<T>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let busy = || {
            Error::Db(DbError::Unavailable(
                "every connection for long reads is busy".to_owned(),
            ))
        };
        let _turn = tokio::time::timeout(LONG_READ_WAIT, self.long_reads.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let env = self.env.clone();
        pool::run(&self.pools.reports, move |conn| {
            work(&mut Tx { conn, env: &env })
        })
        .await
    }

    /// Runs `work` in one transaction on a connection the caller holds, then rolls it back:
    /// a dry run from the command line.
    pub fn dry_run_on<T>(
        &self,
        conn: &mut PgConnection,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        use diesel::Connection;
        let env = self.env.clone();
        let mut outcome = None;
        // The transaction always ends in an error, so it is always rolled back.
        let _rolled_back: Result<()> = conn.transaction(|conn| {
            outcome = Some(work(&mut Tx { conn, env: &env }));
            Err(Error::internal("dry run"))
        });
        outcome.unwrap_or_else(|| Err(Error::internal("the dry run did not run")))
    }

    /// Runs `work` in one transaction on a connection the caller holds (the CLI, the demo,
    /// imports that put many use cases in one transaction).
    pub fn tx_on<T>(
        &self,
        conn: &mut PgConnection,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        use diesel::Connection;
        let env = self.env.clone();
        conn.transaction(|conn| work(&mut Tx { conn, env: &env }))
    }
}

/// For fields that may be cleared: `Some(None)` when the client sent `null`, `None` when it
/// left the field out (use with `#[serde(default, deserialize_with = "nullable")]`).
pub fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
