//! A request budget per token (SPEC §4: no one token can starve the others): a token bucket
//! of `rate_limit.burst` requests refilled at `rate_limit.requests_per_second`, checked right
//! after authentication; beyond it, 429 `rate_limited` with `Retry-After`. Buckets live in
//! memory, one per token seen lately; a full bucket is the same as none, so those are pruned.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use serde_json::json;
use uuid::Uuid;

use super::problem::ApiError;
use crate::config::RateLimitSettings;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;

/// Past this many buckets, the full ones are dropped before another is added.
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl RateLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            per_second: settings.requests_per_second,
            burst: f64::from(settings.burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_second).min(self.burst)
    }

    /// Spends one request of `token`'s budget at `now`, or says how long until one is left.
    pub fn take(&self, token: Uuid, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A panic while holding the lock cannot leave a bucket half-written; serving
            // without a budget beats refusing everyone.
            return Ok(());
        };
        if buckets.len() >= PRUNE_ABOVE && !buckets.contains_key(&token) {
            buckets.retain(|_, b| self.refilled(b, now) < self.burst);
        }
        let bucket = buckets.entry(token).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = self.refilled(bucket, now);
        bucket.at = now;
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            bucket.tokens = tokens;
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }
}

fn refused(wait: Duration) -> ApiError {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    Problem::new(
        Code::RateLimited,
        format!("this token sent more requests than its budget allows; retry in {seconds} s"),
    )
    .with(json!({ "retry_after": seconds }))
    .into()
}

/// The middleware, inside [`authenticate`](super::auth::authenticate): the caller it found
/// spends one request of its budget.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let caller = req.extensions().get::<Caller>().map(|c| c.id);
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    if let (Some(token), Some(limiter)) = (caller, limiter) {
        if let Err(wait) = limiter.take(token, Instant::now()) {
            return Ok(req.error_response(refused(wait)).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(&RateLimitSettings {
            requests_per_second: per_second,
            burst,
        })
    }

    #[test]
    fn a_burst_is_spent_then_refilled_at_the_rate() {
        let l = limiter(2.0, 3);
        let (t, start) = (Uuid::now_v7(), Instant::now());
        for _ in 0..3 {
            assert!(l.take(t, start).is_ok());
        }
        let wait = l.take(t, start).expect_err("the burst is spent");
        assert_eq!(wait, Duration::from_millis(500));
        assert!(l.take(t, start + Duration::from_millis(500)).is_ok());
        assert!(l.take(t, start + Duration::from_millis(500)).is_err());
        assert!(l.take(Uuid::now_v7(), start).is_ok(), "another token");
    }

    #[test]
    fn full_buckets_are_pruned_so_memory_stays_bounded() {
        let l = limiter(1000.0, 5);
        let start = Instant::now();
        for _ in 0..PRUNE_ABOVE {
            assert!(l.take(Uuid::now_v7(), start).is_ok());
        }
        assert_eq!(l.len(), PRUNE_ABOVE);
        assert!(l
            .take(Uuid::now_v7(), start + Duration::from_secs(1))
            .is_ok());
        assert_eq!(l.len(), 1);
    }
}
