//! The outbox worker: claims due emails, sends them outside any transaction, records each
//! outcome, and retries failures with exponential backoff. Any number of workers (one per
//! instance) can share a database: a row is claimed by one of them at a time.
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::watch;

use super::transport::{self, Mailer};
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

pub struct Worker {
    pool: PgPool,
    mailer: Mailer,
    from: Mailbox,
    settings: OutboxSettings,
}

impl Worker {
    /// Checks `mail_from` and the SMTP URL now, so a bad setting stops start-up, not delivery.
    pub fn new(pool: PgPool, settings: &Settings) -> anyhow::Result<Self> {
        let from = settings.mail_from.parse().map_err(|e| {
            anyhow::anyhow!("MAIL_FROM {:?} is not a mailbox: {e}", settings.mail_from)
        })?;
        Ok(Self {
            pool,
            mailer: Mailer::from_settings(settings)?,
            from,
            settings: settings.outbox.clone(),
        })
    }

    /// How long a claimed row stays this worker's: well beyond the few SMTP exchanges of one
    /// send, each bounded by the SMTP timeout, so only a crashed worker's rows fall due again.
    fn lease_seconds(&self) -> f64 {
        let smtp = self.settings.smtp_timeout_seconds.saturating_mul(6);
        smtp.max(300) as f64
    }

    /// Delivers until `shutdown` turns true (or its sender goes away); the batch in flight is
    /// finished first, so nothing is left half-recorded.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms);
        while !*shutdown.borrow() {
            let claimed = self.claim().await;
            // A full batch means more may be due: go again at once instead of sleeping.
            let full = i64::try_from(claimed.len()).unwrap_or(i64::MAX) >= self.settings.batch_size;
            futures_util::stream::iter(claimed)
                .for_each_concurrent(CONCURRENCY, |mail| self.deliver(mail))
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
        tracing::info!("outbox worker stopped");
    }

    async fn claim(&self) -> Vec<Claimed> {
        let (limit, lease) = (self.settings.batch_size, self.lease_seconds());
        let claimed: Result<_, DbError> = pool::run(&self.pool, move |conn| {
            outbox::claim_due(conn, limit, lease)
        })
        .await;
        claimed.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "outbox: cannot claim due emails");
            Vec::new()
        })
    }

    async fn deliver(&self, mail: Claimed) {
        let lease = mail.lease();
        let attempt = lease.attempts + 1;
        let outcome = match transport::message(&self.from, &mail) {
            // A message that cannot be built never will be: no point retrying.
            Err(e) => Outcome::Failed {
                error: format!("{e:#}"),
            },
            Ok(message) => match self.mailer.send(mail.id, message).await {
                Ok(()) => Outcome::Sent,
                Err(e) if attempt >= self.settings.max_attempts => Outcome::Failed {
                    error: format!("{e:#}"),
                },
                Err(e) => Outcome::Retry {
                    error: format!("{e:#}"),
                    after_seconds: retry_delay(
                        attempt,
                        self.settings.backoff_base_seconds,
                        self.settings.backoff_max_seconds,
                        rand::rng().random_range(0.0..=0.2),
                    )
                    .as_secs_f64(),
                },
            },
        };
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
}
