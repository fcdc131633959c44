//! Test databases on the local server: a migrated template named by a hash of the
//! migrations, templates derived from it once per test run for fixtures that many tests
//! share (the demo, the reports fixture), and one clone per test, dropped when it ends.
use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::app;
use super::eventually::eventually_blocking;

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A derived template older than this (15 minutes) belongs to a run that is over: the next
/// build drops it.
const STALE_AFTER_SECONDS: i64 = 900;

/// Connections of the server left to everyone else (psql, benchmarks, other services).
const HEADROOM: i64 = 20;
/// What one app holds beside its pool: this slot's connection, the test's own, spares.
const PER_APP_BESIDE_POOL: i64 = 4;
/// The advisory-lock class of the connection slots, shared by every run of this suite on
/// the server, whatever its worktree.
const SLOTS: i32 = 727_402;

/// The URL of database `db` on the test server (`TEST_DATABASE_SERVER` overrides it).
pub fn server_url(db: &str) -> String {
    let base = std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| SERVER.to_owned());
    // No TLS to the local server: libpq then never enters OpenSSL, whose exit-time cleanup
    // can race a pool thread still reconnecting to a dropped test database.
    format!("{base}/{db}?sslmode=disable")
}

/// A connection to the server's `postgres` database, for creating and dropping others.
pub fn admin() -> PgConnection {
    connect(&server_url("postgres"))
}

/// The Citus workers beside the server, when the suite runs on a cluster (SPEC §8):
/// `TEST_CITUS_WORKERS` lists their server URLs, comma-separated, and `TEST_DATABASE_SERVER`
/// is the coordinator. Citus does not create databases on the workers itself, so every
/// database of the suite is created, cloned, renamed and dropped on each node alike.
pub fn citus_workers() -> Vec<String> {
    std::env::var("TEST_CITUS_WORKERS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn on_citus() -> bool {
    !citus_workers().is_empty()
}

/// Runs `sql` in the `postgres` database of the server and of every Citus worker.
fn on_every_node(sql: &str) {
    execute(&mut admin(), sql);
    for worker in citus_workers() {
        execute(
            &mut connect(&format!("{worker}/postgres?sslmode=disable")),
            sql,
        );
    }
}

/// Turns the freshly created database `name` into a Citus database: the extension on every
/// node, the coordinator and the workers registered in it (Citus metadata is per database).
fn join_citus(name: &str) {
    for worker in citus_workers() {
        execute(
            &mut connect(&format!("{worker}/{name}?sslmode=disable")),
            "CREATE EXTENSION IF NOT EXISTS citus",
        );
    }
    let mut coordinator = connect(&server_url(name));
    execute(&mut coordinator, "CREATE EXTENSION IF NOT EXISTS citus");
    let base = std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| SERVER.to_owned());
    let (host, port) = host_port(&base);
    execute(
        &mut coordinator,
        &format!("SELECT citus_set_coordinator_host('{host}', {port})"),
    );
    for worker in citus_workers() {
        let (host, port) = host_port(&worker);
        execute(
            &mut coordinator,
            &format!("SELECT citus_add_node('{host}', {port})::text"),
        );
    }
}

/// Host and port of a `postgres://user@host:port` URL.
fn host_port(url: &str) -> (String, u16) {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    (
        parsed.host_str().unwrap_or("127.0.0.1").to_owned(),
        parsed.port().unwrap_or(5432),
    )
}

/// Closes database `name` to new connections and ends the ones it has, on every node, so
/// that it can be renamed and cloned (Citus keeps a maintenance daemon in each database).
fn close(name: &str) {
    on_every_node(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
    on_every_node(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}'"
    ));
}

/// A connection set up as the service's are (on Citus, one connection per node).
pub fn connect(url: &str) -> PgConnection {
    voter_meetings::db::connect(url).unwrap_or_else(|e| panic!("connect to {url}: {e:#}"))
}

