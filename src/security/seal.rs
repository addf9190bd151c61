//! Secrets sealed at rest: BMC passwords (and any other secret the store keeps) are written
//! as `sealed:v1:<base64 of nonce ‖ ciphertext>`, XChaCha20-Poly1305 under the key in
//! `<data-dir>/seal.key`. The 192-bit nonce is random per value, so no counter has to
//! survive restarts. Without the key file a copy of the database yields no password.
//!
//! A stored value without the prefix is plaintext from before sealing existed: it is read
//! as is and sealed the next time it is written.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const PREFIX: &str = "sealed:v1:";
pub const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("a sealed {what} could not be opened: {why} (was seal.key replaced?)")]
    Open { what: String, why: &'static str },
}

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    pub fn new(key: &[u8; KEY_LEN]) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The sealed form of `plain` (an empty secret stays empty: there is nothing to hide).
    pub fn seal(&self, plain: &str) -> String {
        if plain.is_empty() {
            return String::new();
        }
        let nonce = crate::auth::random_bytes::<24>();
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .expect("XChaCha20-Poly1305 encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// The plaintext of a stored value (`what` names it in errors).
    pub fn open(&self, what: &str, stored: &str) -> Result<String, SealError> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bad = |why| SealError::Open {
            what: what.to_string(),
            why,
        };
        let raw = STANDARD.decode(b64).map_err(|_| bad("not base64"))?;
        if raw.len() < 24 {
            return Err(bad("too short"));
        }
        let (nonce, ct) = raw.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| bad("authentication failed"))?;
        String::from_utf8(plain).map_err(|_| bad("not UTF-8"))
    }
}

pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_only() {
        let s = Sealer::new(&[7; 32]);
        let a = s.seal("hunter2-bmc");
        assert!(is_sealed(&a) && !a.contains("hunter2"), "{a}");
        assert_ne!(a, s.seal("hunter2-bmc"), "a fresh nonce each time");
        assert_eq!(s.open("pw", &a).unwrap(), "hunter2-bmc");
        assert_eq!(s.open("pw", "legacy-plain").unwrap(), "legacy-plain");
        assert!(Sealer::new(&[8; 32]).open("pw", &a).is_err());
        assert_eq!(s.seal(""), "");
    }
}
