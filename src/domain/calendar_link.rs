//! A candidate's calendar subscription secret (SPEC §4 `GET /calendars/{secret}.ics`): the
//! secret is the credential. It is derived from a random nonce with the service's calendar
//! key, so the service can put it in a schedule email again, while the database keeps only
//! the nonce and the secret's SHA-256: a copy of the database alone opens no calendar.
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The service's key for calendar secrets (`calendar_link_key`), ready to sign.
#[derive(Clone)]
pub struct CalendarKey(Hmac<Sha256>);

/// Shorter keys are refused at start: HMAC-SHA256 wants at least 32 bytes of key.
const MIN_KEY_BYTES: usize = 32;

impl CalendarKey {
    pub fn new(key: &str) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "must be at least {MIN_KEY_BYTES} bytes, not {}",
                key.len()
            ));
        }
        Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .map(CalendarKey)
            .map_err(|e| e.to_string())
    }

    /// The secret of `candidate_id`'s link made from `nonce`: 64 hex digits.
    pub fn secret(&self, candidate_id: Uuid, nonce: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(b"calendar-link\0");
        mac.update(candidate_id.as_bytes());
        mac.update(nonce.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A fresh random nonce: a new link, and the old one's end.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database keeps of a secret.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether a path segment can be a secret at all (spares the database a lookup otherwise).
pub fn looks_like_secret(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CalendarKey {
        CalendarKey::new("a key of at least thirty-two bytes, for tests").unwrap()
    }

    #[test]
    fn the_same_nonce_gives_the_same_secret_and_a_new_nonce_another() {
        let candidate = Uuid::from_u128(7);
        let nonce = new_nonce();
        let secret = key().secret(candidate, &nonce);
        assert_eq!(secret, key().secret(candidate, &nonce));
        assert!(looks_like_secret(&secret), "{secret}");
        assert_ne!(secret, key().secret(candidate, &new_nonce()));
        assert_ne!(secret, key().secret(Uuid::from_u128(8), &nonce));
    }

    #[test]
    fn another_key_gives_another_secret_and_the_stored_hash_is_not_the_secret() {
        let other = CalendarKey::new("another key of at least thirty-two bytes").unwrap();
        let (candidate, nonce) = (Uuid::from_u128(7), "00ff");
        let secret = key().secret(candidate, nonce);
        assert_ne!(secret, other.secret(candidate, nonce));
        assert_ne!(hash(&secret), secret);
        assert_eq!(hash(&secret), hash(&secret));
    }

    #[test]
    fn short_keys_and_odd_segments_are_refused() {
        assert!(CalendarKey::new("short").is_err());
        assert!(!looks_like_secret("../../etc/passwd"));
        assert!(!looks_like_secret(&"A".repeat(64)));
    }
}