fn execute(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `pg_dump` of the database at `url` with these options, as text. The server's major
/// version's pg_dump (PostgreSQL 15 here) when installed, else `$PG_DUMP`, else the one on
/// PATH.
pub fn pg_dump(url: &str, options: &[&str]) -> String {
    let versioned = "/usr/lib/postgresql/15/bin/pg_dump";
    let program = std::env::var("PG_DUMP").unwrap_or_else(|_| {
        if std::path::Path::new(versioned).exists() {
            versioned.to_owned()
        } else {
            "pg_dump".to_owned()
        }
    });
    let out = std::process::Command::new(program)
        .args(options)
        .args(["--dbname", url])
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a UTF-8 dump")
}

/// A session-level advisory lock on `name`: one process builds a template, the others wait.
struct BuildLock<'a>(&'a mut PgConnection, i64);

impl<'a> BuildLock<'a> {
    fn take(conn: &'a mut PgConnection, name: &str) -> Self {
        let digest = Sha256::digest(name.as_bytes());
        let key = i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        execute(conn, &format!("SELECT pg_advisory_lock({key})"));
        Self(conn, key)
    }
}

impl Drop for BuildLock<'_> {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({})", self.1)).execute(self.0);
    }
}

pub fn exists(conn: &mut PgConnection, name: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Found>(conn)
        .expect("pg_database")
        .n
        == 1
}

/// A hash of every migration's name (its version) and up and down script: a schema change, or
/// a migration renamed, makes new templates.
fn migrations_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut h = Sha256::new();
        let mut dirs: Vec<_> = std::fs::read_dir("migrations")
            .expect("migrations dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for d in dirs {
            h.update(d.to_string_lossy().as_bytes());
            for f in ["up.sql", "down.sql"] {
                h.update(std::fs::read(d.join(f)).unwrap_or_default());
            }
        }
        hex::encode(h.finalize())
    })
}

/// The migrated template every test database is cloned from; kept between runs.
pub fn base_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("vm_template_{}", &migrations_hash()[..16]);
        let mut admin = admin();
        let _lock = BuildLock::take(&mut admin, &name);
        if !exists(_lock.0, &name) {
            let building = format!("{name}_building");
            on_every_node(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"));
            on_every_node(&format!("CREATE DATABASE {building}"));
            if on_citus() {
                join_citus(&building);
            }
            app::migrate(&server_url(&building)).expect("migrate the template");
            if on_citus() {
                voter_meetings::db::citus::distribute(&server_url(&building))
                    .expect("distribute the template");
            }
            close(&building);
            on_every_node(&format!("ALTER DATABASE {building} RENAME TO {name}"));
        }
        name
    })
}

/// One test's database, dropped (whoever is still connected) when this is dropped, also
/// when the test panicked.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    keep: bool,
}

impl TestDatabase {
    /// A fresh copy of `template`.
    pub fn clone_of(template: &str) -> Self {
        let name = format!("vm_test_{}", Uuid::new_v4().simple());
        on_every_node(&format!("CREATE DATABASE {name} TEMPLATE {template}"));
        Self::named(name)
    }

    /// An empty database (no migration applied).
    pub fn empty() -> Self {
        let name = format!("vm_test_{}", Uuid::new_v4().simple());
        execute(&mut admin(), &format!("CREATE DATABASE {name}"));
        Self::named(name)
    }

    fn named(name: String) -> Self {
        let url = server_url(&name);
        Self {
            name,
            url,
            keep: false,
        }
    }

    pub fn conn(&self) -> PgConnection {
        connect(&self.url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let servers = std::iter::once(server_url("postgres")).chain(
            citus_workers()
                .into_iter()
                .map(|w| format!("{w}/postgres?sslmode=disable")),
        );
        for server in servers {
            let dropped = PgConnection::establish(&server).and_then(|mut admin| {
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut admin)
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
            });
            if let Err(e) = dropped {
                eprintln!("test database {} not dropped on {server}: {e}", self.name);
            }
        }
    }
}

/// A share of the server's connections for one app with a pool of `pool_size`: the slots
/// are advisory locks, as many as `max_connections` (less the reserved ones and some
/// headroom) can serve, so however many tests run at once, in however many processes and
/// runs, their apps never exhaust the server. Held until dropped.
pub struct ConnectionSlot {
    _held: PgConnection,
}

