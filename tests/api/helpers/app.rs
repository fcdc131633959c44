//! Every path into the crate that the tests use, and nothing else: when `src/` moves, this is
//! the one file of the suite that changes. Test files reach the crate only through here.
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::anyhow;
use diesel::PgConnection;
use secrecy::ExposeSecret;
use uuid::Uuid;

pub use voter_meetings::config::Settings;
pub use voter_meetings::db::{Constraint, DbError, Violation, MIGRATIONS};
pub use voter_meetings::domain::kinds::Role;
pub use voter_meetings::domain::problem::Code;
pub use voter_meetings::email::transport::Inbox;

use voter_meetings::app::{tokens, Clock, Ctx};
use voter_meetings::db::outbox;
use voter_meetings::db::pool::{self, PoolSettings};
use voter_meetings::domain::scope::Caller;
use voter_meetings::email::transport::Mailer;
use voter_meetings::email::{delivery, notices, worker};
use voter_meetings::startup::{self, Application};

use super::database::ConnectionSlot;

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
    let settings = test_settings();
    let ctx = Ctx::new(startup::pools(&settings), settings, Clock::system());
    let new = tokens::NewToken {
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        region_id: region,
    };
    let issued = ctx
        .tx_on(conn, |tx| tokens::create(tx, &Caller::system("test"), new))
        .unwrap_or_else(|e| panic!("token {name:?}: {e}"));
    (issued.record.id, issued.token)
}

/// Queues the change notices of these new meetings as one request creating them all would,
/// with the sender of `settings`.
pub fn enqueue_new_meetings(
    conn: &mut PgConnection,
    settings: &Settings,
    meetings: &[Uuid],
) -> Result<usize, DbError> {
    let ctx = notices::Context::new(settings, chrono::Utc::now());
    let events: Vec<(Uuid, notices::MeetingEvent)> = meetings
        .iter()
        .map(|m| (*m, notices::MeetingEvent::Created))
        .collect();
    notices::meeting_changes(conn, &ctx, &events)
}

/// Claims up to `limit` due emails for `lease_seconds` as worker `worker_id` does; the
/// claimed ids.
pub fn claim_due(
    conn: &mut PgConnection,
    worker_id: Uuid,
    limit: i64,
    lease_seconds: f64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(outbox::claim_due(conn, worker_id, limit, lease_seconds)?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// Claims one due email and builds its message once, as the outbox worker does; hands that
/// same message to SMTP as `settings` name it and to `memory`, then records it sent.
pub async fn hand_over_one_due_twice(settings: &Settings, memory: &Inbox) {
    let mut conn = super::database::connect(settings.database_url.expose_secret());
    let worker_id = Uuid::now_v7();
    outbox::heartbeat(&mut conn, worker_id).expect("a heartbeat");
    let mut claimed = outbox::claim_due(&mut conn, worker_id, 1, 300.0).expect("a claim");
    let mail = claimed.pop().expect("one due email");
    let from = settings.mail_from.parse().expect("MAIL_FROM is a mailbox");
    let message = delivery::message(&from, &mail).expect("the message builds");
    for mailer in [
        Mailer::from_settings(settings).expect("an SMTP mailer"),
        Mailer::Memory(memory.clone()),
    ] {
        mailer
            .send(mail.id, message.clone())
            .await
            .unwrap_or_else(|e| panic!("not handed over: {e:?}"));
    }
    let recorded = outbox::record(&mut conn, mail.lease(), &outbox::Outcome::Sent);
    assert!(recorded.expect("the outcome is recorded"), "the lease held");
    outbox::deregister(&mut conn, worker_id).expect("deregistered");
}

/// An outbox worker alone, as another instance runs one, on the test's runtime with a small
/// pool of its own: stopped cleanly, or killed as `kill -9` would (no outcome recorded, no
/// goodbye, its heartbeat just ends).
pub struct DeliveryWorker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _slot: ConnectionSlot,
}

impl DeliveryWorker {
    pub fn start(settings: &Settings) -> Self {
        let slot = ConnectionSlot::take(2);
        let pool = pool::pool(
            settings.database_url.expose_secret(),
            &PoolSettings {
                size: 2,
                min_idle: 1,
                wait: std::time::Duration::from_secs(5),
                statement_timeout_ms: settings.database_statement_timeout_ms,
            },
        );
        let worker = worker::Worker::new(pool, settings)
            .unwrap_or_else(|e| panic!("the worker does not start: {e:#}"));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move { worker.run(stopped).await });
        Self {
            stop,
            task,
            _slot: slot,
        }
    }

    /// Still delivering: nothing it met ended its task.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    pub fn kill(&self) {
        self.task.abort();
    }

    /// Lets the batch in flight be recorded, then stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.expect("the worker stops cleanly");
    }
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
    /// port is taken and kept) with its pools (`database_pool_size` and
    /// `database_reports_pool_size` connections), and serves; its outbox worker hands every
    /// email to `memory` when given one, else to what the settings name.
    pub fn start(settings: Settings, memory: Option<Inbox>) -> Self {
        let (ready, port) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let pools = startup::pools(&settings);
                let clock = Clock::system();
                let built = match memory {
                    Some(inbox) => Application::build_with_mailer(
                        settings,
                        pools,
                        clock,
                        Mailer::Memory(inbox),
                    ),
                    None => Application::build(settings, pools, clock),
                };
                let app = match built {
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

/// Loads the demo (`voter-meetings demo`, as the library runs it) into the database of
/// `settings`: `meetings` in the campaign in progress, or the finished one.
pub fn load_demo(
    settings: &Settings,
    meetings: usize,
    finished: bool,
    reset: bool,
) -> anyhow::Result<voter_meetings::demo::Summary> {
    let ctx = Ctx::new(startup::pools(settings), settings.clone(), Clock::system());
    let mut conn = super::database::connect(settings.database_url.expose_secret());
    voter_meetings::demo::run(
        &ctx,
        &mut conn,
        voter_meetings::demo::Options {
            meetings,
            reset,
            finished,
        },
    )
}
