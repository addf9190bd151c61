//! The appliance's own tokens for `cray auth login`: what the Keycloak token endpoint hands
//! out (an access token and a refresh token, both JWTs signed HS256 with a key file in the
//! data directory that only this appliance reads).
//!
//! Each token carries its user's `epoch`: changing a user's password or role, or deleting
//! the user, raises it, so every token issued before stops working at once even though it
//! has not expired (the check against the store is in `app::identity`).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::Role;

/// The `iss` of every token this appliance issues.
pub const ISSUER: &str = "rackboot";

/// Tolerated clock difference when checking `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Bearer,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    /// Keycloak's name for the user, which tools display.
    pub preferred_username: String,
    pub role: Role,
    pub typ: Kind,
    pub epoch: i64,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Signs and checks this appliance's tokens.
pub struct Issuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issuer(***)")
    }
}

impl Issuer {
    pub fn new(key: &[u8]) -> Issuer {
        Issuer {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
        }
    }

    /// A token of `kind` for `user`, valid `ttl_secs` from `now` (Unix seconds).
    pub fn sign(
        &self,
        user: &str,
        role: Role,
        epoch: i64,
        kind: Kind,
        now: i64,
        ttl_secs: i64,
    ) -> String {
        let id: String = super::random_bytes::<12>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let claims = Claims {
            iss: ISSUER.into(),
            sub: user.into(),
            preferred_username: user.into(),
            role,
            typ: kind,
            epoch,
            iat: now,
            exp: now + ttl_secs,
            jti: id,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The claims of a token this appliance issued, of the `kind` wanted, if its signature
    /// holds and it has not expired; otherwise why not.
    pub fn verify(&self, token: &str, kind: Kind) -> Result<Claims, String> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.leeway = LEEWAY_SECS;
        v.validate_aud = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|e| format!("the token is not valid: {e}"))?;
        if data.claims.typ != kind {
            return Err(format!(
                "a {:?} token was expected, not a {:?} token",
                kind, data.claims.typ
            ));
        }
        Ok(data.claims)
    }
}

/// Whether `token` looks like a JWT this appliance issued (its `iss`), read without
/// checking anything: only to choose which verifier to ask.
pub fn issued_here(token: &str) -> bool {
    unverified_issuer(token).as_deref() == Some(ISSUER)
}

/// The `iss` claim of a JWT, unverified.
pub fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("iss")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_key_kind_and_time_only() {
        let now = chrono::Utc::now().timestamp();
        let issuer = Issuer::new(b"0123456789abcdef0123456789abcdef");
        let t = issuer.sign("ann", Role::Operator, 3, Kind::Bearer, now, 60);
        let c = issuer.verify(&t, Kind::Bearer).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.role, c.epoch),
            ("ann", Role::Operator, 3)
        );
        assert!(issued_here(&t));
        assert!(
            issuer.verify(&t, Kind::Refresh).is_err(),
            "an access token is no refresh token"
        );
        let other = Issuer::new(b"another key, another appliance..");
        assert!(other.verify(&t, Kind::Bearer).is_err(), "wrong key");
        let old = issuer.sign("ann", Role::Operator, 3, Kind::Bearer, now - 3600, 60);
        let e = issuer.verify(&old, Kind::Bearer).unwrap_err();
        assert!(e.contains("xpired"), "{e}");
    }
}
