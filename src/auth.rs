//! Bearer tokens: roles and region-subtree scope. Tokens are stored only as SHA-256 hashes.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::schema::{api_tokens, regions};
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Organizer,
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Organizer => "organizer",
            Role::Observer => "observer",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "organizer" => Ok(Role::Organizer),
            "observer" => Ok(Role::Observer),
            other => Err(format!(
                "must be admin, organizer or observer, not {other:?}"
            )),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// The region subtree the token reaches; `None` = the whole country.
    pub region_id: Option<Uuid>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The region this token is confined to, if any (admins reach everything).
    pub fn scope(&self) -> Option<Uuid> {
        if self.is_admin() {
            None
        } else {
            self.region_id
        }
    }

    /// Whether a record in the region with this path (province … region) is visible.
    pub fn can_read(&self, region_path: &[Uuid]) -> bool {
        match self.scope() {
            None => true,
            Some(r) => region_path.contains(&r),
        }
    }

    pub fn ensure_read(&self, region_path: &[Uuid]) -> Result<(), ApiError> {
        if self.can_read(region_path) {
            Ok(())
        } else {
            Err(ApiError::forbidden("this record is outside your region"))
        }
    }

    /// Organizers change only their subtree; observers never change anything.
    pub fn ensure_write(&self, region_path: &[Uuid]) -> Result<(), ApiError> {
        match self.role {
            Role::Observer => Err(ApiError::forbidden("observers cannot change anything")),
            Role::Admin => Ok(()),
            Role::Organizer if self.can_read(region_path) => Ok(()),
            Role::Organizer => Err(ApiError::forbidden("this record is outside your region")),
        }
    }

    /// Observers read; everyone else may ask for changes (scope is checked per record).
    pub fn ensure_can_mutate(&self) -> Result<(), ApiError> {
        if self.role == Role::Observer {
            Err(ApiError::forbidden("observers cannot change anything"))
        } else {
            Ok(())
        }
    }

    pub fn ensure_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("only an administrator may do this"))
        }
    }
}

/// A new random token: 32 bytes from the OS generator, hex-encoded, with a prefix that
/// makes leaked tokens easy to recognise.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("vm_{}", hex::encode(bytes))
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Insertable)]
#[diesel(table_name = api_tokens)]
struct TokenInsertForm<'a> {
    id: Uuid,
    name: &'a str,
    role: &'a str,
    region_id: Option<Uuid>,
    token_hash: Vec<u8>,
}

/// Stores a new token and returns `(id, plaintext)`; the plaintext is never stored.
pub fn create_token(
    conn: &mut PgConnection,
    name: &str,
    role: Role,
    region_id: Option<Uuid>,
) -> Result<(Uuid, String), ApiError> {
    let mut errors = crate::error::FieldErrors::new();
    if name.trim().is_empty() || name.chars().count() > 200 {
        errors.add("name", "must be 1 to 200 characters");
    }
    if role == Role::Organizer && region_id.is_none() {
        errors.add("region_id", "an organizer token needs a region");
    }
    if role == Role::Admin && region_id.is_some() {
        errors.add(
            "region_id",
            "an admin token reaches every region; omit region_id",
        );
    }
    if let Some(r) = region_id {
        let exists: bool =
            diesel::select(diesel::dsl::exists(regions::table.find(r))).get_result(conn)?;
        if !exists {
            errors.add("region_id", "no such region");
        }
    }
    errors.finish()?;
    let token = new_token();
    let id = Uuid::now_v7();
    diesel::insert_into(api_tokens::table)
        .values(TokenInsertForm {
            id,
            name: name.trim(),
            role: role.as_str(),
            region_id,
            token_hash: hash_token(&token),
        })
        .execute(conn)?;
    Ok((id, token))
}

fn lookup(conn: &mut PgConnection, token: &str) -> Result<Option<Caller>, ApiError> {
    let row: Option<(Uuid, String, String, Option<Uuid>)> = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .filter(api_tokens::revoked_at.is_null())
        .select((
            api_tokens::id,
            api_tokens::name,
            api_tokens::role,
            api_tokens::region_id,
        ))
        .first(conn)
        .optional()?;
    row.map(|(id, name, role, region_id)| {
        let role = Role::parse(&role).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        Ok(Caller {
            id,
            name,
            role,
            region_id,
        })
    })
    .transpose()
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("an Authorization: Bearer <token> header is required")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            if let Cached::Fresh(caller) = state.tokens.get(&token) {
                return Ok(caller);
            }
            let lookup_token = token.clone();
            let found = crate::db::run(&state.pool, move |conn| lookup(conn, &lookup_token)).await;
            match found {
                Ok(Some(caller)) => {
                    state.tokens.put(&token, caller.clone());
                    Ok(caller)
                }
                Ok(None) => {
                    state.tokens.forget(&token);
                    Err(ApiError::unauthorized("unknown or revoked token"))
                }
                Err(e) => {
                    state.tokens.forget(&token);
                    Err(e)
                }
            }
        })
    }
}

/// A short-lived cache of verified tokens, so the hottest endpoints (check-ins) do not pay
/// a token lookup per request. An entry older than `refresh` is looked up again by ONE
/// request while the others keep using it (a herd of lookups at expiry made the latency
/// tail); an entry older than `expire` is not used at all, so a revoked token stops
/// working within that time.
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
        let key = hash_token(token);
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
                hash_token(token),
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
            entries.remove(&hash_token(token));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            id: Uuid::nil(),
            name: "t".to_owned(),
            role: Role::Admin,
            region_id: None,
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
