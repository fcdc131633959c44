//! API tokens: 32 random bytes shown once, stored as their SHA-256 hash (a slow password hash
//! buys nothing for values this long); roles and region scope come with them.
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{Result, Tx};
use crate::db::{self, tokens::Token};
use crate::domain::kinds::{self, Role};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;

/// A token as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(value_type = crate::domain::kinds::Role)]
    pub role: String,
    /// Required for organizers; forbidden for admins; optional for observers (null = the whole country).
    pub region_id: Option<Uuid>,
}

/// A new token and its secret, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CreatedToken)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub record: Token,
    /// The secret to send as `Authorization: Bearer <token>`.
    /// The bearer token, `vm_` + 64 hex digits. Shown only here, once.
    #[schema(pattern = r"^vm_[0-9a-f]{64}$")]
    pub token: String,
}

/// A new random secret: hex with a prefix that makes a leaked token easy to recognise.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("vm_{}", hex::encode(bytes))
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Creates a token (admins only; the CLI acts as the system admin).
pub fn create(tx: &mut Tx<'_>, who: &Caller, new: NewToken) -> Result<IssuedToken> {
    who.ensure_admin()?;
    let mut e = FieldErrors::new();
    let name = e.take("name", text::name(&new.name, 200));
    let role = e.take("role", kinds::parse::<Role>(&new.role));
    match (role, new.region_id) {
        (Some(Role::Organizer), None) => e.add("region_id", "an organizer token needs a region"),
        (Some(Role::Admin), Some(_)) => e.add(
            "region_id",
            "an admin token reaches every region; omit region_id",
        ),
        _ => {}
    }
    if let Some(r) = new.region_id {
        if db::regions::find(tx, r)?.is_none() {
            e.add("region_id", "no such region");
        }
    }
    let (name, role) = e.done(name.zip(role))?;
    let secret = new_secret();
    let record = db::tokens::insert(
        tx,
        db::tokens::TokenInsertForm {
            id: Uuid::now_v7(),
            name: &name,
            role,
            region_id: new.region_id,
            token_hash: hash(&secret),
        },
    )?;
    audit::record(tx, who, Change::created("token", record.id, None, &record))?;
    Ok(IssuedToken {
        record,
        token: secret,
    })
}

/// The caller a bearer secret stands for; `None` for an unknown or revoked one. Notes the
/// use (at most once a minute per token).
pub fn authenticate(tx: &mut Tx<'_>, secret: &str) -> Result<Option<Caller>> {
    let caller = db::tokens::caller(tx, &hash(secret))?;
    if let Some(c) = &caller {
        let now = tx.now();
        db::tokens::touch(tx, c.id, now)?;
    }
    Ok(caller)
}

/// Every token, never a secret (admins only).
pub fn list(tx: &mut Tx<'_>, who: &Caller, after: Option<Uuid>, limit: i64) -> Result<Vec<Token>> {
    who.ensure_admin()?;
    Ok(db::tokens::list(tx, after, limit)?)
}

/// Revokes a token (admins only, audited); every instance refuses it once its token cache
/// lets it go, within seconds (`http::auth::TokenCache`).
pub fn revoke(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<Token> {
    who.ensure_admin()?;
    let before = db::tokens::find(tx, id)?.ok_or_else(|| Problem::not_found("token"))?;
    let now = tx.now();
    let Some(after) = db::tokens::revoke(tx, id, now)? else {
        return Ok(before);
    };
    audit::record(
        tx,
        who,
        Change {
            action: "revoke",
            entity_type: "token",
            entity_id: id,
            province_id: None,
            before: audit::json(&before),
            after: audit::json(&after),
        },
    )?;
    Ok(after)
}

/// Checks a token role name, for the command line.
pub fn role(raw: &str) -> std::result::Result<Role, Problem> {
    kinds::parse::<Role>(raw).map_err(|m| Problem::field("role", m))
}
