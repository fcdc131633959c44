//! Authentication before anything else: a middleware finds the caller of every request it
//! guards (bearer token), before any body is read, and answers 401 itself when there is none.
//! Handlers then take the caller as [`Caller`], [`Writer`] (anyone but an observer) or
//! [`Admin`]; put that extractor first, so the role is checked before the body is parsed.
use std::collections::HashMap;
use std::future::{ready, Ready};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::problem::ApiError;
use crate::app::{self, Ctx};
use crate::domain::problem::Code;
pub use crate::domain::scope::Caller;

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(Code::Unauthorized, detail)
}

/// The secret of an `Authorization: Bearer <token>` header.
fn bearer(req: &ServiceRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("an Authorization: Bearer <token> header is required"))?;
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(unauthorized(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

async fn caller_of(req: &ServiceRequest) -> Result<Caller, ApiError> {
    let secret = bearer(req)?;
    let (Some(ctx), Some(cache)) = (
        req.app_data::<web::Data<Ctx>>().cloned(),
        req.app_data::<web::Data<TokenCache>>().cloned(),
    ) else {
        return Err(app::Error::internal("the service state is missing").into());
    };
    if let Cached::Fresh(caller) = cache.get(&secret) {
        return Ok(caller);
    }
    let lookup = secret.clone();
    let found = ctx
        .read(move |tx| app::tokens::authenticate(tx, &lookup))
        .await;
    match found {
        Ok(Some(caller)) => {
            cache.put(&secret, caller.clone());
            Ok(caller)
        }
        Ok(None) => {
            cache.forget(&secret);
            Err(unauthorized("unknown or revoked token"))
        }
        Err(e) => {
            cache.forget(&secret);
            Err(e.into())
        }
    }
}

/// The middleware: the caller goes into the request's extensions, or the request ends in 401.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match caller_of(&req).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

fn found(req: &HttpRequest) -> Result<Caller, ApiError> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| unauthorized("this route needs a bearer token"))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(found(req))
    }
}

/// A caller that may ask for changes: an admin or an organizer (scope is checked per record).
pub struct Writer(pub Caller);

impl FromRequest for Writer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(found(req).and_then(|c| {
            c.ensure_can_mutate()?;
            Ok(Writer(c))
        }))
    }
}

/// An administrator.
pub struct Admin(pub Caller);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(found(req).and_then(|c| {
            c.ensure_admin().map_err(ApiError::from)?;
            Ok(Admin(c))
        }))
    }
}

/// A short-lived cache of verified tokens, so the hottest endpoints (check-ins) do not pay a
/// token lookup per request. An entry older than `refresh` is looked up again by ONE request
/// while the others keep using it (a herd of lookups at expiry made the latency tail); an
/// entry older than `expire` is not used at all, so a revoked token stops working within it.
pub struct TokenCache {
    refresh: Duration,
    expire: Duration,
    entries: RwLock<HashMap<Vec<u8>, Entry>>,
}

struct Entry {
    caller: Caller,
    at: Instant,
    refreshing: AtomicBool,
}

/// What the cache knows of a token.
pub enum Cached {
    /// Use it.
    Fresh(Caller),
    /// Look it up (unknown, expired, or this request was picked to refresh it).
    Lookup,
}

impl TokenCache {
    pub fn new(refresh: Duration, expire: Duration) -> Self {
        Self {
            refresh,
            expire,
            entries: Default::default(),
        }
    }

    pub fn get(&self, token: &str) -> Cached {
        let key = app::tokens::hash(token);
        let Ok(entries) = self.entries.read() else {
            return Cached::Lookup;
        };
        match entries.get(&key) {
            Some(e) if e.at.elapsed() < self.refresh => Cached::Fresh(e.caller.clone()),
            Some(e)
                if e.at.elapsed() < self.expire && e.refreshing.swap(true, Ordering::AcqRel) =>
            {
                Cached::Fresh(e.caller.clone())
            }
            _ => Cached::Lookup,
        }
    }

    pub fn put(&self, token: &str, caller: Caller) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.retain(|_, e| e.at.elapsed() < self.expire);
            }
            entries.insert(
                app::tokens::hash(token),
                Entry {
                    caller,
                    at: Instant::now(),
                    refreshing: AtomicBool::new(false),
                },
            );
        }
    }

    pub fn forget(&self, token: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&app::tokens::hash(token));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kinds::Role;
    use uuid::Uuid;

    fn caller() -> Caller {
        Caller {
            id: Uuid::nil(),
            name: "t".to_owned(),
            role: Role::Admin,
            region_id: None,
            region_path: Vec::new(),
        }
    }

    #[test]
    fn a_stale_entry_is_refreshed_by_one_request_while_the_others_use_it() {
        let cache = TokenCache::new(Duration::ZERO, Duration::from_secs(60));
        assert!(matches!(cache.get("vm_x"), Cached::Lookup));
        cache.put("vm_x", caller());
        assert!(
            matches!(cache.get("vm_x"), Cached::Lookup),
            "the first to see it stale refreshes"
        );
        assert!(
            matches!(cache.get("vm_x"), Cached::Fresh(_)),
            "the others keep going"
        );
        assert!(matches!(cache.get("vm_x"), Cached::Fresh(_)));
        cache.forget("vm_x");
        assert!(matches!(cache.get("vm_x"), Cached::Lookup));
    }

    #[test]
    fn an_expired_entry_is_never_used() {
        let cache = TokenCache::new(Duration::ZERO, Duration::ZERO);
        cache.put("vm_y", caller());
        assert!(matches!(cache.get("vm_y"), Cached::Lookup));
        assert!(matches!(cache.get("vm_y"), Cached::Lookup));
    }
}
