//! JWTs from the site's identity provider (a site Keycloak, OpenCHAMI's issuer): checked
//! against the issuer's JWKS, with the role taken from a claim through a mapping, e.g.
//! `realm_access.roles` values `{"shasta-admin" = "admin", "shasta-user" = "read-only"}`.
//!
//! The key set is fetched on first use and again when a token names a key id the cached
//! set lacks (the provider rotated its keys), at most once per [`REFETCH_EVERY`], so a
//! stream of forged key ids cannot make the appliance hammer the provider.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use tokio::sync::Mutex;

use super::Role;

const REFETCH_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The `iss` every accepted token must carry.
    pub issuer: String,
    pub jwks_url: url::Url,
    /// The `aud` tokens must carry, when set.
    pub audience: Option<String>,
    /// Dotted path of the claim holding role names (a string or a list of strings).
    pub role_claim: String,
    /// Dotted path of the claim naming the user.
    pub username_claim: String,
    /// Claim value → role; the highest mapped role wins.
    pub roles: BTreeMap<String, Role>,
    /// PEM CA to trust for the JWKS URL, beside the system roots.
    pub ca_pem: Option<String>,
}

/// A verified site identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteIdentity {
    pub name: String,
    pub role: Role,
}

pub struct SiteIssuer {
    config: OidcConfig,
    http: reqwest::Client,
    keys: Mutex<Option<(JwkSet, Instant)>>,
}

impl SiteIssuer {
    pub fn new(config: OidcConfig) -> Result<SiteIssuer, String> {
        let mut b = reqwest::Client::builder().timeout(Duration::from_secs(10));
        if let Some(pem) = &config.ca_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| format!("oidc_ca_file: {e}"))?;
            b = b.tls_certs_merge([cert]);
        }
        let http = b.build().map_err(|e| format!("OIDC HTTP client: {e}"))?;
        Ok(SiteIssuer {
            config,
            http,
            keys: Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Check `token` and map it to a name and role, or say why not.
    pub async fn verify(&self, token: &str) -> Result<SiteIdentity, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
        // A site's keys are public: a symmetric algorithm would let anyone who read them
        // sign (the algorithm-confusion attack), so only signatures are accepted.
        use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
        if matches!(header.alg, HS256 | HS384 | HS512) {
            return Err(format!(
                "the site token is signed with {:?}; a site issuer's tokens must use a public-key algorithm",
                header.alg
            ));
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[self.config.issuer.as_str()]);
        v.leeway = 5;
        match &self.config.audience {
            Some(a) => v.set_audience(&[a.as_str()]),
            None => v.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &v)
            .map_err(|e| format!("the site token is not valid: {e}"))?;
        map_claims(&self.config, &data.claims)
    }

    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, String> {
        let mut cached = self.keys.lock().await;
        let find = |set: &JwkSet| match kid {
            Some(k) => set.find(k).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        if let Some((set, _)) = cached.as_ref()
            && let Some(jwk) = find(set)
        {
            return DecodingKey::from_jwk(&jwk).map_err(|e| format!("site key {kid:?}: {e}"));
        }
        let stale = cached
            .as_ref()
            .is_none_or(|(_, at)| at.elapsed() >= REFETCH_EVERY);
        if stale {
            let set = self.fetch().await?;
            *cached = Some((set, Instant::now()));
        }
        let set = &cached.as_ref().expect("fetched above").0;
        let jwk = find(set).ok_or_else(|| {
            format!(
                "the site issuer's key set ({}) has no key {}",
                self.config.jwks_url,
                kid.unwrap_or("(none named)")
            )
        })?;
        DecodingKey::from_jwk(&jwk).map_err(|e| format!("site key {kid:?}: {e}"))
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let url = &self.config.jwks_url;
        let resp = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("fetching the site issuer's keys from {url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!(
                "fetching the site issuer's keys from {url}: HTTP {}",
                resp.status()
            ));
        }
        resp.json::<JwkSet>()
            .await
            .map_err(|e| format!("the site issuer's keys at {url} are not a JWKS: {e}"))
    }
}

fn claim<'a>(claims: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(claims, |v, k| v.get(k))
}

/// The name and the highest mapped role of verified claims.
pub fn map_claims(config: &OidcConfig, claims: &serde_json::Value) -> Result<SiteIdentity, String> {
    let name = claim(claims, &config.username_claim)
        .or_else(|| claims.get("sub"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            format!(
                "the site token has no {} or sub claim",
                config.username_claim
            )
        })?
        .to_string();
    let values: Vec<&str> = match claim(claims, &config.role_claim) {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    let role = values
        .iter()
        .filter_map(|v| config.roles.get(*v).copied())
        .max()
        .ok_or_else(|| {
            format!(
                "the site token of {name} maps to no role: its {} claim holds {values:?}, and oidc_roles maps {:?}",
                config.role_claim,
                config.roles.keys().collect::<Vec<_>>()
            )
        })?;
    Ok(SiteIdentity { name, role })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_mapped_role_wins_and_unmapped_tokens_have_none() {
        let config = OidcConfig {
            issuer: "https://idp".into(),
            jwks_url: "https://idp/keys".parse().unwrap(),
            audience: None,
            role_claim: "realm_access.roles".into(),
            username_claim: "preferred_username".into(),
            roles: [
                ("viewer".to_string(), Role::ReadOnly),
                ("ops".to_string(), Role::Operator),
            ]
            .into(),
            ca_pem: None,
        };
        let c = serde_json::json!({"sub": "u1", "preferred_username": "ann", "realm_access": {"roles": ["viewer", "ops", "x"]}});
        assert_eq!(
            map_claims(&config, &c).unwrap(),
            SiteIdentity {
                name: "ann".into(),
                role: Role::Operator
            }
        );
        let c = serde_json::json!({"sub": "u1", "realm_access": {"roles": ["x"]}});
        assert!(
            map_claims(&config, &c)
                .unwrap_err()
                .contains("maps to no role")
        );
    }
}
