//! Web console sign-in: an API token exchanged for a session. The session secret (32 random
//! bytes) lives only in the browser's cookie; the database keeps its SHA-256, so a leaked
//! table opens nothing. What a session may do is what its token may do, nothing more.
use chrono::TimeDelta;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{tokens, Result, Tx};
use crate::db::sessions as db;
use crate::domain::scope::Caller;

/// How long a session lasts after sign-in.
pub const LASTS: TimeDelta = TimeDelta::hours(12);

/// A new session: its secret (for the cookie) and who it is.
pub struct Opened {
    pub secret: String,
    pub caller: Caller,
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Signs in with an API token; `None` when the token is unknown or revoked.
pub fn sign_in(tx: &mut Tx<'_>, token: &str) -> Result<Option<Opened>> {
    let Some(caller) = tokens::authenticate(tx, token.trim())? else {
        return Ok(None);
    };
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let now = tx.now();
    db::purge(tx, now)?;
    db::insert(tx, &hash(&secret), caller.id, now, now + LASTS)?;
    Ok(Some(Opened { secret, caller }))
}

/// The caller of a live session.
pub fn caller(tx: &mut Tx<'_>, secret: &str) -> Result<Option<Caller>> {
    let now = tx.now();
    Ok(db::caller(tx, &hash(secret), now)?)
}

pub fn sign_out(tx: &mut Tx<'_>, secret: &str) -> Result<()> {
    Ok(db::delete(tx, &hash(secret))?)
}
