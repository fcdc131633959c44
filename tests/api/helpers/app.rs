//! Every path into the crate that the tests use, and nothing else: when `src/` moves, this is
//! the one file of the suite that changes. Test files reach the crate only through here.
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::anyhow;
use diesel::PgConnection;
use uuid::Uuid;

pub use voter_meetings::auth::Role;
pub use voter_meetings::config::Settings;
pub use voter_meetings::db::MIGRATIONS;

use voter_meetings::demo::{self, DemoOptions};
use voter_meetings::email::{outbox, worker};
use voter_meetings::startup::Application;

/// The settings of `config/test.toml` over the defaults, as the suite's apps start from.
pub fn test_settings() -> Settings {
    Settings::load_from("config", Some("test")).expect("config/test.toml loads")
}

/// The built-in defaults alone (no file of `config/` read).
pub fn default_settings() -> Settings {
    load_settings("/nonexistent", None).expect("the built-in defaults load")
}

/// Settings from the files of `dir` (and the environment), as the binary loads them.
pub fn load_settings(dir: &str, app_env: Option<&str>) -> anyhow::Result<Settings> {
    Ok(Settings::load_from(dir, app_env)?)
}

/// The outbox worker's delay before the try after the `attempt`-th failed one.
pub fn retry_delay(attempt: i32, settings: &Settings, jitter: f64) -> std::time::Duration {
    worker::retry_delay(
        attempt,
        settings.outbox.backoff_base_seconds,
        settings.outbox.backoff_max_seconds,
        jitter,
    )
}

/// Applies every pending migration; returns how many ran.
pub fn migrate(database_url: &str) -> anyhow::Result<usize> {
    voter_meetings::db::migrate(database_url)
}

/// A token made directly in the database, as `voter-meetings token create` does:
/// `(id, plaintext)`.
pub fn create_token(
    conn: &mut PgConnection,
    name: &str,
    role: Role,
    region: Option<Uuid>,
) -> (Uuid, String) {
    voter_meetings::auth::create_token(conn, name, role, region)
        .unwrap_or_else(|e| panic!("token {name:?}: {e}"))
}

/// Queues the change notices of these meetings, as the meeting endpoints do.
pub fn enqueue_meeting_changes(conn: &mut PgConnection, meetings: &[Uuid]) -> usize {
    outbox::enqueue_meeting_changes(conn, meetings).unwrap_or_else(|e| panic!("queued: {e}"))
}

/// Queues the committee notices of rule 8, with the problem lines given.
pub fn enqueue_attention(
    conn: &mut PgConnection,
    reference: Option<&str>,
    meetings: &[Uuid],
    problems: &[(Uuid, String)],
) -> usize {
    outbox::enqueue_attention(conn, reference, meetings, problems)
        .unwrap_or_else(|e| panic!("queued: {e}"))
}

/// Claims up to `limit` due emails for `lease_seconds`, as one worker does; the claimed ids.
pub fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    lease_seconds: f64,
) -> diesel::QueryResult<Vec<Uuid>> {
    Ok(outbox::claim_due(conn, limit, lease_seconds)?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// What a demo load created and printed, as the tests use it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DemoFacts {
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub candidates: usize,
    pub venues: usize,
    pub needs_attention: usize,
    pub admin: String,
    pub organizer: String,
    pub observer: String,
    /// The figures the demo printed, by report field name.
    pub printed: Vec<(String, i64)>,
}

/// Loads the demo with `meetings` meetings through the crate's loader.
pub fn load_demo(conn: &mut PgConnection, meetings: u32) -> anyhow::Result<DemoFacts> {
    let s = demo::load(
        conn,
        DemoOptions {
            meetings,
            ..DemoOptions::default()
        },
    )?;
    let f = &s.figures;
    Ok(DemoFacts {
        province_id: s.province_id,
        election_id: s.election.id,
        candidates: s.candidates,
        venues: s.venues,
        needs_attention: s.needs_attention,
        admin: s.tokens.admin.clone(),
        organizer: s.tokens.organizer.clone(),
        observer: s.tokens.observer.clone(),
        printed: [
            ("meetings", f.meetings),
            ("in_person", f.in_person),
            ("online", f.online),
            ("cancelled", f.cancelled),
            ("attendees", f.attendees),
            ("reports_filed", f.reports_filed),
            ("reports_late", f.reports_late),
            ("reports_overdue", f.reports_overdue),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec(),
    })
}

/// One instance of the service, serving on its own thread (its own actix system), so the
/// test's runtime never carries it and a test's teardown can wait for its outbox worker.
pub struct Server {
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Builds the application from `settings` (its listener bound before this returns, so the
    /// port is taken and kept) with a pool of `settings.database_pool_size`, and serves.
    pub fn start(settings: Settings) -> Self {
        let (ready, port) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let pool =
                    voter_meetings::db::pool(&settings.database_url, settings.database_pool_size);
                let app = match Application::build(settings, pool) {
                    Ok(app) => app,
                    Err(e) => {
                        let _ = ready.send(Err(anyhow!("{e:#}")));
                        return;
                    }
                };
                let _ = ready.send(Ok(app.port()));
                tokio::select! {
                    _ = app.run_until_stopped() => {}
                    _ = stopped => {}
                }
            });
        });
        let port = port
            .recv()
            .map_err(|_| anyhow!("the server thread ended before it started"))
            .and_then(|p| p)
            .unwrap_or_else(|e| panic!("the application does not start: {e:#}"));
        Self {
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops serving and delivering: the server and its worker are dropped (in-flight
    /// requests and sends are cut), and their database connections closed.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
