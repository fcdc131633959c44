//! Sealing an answer kept for an `Idempotency-Key` replay when it holds a secret (a new API
//! token, a calendar subscription URL): ChaCha20-Poly1305 under a key derived from the
//! service's key (`calendar_link_key`), with a random nonce, bound to what the caller must send
//! again to have it replayed (their token, the key, the request). A copy of the database alone
//! reveals no secret, and a sealed answer altered or moved to another key does not open.
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Bytes of a ChaCha20-Poly1305 nonce.
const NONCE_BYTES: usize = 12;

/// The key answers are sealed with.
#[derive(Clone)]
pub struct Sealer(ChaCha20Poly1305);

/// A sealed answer that does not open: altered, cut, or sealed for another context or key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed answer does not open")]
pub struct Unopenable;

impl Sealer {
    /// The sealing key of a service key: HMAC-SHA256 of a label, so it is never the key that
    /// signs calendar secrets.
    pub fn new(service_key: &[u8]) -> Result<Self, String> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(service_key).map_err(|e| e.to_string())?;
        mac.update(b"sealed-idempotent-answer\0");
        Ok(Sealer(ChaCha20Poly1305::new(&mac.finalize().into_bytes())))
    }

    /// `plain` sealed for `context`: hex of nonce, ciphertext and tag.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Result<String, Unopenable> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .map_err(|_| Unopenable)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(hex::encode(out))
    }

    /// What [`Sealer::seal`] sealed for the same `context`.
    pub fn open(&self, context: &[u8], sealed: &str) -> Result<Vec<u8>, Unopenable> {
        let bytes = hex::decode(sealed).map_err(|_| Unopenable)?;
        if bytes.len() < NONCE_BYTES {
            return Err(Unopenable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context,
                },
            )
            .map_err(|_| Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a service key of at least thirty-two bytes";

    fn sealer() -> Sealer {
        Sealer::new(KEY).expect("any key length")
    }

    #[test]
    fn a_sealed_answer_opens_for_its_context_only() {
        let s = sealer();
        let sealed = s.seal(b"token-a/key-1", b"vm_secret").expect("seals");
        assert!(!sealed.contains(&hex::encode(b"vm_secret")));
        assert_eq!(s.open(b"token-a/key-1", &sealed), Ok(b"vm_secret".to_vec()));
        assert_eq!(s.open(b"token-b/key-1", &sealed), Err(Unopenable));
        let other = Sealer::new(b"another service key, also long enough").expect("any key");
        assert_eq!(other.open(b"token-a/key-1", &sealed), Err(Unopenable));
    }

    #[test]
    fn an_altered_or_cut_answer_does_not_open() {
        let s = sealer();
        let sealed = s.seal(b"ctx", b"{\"token\":\"vm_x\"}").expect("seals");
        let mut bytes = hex::decode(&sealed).expect("hex");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(s.open(b"ctx", &hex::encode(&bytes)), Err(Unopenable));
        assert_eq!(s.open(b"ctx", &sealed[..20]), Err(Unopenable));
        assert_eq!(s.open(b"ctx", "not hex"), Err(Unopenable));
    }

    #[test]
    fn the_same_answer_seals_differently_each_time() {
        let s = sealer();
        let a = s.seal(b"ctx", b"same").expect("seals");
        let b = s.seal(b"ctx", b"same").expect("seals");
        assert_ne!(a, b);
        assert_eq!(s.open(b"ctx", &a), s.open(b"ctx", &b));
    }
}
