//! Prometheus metrics: request counts and latencies per route pattern, recorded by a
//! middleware; pool, outbox and check-in figures; `GET /metrics` for admins and national
//! observers (the figures are the whole country's).
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::auth::{self, Caller};
use super::problem::ApiError;
use crate::app::{self, Ctx};
use crate::db::outbox;
use crate::domain::kinds::{OutboxStatus, Role};
use crate::domain::problem::Problem;

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
const POOL_CONNECTIONS: &str = "db_pool_connections";
const POOL_IDLE: &str = "db_pool_idle_connections";
const POOL_MAX: &str = "db_pool_max_connections";
const OUTBOX: &str = "outbox_emails";
const CHECKINS: &str = "checkins_total";

/// Latency buckets in seconds: a check-in takes about a millisecond, a national report seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The Prometheus text exposition format.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often histogram samples are folded into their buckets, so memory stays flat
/// however long Prometheus goes without scraping.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .wrap(actix_web::middleware::from_fn(super::rate_limit::limit))
            .wrap(actix_web::middleware::from_fn(auth::authenticate))
            .wrap(actix_web::middleware::from_fn(super::health::gate))
            .get(scrape),
    );
}

/// Installs the process-wide recorder once; every application built in this process (the
/// tests start many) records into it and renders from it.
pub fn install() {
    handle();
}

fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &LATENCY_BUCKETS)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "latency buckets refused; durations become summaries");
                PrometheusBuilder::new()
            })
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows only gauges");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no metrics upkeep thread; histograms drain at scrapes only");
        }
        handle
    })
}

fn describe() {
    describe_counter!(
        REQUESTS,
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and route pattern"
    );
    describe_gauge!(POOL_CONNECTIONS, "Database connections open in the pool");
    describe_gauge!(POOL_IDLE, "Database connections open and idle in the pool");
    describe_gauge!(POOL_MAX, "The most database connections the pool opens");
    describe_gauge!(OUTBOX, "Emails in the outbox, by delivery status");
    describe_counter!(
        CHECKINS,
        "Check-ins that reached the counters: accepted, or the code they were refused with"
    );
}

/// Middleware: counts and times every request under its route pattern
/// (`/api/v1/meetings/{id}`), never its raw path, so one series exists per route.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let answered = next.call(req).await;
    let (route, status) = match &answered {
        Ok(res) => (
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned()),
            res.status(),
        ),
        Err(e) => ("unknown".to_owned(), e.as_response_error().status_code()),
    };
    histogram!(DURATION, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    counter!(
        REQUESTS,
        "method" => method,
        "route" => route,
        "status" => status.as_str().to_owned()
    )
    .increment(1);
    answered
}

/// A bounded label: the standard methods by name, anything else as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts a check-in by its outcome: `accepted`, or the problem code that refused it.
pub fn count_check_in(outcome: Result<(), &app::Error>) {
    let label = match outcome {
        Ok(_) => "accepted",
        Err(e) => e.code().map_or("internal_error", |c| c.as_str()),
    };
    counter!(CHECKINS, "outcome" => label).increment(1);
}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "health",
    summary = "Prometheus metrics",
    description = "Needs an admin or observer token (Prometheus sends it with `authorization: {credentials: ...}`); organizers get 403.",
    responses(
        (
            status = 200,
            description = "Prometheus text exposition: `http_requests_total{method,route,status}`, `http_request_duration_seconds{method,route}` (histogram), `db_pool_connections`, `db_pool_idle_connections`, `db_pool_max_connections`, `outbox_emails{status}`, `checkins_total{outcome}`.",
            content_type = "text/plain; version=0.0.4",
            body = String,
        ),
    ),
)]
async fn scrape(who: Caller, ctx: web::Data<Ctx>) -> Result<HttpResponse, ApiError> {
    if who.role == Role::Organizer || (who.role == Role::Observer && who.region_id.is_some()) {
        return Err(Problem::forbidden(
            "metrics are national figures: for admins and observers without a region",
        )
        .into());
    }
    let handle = handle();
    let pool = &ctx.pools.main;
    let state = pool.state();
    gauge!(POOL_CONNECTIONS).set(f64::from(state.connections));
    gauge!(POOL_IDLE).set(f64::from(state.idle_connections));
    gauge!(POOL_MAX).set(f64::from(pool.max_size()));
    // A database outage must not blank the request metrics that show it: the outbox
    // gauges then keep their last values, and /readyz reports the outage.
    match ctx.read(|tx| Ok(outbox::count_by_status(tx)?)).await {
        Ok(counts) => {
            for status in [
                OutboxStatus::Pending,
                OutboxStatus::Sent,
                OutboxStatus::Failed,
            ] {
                let n = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                gauge!(OUTBOX, "status" => status.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "outbox gauges not refreshed"),
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, EXPOSITION))
        .body(handle.render()))
}
