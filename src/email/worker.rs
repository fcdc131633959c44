//! The outbox worker: claims due emails, sends them outside any transaction, records each
//! outcome, and retries failures with exponential backoff. Any number of workers (one per
//! instance) can share a database: a row is claimed by one of them at a time. Each run of a
//! worker has an id and a heartbeat; when a worker dies (`kill -9`, a crash), its heartbeat
//! stops and a live worker takes over the emails it held within `dead_worker_after_ms`, not
//! when their leases end. A supervisor restarts a worker whose task ended, and `/readyz`
//! answers 503 while it is down.
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::watch;
use uuid::Uuid;

use super::delivery;
use super::transport::Mailer;
use crate::config::{OutboxSettings, Settings};
use crate::db::outbox::{self, Claimed, Lease, Outcome};
use crate::db::pool::{self, PgPool};
use crate::db::DbError;

/// Emails in flight at once: enough to hide SMTP round trips, few enough for any relay.
const CONCURRENCY: usize = 8;

/// The delay before the next try after the `attempt`-th failed one (1-based):
/// `min(base · 2^(attempt−1), max)`, stretched by `jitter` (clamped to 0–20%) so that emails
/// that failed together, in an outage, do not all come back at the same instant.
pub fn retry_delay(attempt: i32, base_seconds: i64, max_seconds: i64, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0);
    let doubled = base_seconds
        .max(0)
        .saturating_mul(2i64.saturating_pow(exponent));
    let capped = doubled.min(max_seconds.max(0));
    // i64 seconds → f64 loses nothing below 2^53 s, far beyond any sane backoff.
    Duration::from_secs_f64(capped as f64 * (1.0 + jitter.clamp(0.0, 0.2)))
}

const NOT_STARTED: u8 = 0;
const RUNNING: u8 = 1;
const DOWN: u8 = 2;

/// Whether this instance's worker is delivering, for `/readyz`.
#[derive(Debug, Default)]
pub struct Health {
    state: AtomicU8,
    restarts: AtomicU64,
}

impl Health {
    /// A worker that ended and is not delivering until it is restarted.
    pub fn is_down(&self) -> bool {
        self.state.load(Ordering::SeqCst) == DOWN
    }

    /// How many times the worker was restarted.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::SeqCst)
    }

    fn set(&self, state: u8) {
        self.state.store(state, Ordering::SeqCst);
    }
}

/// Runs `run()` as a task until `shutdown` turns true; a run that ends before (a panic that
/// escaped, a bug) marks the worker down, is logged, and is started again after
/// `restart_after`.
pub async fn supervise<F, Fut>(
    health: Arc<Health>,
    restart_after: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut run: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        health.set(RUNNING);
        let ended = tokio::spawn(run()).await;
        if *shutdown.borrow() {
            health.set(NOT_STARTED);
            return;
        }
        health.set(DOWN);
        match ended {
            Ok(()) => tracing::error!("outbox worker ended unexpectedly; restarting it"),
            Err(e) => tracing::error!(error = %e, "outbox worker died; restarting it"),
        }
        tokio::select! {
            () = tokio::time::sleep(restart_after) => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
        health.restarts.fetch_add(1, Ordering::SeqCst);
    }
}

pub struct Worker {
    pool: PgPool,
    mailer: Mailer,
    from: Mailbox,
    settings: OutboxSettings,
}

impl Worker {
    /// Checks `mail_from`, the SMTP URL and the heartbeat settings now, so a bad setting stops
    /// start-up, not delivery.
    pub fn new(pool: PgPool, settings: &Settings) -> anyhow::Result<Self> {
        Self::with_mailer(pool, settings, Mailer::from_settings(settings)?)
    }

    /// Like [`new`](Self::new), handing every email to `mailer` whatever the settings say
    /// about SMTP.
    pub fn with_mailer(pool: PgPool, settings: &Settings, mailer: Mailer) -> anyhow::Result<Self> {
        let from = settings.mail_from.parse().map_err(|e| {
            anyhow::anyhow!("MAIL_FROM {:?} is not a mailbox: {e}", settings.mail_from)
        })?;
        let outbox = &settings.outbox;
        anyhow::ensure!(
            outbox.heartbeat_interval_ms > 0
                && outbox.dead_worker_after_ms >= 2 * outbox.heartbeat_interval_ms,
            "OUTBOX__DEAD_WORKER_AFTER_MS ({}) must be at least twice OUTBOX__HEARTBEAT_INTERVAL_MS ({}), which must be positive",
            outbox.dead_worker_after_ms,
            outbox.heartbeat_interval_ms
        );
        Ok(Self {
            pool,
            mailer,
            from,
            settings: outbox.clone(),
        })
    }

