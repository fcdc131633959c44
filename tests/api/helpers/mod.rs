//! The harness: `spawn_app()` starts the service on port 0 with its own database (cloned
//! from a migrated template) and its outbox worker, on a thread of its own. When the test
//! ends the app is stopped and its database dropped, also after a panic; a test that left
//! an email pending, and did not say it expected to, fails.
//!
//! - `app` — the only door into the crate (`voter_meetings::…`)
//! - `database` — templates and per-test databases
//! - `client` — HTTP requests and [`Answer`]
//! - `fixtures` — the reference data tests build on
//! - `mail` — mail kept in memory, and an SMTP sink and outage
//! - `eventually` — waiting for background work
pub mod app;
pub mod client;
pub mod database;
pub mod eventually;
pub mod fixtures;
pub mod mail;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use uuid::Uuid;

use app::Inbox;
pub use app::{Role, Settings};
pub use client::{uuid_of, Answer};
pub use database::{ConnectionSlot, TestDatabase};
pub use eventually::eventually;
pub use fixtures::{from_now, Tree};
pub use mail::MemoryMail;

pub struct TestApp {
    pub address: String,
    pub db_name: String,
    pub database_url: String,
    /// An admin token made in the database, as `voter-meetings token create` does.
    pub admin: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    servers: Mutex<Vec<app::Server>>,
    /// The server connections its instances may use; released after they stopped.
    slots: Mutex<Vec<ConnectionSlot>>,
    pending_mail_expected: AtomicBool,
    /// The database this app owns and drops (none while it builds a template).
    database: Option<TestDatabase>,
    /// Where its workers hand email when it keeps mail in memory.
    memory: Option<Inbox>,
}

/// The test settings: `config/test.toml`, a port the OS picks, `.eml` files instead of SMTP.
pub fn test_settings() -> Settings {
    let mut settings = app::test_settings();
    settings.listen_addr = "127.0.0.1:0".to_owned();
    settings.smtp_url = None;
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::on(TestDatabase::clone_of(database::base_template()), configure)
}

/// An app whose outbox worker, and those of the instances started beside it, hand every
/// email to `mail` instead of SMTP or files.
pub async fn spawn_app_mailing(
    mail: &MemoryMail,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let database = TestDatabase::clone_of(database::base_template());
    let (name, url) = (database.name.clone(), database.url.clone());
    TestApp::serve(name, url, Some(database), Some(mail.inbox()), configure)
}

impl TestApp {
    /// Serves `database` (a clone of a fixture's template), dropped when the app is.
    pub fn on(database: TestDatabase, configure: impl FnOnce(&mut Settings)) -> Self {
        let (name, url) = (database.name.clone(), database.url.clone());
        Self::serve(name, url, Some(database), None, configure)
    }

