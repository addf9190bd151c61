//! API tokens: `rbt_<id>_<secret>`, shown once at creation.
//!
//! The id (12 hex characters) names the token in listings, the audit log and revocation;
//! the secret (32 random bytes, base64url) is kept only as its SHA-256. A slow hash is not
//! needed here, unlike passwords: the secret is random, not chosen by a person, so there is
//! nothing to guess, and a fast hash keeps every authenticated request cheap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const PREFIX: &str = "rbt_";

/// A newly minted token: what to show once, and what to store.
pub struct Minted {
    pub id: String,
    /// The whole token, for the caller (never stored).
    pub token: String,
    pub secret_sha256: String,
}

pub fn mint() -> Minted {
    let id: String = super::random_bytes::<6>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = URL_SAFE_NO_PAD.encode(super::random_bytes::<32>());
    Minted {
        token: format!("{PREFIX}{id}_{secret}"),
        secret_sha256: digest(&secret),
        id,
    }
}

/// Split a presented token into its id and secret; `None` if it is not one of ours.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty();
    ok.then_some((id, secret))
}

pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `secret` hashes to `stored` (compared in constant time).
pub fn matches(secret: &str, stored: &str) -> bool {
    let got = digest(secret);
    got.len() == stored.len()
        && got
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn minted_tokens_parse_and_match_only_themselves() {
        let m = super::mint();
        let (id, secret) = super::parse(&m.token).expect("ours");
        assert_eq!(id, m.id);
        assert!(super::matches(secret, &m.secret_sha256));
        assert!(!super::matches("other", &m.secret_sha256));
        assert!(!m.token.contains(&m.secret_sha256));
        assert_ne!(super::mint().token, m.token);
    }

    #[test]
    fn foreign_strings_are_not_tokens() {
        for t in [
            "",
            "rbt_",
            "rbt_abc_x",
            "eyJhbGciOi.x.y",
            "rbt_zzzzzzzzzzzz_x",
            "rbt_0123456789ab_",
        ] {
            assert!(super::parse(t).is_none(), "{t}");
        }
    }
}
