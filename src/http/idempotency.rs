//! `Idempotency-Key`: the same key and request replay the first answer for 24 hours; the same
//! key with another request is 422 `idempotency_key_reused`. The key is claimed in the same
//! transaction as the change it guards: a concurrent request with the same key waits on that
//! row, then replays the committed answer.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use chrono::TimeDelta;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use crate::app::{self, Ctx, Tx};
use crate::db::idempotency as db;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;

/// How long an answer is kept for replay.
pub const KEPT_FOR: TimeDelta = TimeDelta::hours(24);

/// How often the answers past [`KEPT_FOR`] are deleted.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Deletes the answers kept past their 24 hours; how many went.
pub async fn sweep(ctx: &Ctx) -> app::Result<usize> {
    ctx.read(|tx| {
        let before = tx.now() - KEPT_FOR;
        Ok(db::purge(tx, before)?)
    })
    .await
}

/// Sweeps now and every [`SWEEP_EVERY`] until `stopped` says so; a failed sweep is logged
/// and the next one tries again.
pub async fn sweep_until_stopped(ctx: &Ctx, mut stopped: tokio::sync::watch::Receiver<bool>) {
    loop {
        match sweep(ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired idempotency keys swept"),
            Err(e) => tracing::warn!(error = %e, "idempotency keys not swept"),
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// The `Idempotency-Key` header of a request, if it sent one.
pub fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

/// An answer that can be stored and replayed.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
    pub etag: Option<String>,
}

impl Answer {
    /// A `201 Created` with the new record and where it lives.
    pub fn created(body: &impl Serialize, location: Option<String>) -> app::Result<Self> {
        Self::with_status(StatusCode::CREATED, body, location)
    }

    pub fn with_status(
        status: StatusCode,
        body: &impl Serialize,
        location: Option<String>,
    ) -> app::Result<Self> {
        Ok(Self {
            status,
            body: serde_json::to_value(body).map_err(app::Error::internal)?,
            location,
            etag: None,
        })
    }

    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(loc) = &self.location {
            r.insert_header((header::LOCATION, loc.as_str()));
        }
        if let Some(tag) = &self.etag {
            r.insert_header((header::ETAG, tag.as_str()));
        }
        if replayed {
            r.insert_header(("Idempotent-Replayed", "true"));
        }
        r.json(self.body)
    }
}

/// Fingerprint of a request: method, path and its canonical JSON body.
fn fingerprint(req: &HttpRequest, body: &impl Serialize) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(req.method().as_str());
    h.update(b" ");
    h.update(req.uri().to_string());
    h.update(b"\n");
    h.update(serde_json::to_vec(body).unwrap_or_default());
    h.finalize().to_vec()
}

/// Runs `work` once per key, in one transaction with the key's claim; `Ok(None)` = no key.
fn once(
    tx: &mut Tx<'_>,
    token: &Caller,
    key: &str,
    hash: &[u8],
    work: &mut impl FnMut(&mut Tx<'_>) -> app::Result<Answer>,
) -> app::Result<(Answer, bool)> {
    let expired = tx.now() - KEPT_FOR;
    if db::claim(tx, token.id, key, hash, expired)? {
        let answer = work(tx)?;
        db::store(
            tx,
            token.id,
            key,
            answer.status.as_u16() as i16,
            &answer.body,
            answer.location.as_deref(),
            answer.etag.as_deref(),
        )?;
        return Ok((answer, false));
    }
    let stored = db::stored(tx, token.id, key)?
        .ok_or_else(|| app::Error::internal("a claimed idempotency key has no row"))?;
    if stored.request_hash != hash {
        return Err(Problem::new(
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        )
        .into());
    }
    let status = u16::try_from(stored.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            app::Error::internal(format!("stored status {} is not valid", stored.status))
        })?;
    Ok((
        Answer {
            status,
            body: stored.response,
            location: stored.location,
            etag: stored.etag,
        },
        true,
    ))
}

/// Runs a change in one transaction, once per `Idempotency-Key` when the request sends one.
pub async fn run_once<B, F>(
    ctx: &Ctx,
    who: &Caller,
    req: &HttpRequest,
    body: &B,
    mut work: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize,
    F: FnMut(&mut Tx<'_>) -> app::Result<Answer> + Send + 'static,
{
    let key = key_of(req)?;
    let hash = fingerprint(req, body);
    let token = who.clone();
    let (answer, replayed) = ctx
        .tx(move |tx| match &key {
            None => Ok((work(tx)?, false)),
            Some(key) => once(tx, &token, key, &hash, &mut work),
        })
        .await?;
    Ok(answer.into_response(replayed))
}