    /// How long a claimed row stays this worker's if its heartbeat goes on: well beyond the
    /// few SMTP exchanges of one send, each bounded by the SMTP timeout.
    fn lease_seconds(&self) -> f64 {
        let smtp = self.settings.smtp_timeout_seconds.saturating_mul(6);
        smtp.max(300) as f64
    }

    fn heartbeat_interval(&self) -> Duration {
        Duration::from_millis(self.settings.heartbeat_interval_ms)
    }

    /// Delivers as a new worker id until `shutdown` turns true (or its sender goes away); the
    /// batch in flight is finished first, so nothing is left half-recorded. Dropping the
    /// future (a crash, as far as the database can tell) stops the heartbeat too.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let id = Uuid::now_v7();
        // Rows are claimed only once others can see this worker alive.
        while !self.beat(id).await {
            tokio::select! {
                () = tokio::time::sleep(self.heartbeat_interval()) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        return;
                    }
                }
            }
        }
        tracing::info!(worker_id = %id, "outbox worker started");
        tokio::select! {
            () = self.deliver(id, shutdown) => {}
            () = self.keep_beating(id) => {}
        }
        let left: Result<(), DbError> =
            pool::run(&self.pool, move |conn| outbox::deregister(conn, id)).await;
        if let Err(e) = left {
            tracing::warn!(worker_id = %id, error = %e, "outbox worker could not deregister");
        }
        tracing::info!(worker_id = %id, "outbox worker stopped");
    }

    async fn beat(&self, id: Uuid) -> bool {
        let beat: Result<(), DbError> =
            pool::run(&self.pool, move |conn| outbox::heartbeat(conn, id)).await;
        match beat {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(worker_id = %id, error = %e, "outbox: heartbeat failed");
                false
            }
        }
    }

    async fn keep_beating(&self, id: Uuid) {
        loop {
            tokio::time::sleep(self.heartbeat_interval()).await;
            self.beat(id).await;
        }
    }

    async fn deliver(&self, id: Uuid, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms);
        let mut released_at: Option<Instant> = None;
        while !*shutdown.borrow() {
            if released_at.is_none_or(|at| at.elapsed() >= self.heartbeat_interval()) {
                self.release_dead(id).await;
                released_at = Some(Instant::now());
            }
            let claimed = self.claim(id).await;
            // A full batch means more may be due: go again at once instead of sleeping.
            let full = i64::try_from(claimed.len()).unwrap_or(i64::MAX) >= self.settings.batch_size;
            futures_util::stream::iter(claimed)
                .for_each_concurrent(CONCURRENCY, |mail| self.send(mail))
                .await;
            if !full {
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }

    async fn release_dead(&self, id: Uuid) {
        let dead_after = self.settings.dead_worker_after_ms as f64 / 1000.0;
        let released: Result<usize, DbError> = pool::run(&self.pool, move |conn| {
            outbox::release_dead(conn, id, dead_after)
        })
        .await;
        match released {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                worker_id = %id,
                emails = n,
                "outbox: took over the emails of a worker that stopped"
            ),
            Err(e) => tracing::warn!(error = %e, "outbox: cannot look for dead workers"),
        }
    }

    async fn claim(&self, id: Uuid) -> Vec<Claimed> {
        let (limit, lease) = (self.settings.batch_size, self.lease_seconds());
        let claimed: Result<_, DbError> = pool::run(&self.pool, move |conn| {
            outbox::claim_due(conn, id, limit, lease)
        })
        .await;
        claimed.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "outbox: cannot claim due emails");
            Vec::new()
        })
    }

    async fn send(&self, mail: Claimed) {
        let lease = mail.lease();
        let attempt = lease.attempts + 1;
        let result = delivery::attempt(&self.mailer, &self.from, &mail).await;
        let settings = &self.settings;
        let outcome = delivery::outcome(result, &mail, settings.max_attempts, |n| {
            retry_delay(
                n,
                settings.backoff_base_seconds,
                settings.backoff_max_seconds,
                rand::rng().random_range(0.0..=0.2),
            )
            .as_secs_f64()
        });
        match &outcome {
            Outcome::Sent => tracing::debug!(outbox_id = %mail.id, attempt, "email sent"),
            Outcome::Retry {
                error,
                after_seconds,
            } => {
                tracing::warn!(outbox_id = %mail.id, attempt, %error, after_seconds, "email not sent; will retry")
            }
            Outcome::Failed { error } => {
                tracing::error!(outbox_id = %mail.id, attempt, %error, "email failed for good")
            }
        }
        self.record(lease, outcome).await;
    }

    /// Records an outcome, retrying while the lease lasts: a database blip right after a send
    /// must not turn into a second send once the lease runs out.
    async fn record(&self, lease: Lease, outcome: Outcome) {
        loop {
            let attempt = outcome.clone();
            let recorded: Result<bool, DbError> = pool::run(&self.pool, move |conn| {
                outbox::record(conn, lease, &attempt)
            })
            .await;
            match recorded {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(outbox_id = %lease.id, "outbox: lease lost before the outcome was recorded");
                    return;
                }
                Err(e) if Utc::now() + chrono::Duration::seconds(5) < lease.until => {
                    tracing::warn!(outbox_id = %lease.id, error = %e, "outbox: cannot record the outcome yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    tracing::error!(outbox_id = %lease.id, error = %e, "outbox: outcome not recorded; the email falls due again when its lease ends");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(attempt: i32, jitter: f64) -> f64 {
        retry_delay(attempt, 5, 3600, jitter).as_secs_f64()
    }

    #[test]
    fn the_delay_doubles_from_the_base() {
        let delays: Vec<f64> = (1..=6).map(|a| secs(a, 0.0)).collect();
        assert_eq!(delays, vec![5.0, 10.0, 20.0, 40.0, 80.0, 160.0]);
    }

    #[test]
    fn the_delay_stops_growing_at_the_maximum() {
        assert_eq!(secs(10, 0.0), 2560.0);
        assert_eq!(secs(11, 0.0), 3600.0);
        assert_eq!(secs(40, 0.0), 3600.0);
        // 5 · 2^(i32::MAX) overflows long before: saturates to the maximum, never panics.
        assert_eq!(secs(i32::MAX, 0.0), 3600.0);
    }

    #[test]
    fn jitter_adds_at_most_a_fifth() {
        assert_eq!(secs(1, 0.2), 6.0);
        assert_eq!(secs(11, 0.2), 4320.0);
        assert_eq!(secs(1, 0.1), 5.5);
        // Out-of-range jitter is clamped, not trusted.
        assert_eq!(secs(1, 3.0), 6.0);
        assert_eq!(secs(1, -1.0), 5.0);
    }

    #[test]
    fn a_first_attempt_numbered_zero_or_less_waits_the_base() {
        assert_eq!(secs(0, 0.0), 5.0);
        assert_eq!(secs(-3, 0.0), 5.0);
    }
    #[actix_web::test]
    async fn a_worker_whose_task_ends_is_marked_down_and_started_again() {
        let health = Arc::new(Health::default());
        let (stop, stopped) = watch::channel(false);
        let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
        let runs = Arc::new(AtomicU64::new(0));
        let seen = health.clone();
        let supervisor = tokio::spawn(supervise(
            health.clone(),
            Duration::ZERO,
            stopped,
            move || {
                let run = runs.fetch_add(1, Ordering::SeqCst);
                let (started, seen) = (started.clone(), seen.clone());
                async move {
                    // What the run sees of the health when it starts: the second run starts
                    // after the first one's death was recorded.
                    let _ = started.send((run, seen.restarts()));
                    if run == 0 {
                        panic!("a bug outside any one email");
                    }
                    std::future::pending::<()>().await;
                }
            },
        ));
        assert_eq!(starts.recv().await, Some((0, 0)));
        assert_eq!(starts.recv().await, Some((1, 1)));
        assert!(!health.is_down());
        stop.send(true).expect("supervisor listening");
        supervisor.abort();
    }
}