impl ConnectionSlot {
    pub fn take(pool_size: u32) -> Self {
        #[derive(QueryableByName)]
        struct Free {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = admin();
        let usable: Free = diesel::sql_query(
            "SELECT current_setting('max_connections')::bigint \
                    - current_setting('superuser_reserved_connections')::bigint AS n",
        )
        .get_result(&mut conn)
        .expect("max_connections");
        let per_app = i64::from(pool_size) + PER_APP_BESIDE_POOL;
        let slots = ((usable.n - HEADROOM) / per_app).max(1);
        // Tests hold a slot for seconds; a wait of minutes means slots are leaking.
        let taken = eventually_blocking(Duration::from_secs(300), || {
            for slot in 0..slots {
                #[derive(QueryableByName)]
                struct Taken {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    taken: bool,
                }
                let got: Taken =
                    diesel::sql_query("SELECT pg_try_advisory_lock($1, $2::int) AS taken")
                        .bind::<diesel::sql_types::Integer, _>(SLOTS)
                        .bind::<BigInt, _>(slot)
                        .get_result(&mut conn)
                        .expect("slot");
                if got.taken {
                    return Ok(());
                }
            }
            Err(slots)
        });
        if let Err(slots) = taken {
            panic!("no connection slot of {slots} came free");
        }
        Self { _held: conn }
    }
}

/// What a derived template's database comment holds.
#[derive(Serialize, serde::Deserialize)]
struct Stamp<T> {
    built_at: i64,
    facts: T,
}

fn epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// This run of the suite: nextest's run id, or this process for a plain `cargo test`.
fn run_key() -> String {
    match std::env::var("NEXTEST_RUN_ID") {
        Ok(id) => id.replace('-', "")[..12].to_owned(),
        Err(_) => format!("p{}", std::process::id()),
    }
}

#[derive(QueryableByName)]
struct Described {
    #[diesel(sql_type = Text)]
    datname: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

fn described(conn: &mut PgConnection, like: &str) -> Vec<Described> {
    diesel::sql_query(
        "SELECT datname::text AS datname, shobj_description(oid, 'pg_database') AS comment \
         FROM pg_database WHERE datname LIKE $1",
    )
    .bind::<Text, _>(like)
    .load(conn)
    .expect("pg_database")
}

/// A template for fixture `kind`, built once per test run from the base template by `build`
/// (which gets the database to fill and returns the facts the tests need about it, such as
/// ids and tokens), then shared by every test of the run that asks for it. Fixtures that
/// lay their times out relative to now stay right within a run; a template is never reused
/// by the next run, which drops it once it is a quarter of an hour old.
pub async fn derived_template<T, F, Fut>(kind: &str, build: F) -> (String, T)
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = T>,
{
    let prefix = format!("vm_template_{}_{kind}_", &migrations_hash()[..8]);
    let name = format!("{prefix}{}", run_key());
    let mut admin = admin();
    let lock = BuildLock::take(&mut admin, &name);
    if let Some(found) = described(lock.0, &name).pop() {
        let stamp: Stamp<T> = serde_json::from_str(found.comment.as_deref().unwrap_or_default())
            .unwrap_or_else(|e| panic!("template {name} has no facts: {e}"));
        return (name, stamp.facts);
    }
    for old in described(lock.0, &format!("{prefix}%")) {
        let built_at = old
            .comment
            .as_deref()
            .and_then(|c| serde_json::from_str::<Stamp<serde_json::Value>>(c).ok())
            .map_or(0, |s| s.built_at);
        if built_at < epoch() - STALE_AFTER_SECONDS {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {}", old.datname))
                .execute(lock.0);
            for worker in citus_workers() {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {}", old.datname))
                    .execute(&mut connect(&format!("{worker}/postgres?sslmode=disable")));
            }
        }
    }
    let mut building = TestDatabase::clone_of(base_template());
    let facts = build(building.url.clone()).await;
    // Whatever the build left connected (a pool reconnecting) must not block the clones.
    close(&building.name);
    on_every_node(&format!(
        "ALTER DATABASE {} RENAME TO {name}",
        building.name
    ));
    building.keep = true;
    let stamp = serde_json::to_string(&Stamp {
        built_at: epoch(),
        facts: &facts,
    })
    .expect("facts serialize");
    execute(
        lock.0,
        &format!(
            "COMMENT ON DATABASE {name} IS '{}'",
            stamp.replace('\'', "''")
        ),
    );
    (name, facts)
}