    /// The service's own log on stderr, filtered by `TEST_LOG` (e.g. `TEST_LOG=warn`), for
    /// reading what a failing test's server did; silent without it.
    fn log_if_asked() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if let Ok(filter) = std::env::var("TEST_LOG") {
                let _ = tracing_subscriber::fmt()
                    .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                    .with_test_writer()
                    .try_init();
            }
        });
    }

    /// Serves a database someone else owns and keeps (a template being built).
    pub fn borrowing(database_url: &str) -> Self {
        let name = database_url.rsplit('/').next().unwrap_or_default();
        let name = name.split('?').next().unwrap_or_default().to_owned();
        Self::serve(name, database_url.to_owned(), None, None, |_| {})
    }

    fn serve(
        db_name: String,
        database_url: String,
        database: Option<TestDatabase>,
        memory: Option<Inbox>,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        Self::log_if_asked();
        let mut settings = test_settings();
        settings.database_url = database_url.clone().into();
        settings.mail_dir = std::env::temp_dir().join(format!("vm-mail-{}", Uuid::new_v4()));
        configure(&mut settings);
        let slot = ConnectionSlot::take(settings.database_pool_size);
        let mut conn = database::connect(&database_url);
        let (_, admin) = app::create_token(&mut conn, "test admin", Role::Admin, None);
        let server = app::Server::start(settings.clone(), memory.clone());
        TestApp {
            address: format!("http://127.0.0.1:{}", server.port),
            db_name,
            database_url,
            admin,
            // Idle connections go before the server's keep-alive (5 s) closes them: a
            // request never rides a connection the server is hanging up.
            client: reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(2))
                .build()
                .expect("an HTTP client"),
            settings,
            servers: Mutex::new(vec![server]),
            slots: Mutex::new(vec![slot]),
            pending_mail_expected: AtomicBool::new(false),
            database,
            memory,
        }
    }

    /// Another instance of the service on the same database (its own pool and outbox
    /// worker), with these settings over this app's; stopped with this app.
    pub fn start_instance(&self, configure: impl FnOnce(&mut Settings)) -> String {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let slot = ConnectionSlot::take(settings.database_pool_size);
        let server = app::Server::start(settings, self.memory.clone());
        let address = format!("http://127.0.0.1:{}", server.port);
        self.servers.lock().expect("servers").push(server);
        self.slots.lock().expect("slots").push(slot);
        address
    }

    /// Stops every instance of the app (serving and delivering) now; teardown does it too.
    pub fn stop(&self) {
        for mut server in self.servers.lock().expect("servers").drain(..) {
            server.stop();
        }
    }

    fn running(&self) -> bool {
        !self.servers.lock().expect("servers").is_empty()
    }

    pub fn conn(&self) -> PgConnection {
        database::connect(&self.database_url)
    }

    /// A token made directly in the database, like `voter-meetings token create`.
    pub fn token(&self, role: Role, region: Option<Uuid>) -> String {
        app::create_token(&mut self.conn(), "test token", role, region).1
    }

    /// This test leaves email pending on purpose (its SMTP server never comes back):
    /// teardown does not fail because of it.
    pub fn expect_pending_mail(&self) {
        self.pending_mail_expected.store(true, Ordering::SeqCst);
    }

    /// The emails still pending in the outbox.
    fn pending_mail(&self) -> Vec<Pending> {
        diesel::sql_query(
            "SELECT format('%s (%s to %s): %s attempt(s), last error %s', \
                           id, kind, recipient, attempts, coalesce(last_error, '-')) AS line, \
                    attempts > 0 AS tried \
             FROM outbox WHERE status = 'pending' ORDER BY id",
        )
        .load(&mut self.conn())
        .expect("pending outbox rows")
    }

    /// Waits until the outbox worker has delivered (or given up on) every email.
    pub async fn outbox_drained(&self) {
        eventually("the outbox has no pending email", || async {
            let pending: Vec<String> = self.pending_mail().into_iter().map(|p| p.line).collect();
            if pending.is_empty() {
                Ok(())
            } else {
                Err(pending)
            }
        })
        .await;
    }
}

/// An email still pending, described for a failure message.
#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = Text)]
    line: String,
    /// Its delivery was tried at least once (and failed).
    #[diesel(sql_type = Bool)]
    tried: bool,
}

/// Teardown: the outbox worker gets the time to try every email the test queued; then the
/// app stops and its database and mail directory go, whatever happened; and only then does
/// a test that left email pending (refused, or never tried) fail, unless it said it would.
impl Drop for TestApp {
    fn drop(&mut self) {
        let check = !std::thread::panicking() && !self.pending_mail_expected.load(Ordering::SeqCst);
        let left = if !check {
            Vec::new()
        } else if self.running() {
            let tried = eventually::eventually_blocking(eventually::DEADLINE, || {
                let pending = self.pending_mail();
                if pending.iter().all(|p| p.tried) {
                    Ok(pending)
                } else {
                    Err(pending)
                }
            });
            match tried {
                Ok(left) | Err(left) => left,
            }
        } else {
            self.pending_mail()
        };
        self.stop();
        self.slots.lock().expect("slots").clear();
        self.database.take();
        let _ = std::fs::remove_dir_all(&self.settings.mail_dir);
        if !left.is_empty() {
            let lines: Vec<String> = left.into_iter().map(|p| p.line).collect();
            panic!(
                "the test left {} email(s) pending in the outbox (app.expect_pending_mail() if it \
                 means to): {lines:#?}",
                lines.len()
            );
        }
    }
}
