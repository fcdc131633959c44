//! `Idempotency-Key`: the same key and request replay the first answer for 24 hours; the same
//! key with another request is 422 `idempotency_key_reused`. The key is claimed in the same
//! transaction as the change it guards: a concurrent request with the same key waits on that
//! row, then replays the committed answer. An answer that holds a secret (a new token, a
//! calendar URL) is kept sealed (`domain::sealed`): only the same caller, key and request open
//! it, and a copy of the database alone reveals nothing.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use chrono::TimeDelta;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use crate::app::{self, Ctx, Tx};
use crate::db::idempotency as db;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;
use crate::domain::sealed::Sealer;

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

/// How an answer is kept: as it is, or sealed because it holds a secret.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Plain,
    Sealed,
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

    fn into_response(self, replayed: bool, keep: Keep) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if keep == Keep::Sealed {
            r.insert_header((header::CACHE_CONTROL, "no-store"));
        }
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

/// What a sealed answer is bound to: the caller's token, the key and the request.
fn seal_context(token: &Caller, key: &str, hash: &[u8]) -> Vec<u8> {
    let mut context = token.id.as_bytes().to_vec();
    context.extend_from_slice(key.as_bytes());
    context.push(0);
    context.extend_from_slice(hash);
    context
}

/// A sealer with what its answers are bound to.
type Seal<'a> = (&'a Sealer, Vec<u8>);

/// The body to store: the answer's, or `{"sealed": …}` of it.
fn kept_body(body: &Value, seal: Option<&Seal<'_>>) -> app::Result<Value> {
    let Some((sealer, context)) = seal else {
        return Ok(body.clone());
    };
    let plain = serde_json::to_vec(body).map_err(app::Error::internal)?;
    let sealed = sealer.seal(context, &plain).map_err(app::Error::internal)?;
    Ok(serde_json::json!({ "sealed": sealed }))
}

/// The answer's body from what was stored.
fn replayed_body(stored: Value, seal: Option<&Seal<'_>>) -> app::Result<Value> {
    let Some((sealer, context)) = seal else {
        return Ok(stored);
    };
    let sealed = stored
        .get("sealed")
        .and_then(Value::as_str)
        .ok_or_else(|| app::Error::internal("a sealed answer was stored unsealed"))?;
    let plain = sealer.open(context, sealed).map_err(app::Error::internal)?;
    serde_json::from_slice(&plain).map_err(app::Error::internal)
}

/// Runs `work` once per key, in one transaction with the key's claim; `Ok(None)` = no key.
fn once(
    tx: &mut Tx<'_>,
    token: &Caller,
    key: &str,
    hash: &[u8],
    sealer: Option<&Sealer>,
    work: &mut impl FnMut(&mut Tx<'_>) -> app::Result<Answer>,
) -> app::Result<(Answer, bool)> {
    let expired = tx.now() - KEPT_FOR;
    let seal = sealer.map(|s| (s, seal_context(token, key, hash)));
    if db::claim(tx, token.id, key, hash, expired)? {
        let answer = work(tx)?;
        db::store(
            tx,
            token.id,
            key,
            answer.status.as_u16() as i16,
            &kept_body(&answer.body, seal.as_ref())?,
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
            body: replayed_body(stored.response, seal.as_ref())?,
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
    work: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize,
    F: FnMut(&mut Tx<'_>) -> app::Result<Answer> + Send + 'static,
{
    run(ctx, who, req, body, Keep::Plain, work).await
}

/// [`run_once`] for a change whose answer holds a secret: the answer is kept sealed and is
/// sent with `Cache-Control: no-store`.
pub async fn run_once_sealed<B, F>(
    ctx: &Ctx,
    who: &Caller,
    req: &HttpRequest,
    body: &B,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize,
    F: FnMut(&mut Tx<'_>) -> app::Result<Answer> + Send + 'static,
{
    run(ctx, who, req, body, Keep::Sealed, work).await
}

async fn run<B, F>(
    ctx: &Ctx,
    who: &Caller,
    req: &HttpRequest,
    body: &B,
    keep: Keep,
    mut work: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize,
    F: FnMut(&mut Tx<'_>) -> app::Result<Answer> + Send + 'static,
{
    let key = key_of(req)?;
    let hash = fingerprint(req, body);
    let token = who.clone();
    let sealer = match keep {
        Keep::Plain => None,
        Keep::Sealed => Some(
            Sealer::new(ctx.settings().calendar_link_key.expose_secret().as_bytes())
                .map_err(app::Error::internal)?,
        ),
    };
    let (answer, replayed) = ctx
        .tx(move |tx| match &key {
            None => Ok((work(tx)?, false)),
            Some(key) => once(tx, &token, key, &hash, sealer.as_ref(), &mut work),
        })
        .await?;
    Ok(answer.into_response(replayed, keep))
}
