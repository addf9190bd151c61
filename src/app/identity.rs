//! Identity use cases: who a bearer token stands for, logins (the `cray auth login`
//! exchange), users, API tokens, the first admin, and the audit trail.
//!
//! Every check reads the store through `identity_cache`, which every write here clears, so a
//! deleted user, a changed password or role, or a revoked or expired token stops working on
//! the very next request.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{AppError, AppResult};
use crate::auth::oidc::SiteIssuer;
use crate::auth::{Credential, Principal, Role, api_token, jwt, password};
use crate::model::identity::{ApiToken, AuditRecord, User, check_name};
use crate::store::Store;

/// How long a refresh token from a login lasts.
const REFRESH_TTL_SECS: i64 = 8 * 3600;

/// What the identity use cases are built from.
pub struct IdentityConfig {
    pub no_auth: bool,
    /// Key of the login endpoint's tokens (32 bytes from `<data-dir>/jwt.key`).
    pub jwt_key: [u8; 32],
    pub site: Option<SiteIssuer>,
    pub access_ttl_secs: i64,
}

impl Default for IdentityConfig {
    fn default() -> IdentityConfig {
        IdentityConfig {
            no_auth: false,
            jwt_key: crate::auth::random_bytes::<32>(),
            site: None,
            access_ttl_secs: 3600,
        }
    }
}

pub struct Identity {
    store: Arc<dyn Store>,
    cache: super::identity_cache::IdentityCache,
    /// The other replicas, told when users or tokens change.
    bus: crate::cluster::bus::Bus,
    audit: Arc<super::audit::AuditTrail>,
    issuer: jwt::Issuer,
    site: Option<SiteIssuer>,
    pub no_auth: bool,
    access_ttl_secs: i64,
}

/// A user as the API shows it: no password hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub created: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            name: u.name,
            role: u.role,
            created: u.created,
        }
    }
}

/// A token as the API shows it: its id and name, never its secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub role: Role,
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name,
            owner: t.owner,
            role: t.role,
            created: t.created,
            expires: t.expires,
        }
    }
}

/// The login endpoint's answer (OAuth2 token response, as Keycloak shapes it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub token_type: &'static str,
    pub scope: &'static str,
}

fn unauthorized(msg: impl Into<String>) -> AppError {
    AppError::Unauthorized(msg.into())
}

impl Identity {
    pub fn new(
        store: Arc<dyn Store>,
        c: IdentityConfig,
        bus: crate::cluster::bus::Bus,
    ) -> Identity {
        Identity {
            bus,
            cache: Default::default(),
            audit: Arc::new(super::audit::AuditTrail::new(store.clone())),
            store,
            issuer: jwt::Issuer::new(&c.jwt_key),
            site: c.site,
            no_auth: c.no_auth,
            access_ttl_secs: c.access_ttl_secs,
        }
    }

    /// After a write: drop the cached users and tokens here and on every other replica.
    fn forget(&self) {
        self.cache.forget();
        self.bus.changed(crate::cluster::bus::Topic::Identity);
    }

    /// Another replica changed users or tokens: drop what is cached here.
    pub fn forget_cached(&self) {
        self.cache.forget();
    }

    /// Who `bearer` (the `Authorization: Bearer` value) stands for.
    pub async fn authenticate(&self, bearer: &str) -> AppResult<Principal> {
        let now = Utc::now();
        if let Some((id, secret)) = api_token::parse(bearer) {
            let t = self
                .token(id)
                .await?
                .filter(|t| api_token::matches(secret, &t.secret_sha256))
                .ok_or_else(|| {
                    unauthorized(format!(
                        "API token {id} is not valid (revoked, or never issued)"
                    ))
                })?;
            if t.expires.is_some_and(|e| e <= now) {
                return Err(unauthorized(format!(
                    "API token {id} ({}) has expired",
                    t.name
                )));
            }
            let owner = self.user(&t.owner).await?.ok_or_else(|| {
                unauthorized(format!(
                    "API token {id}: its user {} no longer exists",
                    t.owner
                ))
            })?;
            return Ok(Principal {
                name: t.owner,
                role: t.role.min(owner.role),
                credential: Credential::ApiToken { id: t.id },
            });
        }
        if jwt::issued_here(bearer) {
            let c = self
                .issuer
                .verify(bearer, jwt::Kind::Bearer)
                .map_err(unauthorized)?;
            let u = self.current_user(&c).await?;
            return Ok(Principal {
                name: u.name,
                role: u.role,
                credential: Credential::Login,
            });
        }
        if let Some(site) = &self.site {
            let id = site.verify(bearer).await.map_err(unauthorized)?;
            return Ok(Principal {
                name: id.name,
                role: id.role,
                credential: Credential::Site {
                    issuer: site.issuer().to_string(),
                },
            });
        }
        Err(unauthorized(
            "the bearer token is neither an API token nor a token from this appliance's login (and no site issuer is configured)",
        ))
    }

    /// The user a login token names, if the token is still theirs (same epoch).
    async fn token(&self, id: &str) -> AppResult<Option<ApiToken>> {
        if let Some(t) = self.cache.token(id) {
            return Ok(t);
        }
        let t = self.store.get_api_token(id).await?;
        self.cache.put_token(id, t.clone());
        Ok(t)
    }

    async fn user(&self, name: &str) -> AppResult<Option<User>> {
        if let Some(u) = self.cache.user(name) {
            return Ok(u);
        }
        let u = self.store.get_user(name).await?;
        self.cache.put_user(name, u.clone());
        Ok(u)
    }

    async fn current_user(&self, c: &jwt::Claims) -> AppResult<User> {
        let u = self
            .user(&c.sub)
            .await?
            .ok_or_else(|| unauthorized(format!("user {} no longer exists", c.sub)))?;
        if u.epoch != c.epoch {
            return Err(unauthorized(format!(
                "the token of {} was issued before its password or role changed; log in again",
                c.sub
            )));
        }
        Ok(u)
    }

    fn tokens_for(&self, u: &User) -> TokenResponse {
        let now = Utc::now().timestamp();
        TokenResponse {
            access_token: self.issuer.sign(
                &u.name,
                u.role,
                u.epoch,
                jwt::Kind::Bearer,
                now,
                self.access_ttl_secs,
            ),
            expires_in: self.access_ttl_secs,
            refresh_token: self.issuer.sign(
                &u.name,
                u.role,
                u.epoch,
                jwt::Kind::Refresh,
                now,
                REFRESH_TTL_SECS,
            ),
            refresh_expires_in: REFRESH_TTL_SECS,
            token_type: "Bearer",
            scope: "openid",
        }
    }

    /// OAuth2 password grant.
    pub async fn login(&self, user: &str, pw: &str) -> AppResult<TokenResponse> {
        let refused = || unauthorized("Invalid user credentials");
        let u = self.store.get_user(user).await?;
        // Verify against a dummy hash for unknown users too, so timing does not say who exists.
        let hash = u
            .as_ref()
            .map_or(DUMMY_HASH.as_str(), |u| u.password_hash.as_str());
        if !password::verify(pw, hash) {
            return Err(refused());
        }
        let u = u.ok_or_else(refused)?;
        Ok(self.tokens_for(&u))
    }

    /// OAuth2 refresh grant.
    pub async fn refresh(&self, refresh_token: &str) -> AppResult<TokenResponse> {
        let c = self
            .issuer
            .verify(refresh_token, jwt::Kind::Refresh)
            .map_err(|e| unauthorized(format!("Invalid refresh token: {e}")))?;
        let u = self.current_user(&c).await?;
        Ok(self.tokens_for(&u))
    }

    /// First start with authentication on and no users: make `admin` with a random
    /// password written to `<data-dir>/initial-admin-password` (0600). Returns that file.
    pub async fn bootstrap(&self, data_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
        if self.no_auth || !self.store.list_users().await?.is_empty() {
            return Ok(None);
        }
        use base64::Engine;
        let pw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(crate::auth::random_bytes::<18>());
        let path = data_dir.join("initial-admin-password");
        crate::security::keyfile::write_private(&path, format!("{pw}\n").as_bytes())?;
        self.create_user("admin", Role::Admin, &pw).await?;
        Ok(Some(path))
    }

    pub async fn list_users(&self) -> AppResult<Vec<UserView>> {
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .map(UserView::from)
            .collect())
    }

    pub async fn create_user(&self, name: &str, role: Role, pw: &str) -> AppResult<UserView> {
        check_name("user", name).map_err(AppError::BadRequest)?;
        password::check_strength(pw).map_err(AppError::BadRequest)?;
        let u = User {
            name: name.into(),
            role,
            password_hash: password::hash(pw),
            epoch: 1,
            created: Utc::now(),
        };
        self.store.insert_user(&u).await.map_err(|e| match e {
            crate::store::StoreError::Conflict { what } => {
                AppError::Conflict(format!("{what} already exists"))
            }
            e => e.into(),
        })?;
        self.forget();
        Ok(u.into())
    }

    /// Change a user's password and/or role; tokens from earlier logins stop working.
    pub async fn update_user(
        &self,
        name: &str,
        role: Option<Role>,
        pw: Option<&str>,
    ) -> AppResult<UserView> {
        let mut u = self
            .store
            .get_user(name)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such user: {name}")))?;
        if let Some(p) = pw {
            password::check_strength(p).map_err(AppError::BadRequest)?;
            u.password_hash = password::hash(p);
        }
        if let Some(r) = role {
            if u.role == Role::Admin && r != Role::Admin {
                self.keep_an_admin(name).await?;
            }
            u.role = r;
        }
        u.epoch += 1;
        self.store.update_user(&u).await?;
        self.forget();
        Ok(u.into())
    }

    /// Refuse to leave no admin at all (deleting or demoting `name`).
    async fn keep_an_admin(&self, name: &str) -> AppResult<()> {
        let admins = self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.role == Role::Admin && u.name != name)
            .count();
        if admins == 0 && !self.no_auth {
            return Err(AppError::Conflict(format!(
                "{name} is the last admin: make another admin first, so the appliance is not left without one"
            )));
        }
        Ok(())
    }

    pub async fn delete_user(&self, name: &str) -> AppResult<()> {
        if self
            .store
            .get_user(name)
            .await?
            .is_some_and(|u| u.role == Role::Admin)
        {
            self.keep_an_admin(name).await?;
        }
        let deleted = self.store.delete_user(name).await?;
        self.forget();
        if !deleted {
            return Err(AppError::not_found(format!("no such user: {name}")));
        }
        Ok(())
    }

    /// A new API token for `owner` (the caller, or anyone when the caller is an admin),
    /// with at most the owner's role. Returns the view and the token, shown only now.
    pub async fn create_token(
        &self,
        caller: &Principal,
        owner: Option<&str>,
        name: &str,
        role: Option<Role>,
        ttl: Option<chrono::Duration>,
    ) -> AppResult<(TokenView, String)> {
        check_name("token", name).map_err(AppError::BadRequest)?;
        let owner = owner.unwrap_or(&caller.name);
        if owner != caller.name && caller.role < Role::Admin {
            return Err(AppError::Forbidden(format!(
                "only an admin can make tokens for others (you are {})",
                caller.name
            )));
        }
        let user = self.store.get_user(owner).await?.ok_or_else(|| {
            AppError::BadRequest(format!(
                "no such user: {owner} (tokens belong to users; site-issuer and --no-auth callers have none)"
            ))
        })?;
        let role = role.unwrap_or(user.role);
        if role > user.role {
            return Err(AppError::BadRequest(format!(
                "user {owner} is {}; a token cannot be {role}",
                user.role
            )));
        }
        if ttl.is_some_and(|t| t <= chrono::Duration::zero()) {
            return Err(AppError::bad("a token's lifetime must be positive"));
        }
        let m = api_token::mint();
        let now = Utc::now();
        let t = ApiToken {
            id: m.id,
            name: name.into(),
            owner: owner.into(),
            role,
            secret_sha256: m.secret_sha256,
            created: now,
            expires: ttl.map(|d| now + d),
        };
        self.store.insert_api_token(&t).await?;
        self.forget();
        Ok((t.into(), m.token))
    }

    /// The caller's tokens (everyone's for an admin).
    pub async fn list_tokens(&self, caller: &Principal) -> AppResult<Vec<TokenView>> {
        let all = self.store.list_api_tokens().await?;
        Ok(all
            .into_iter()
            .filter(|t| caller.role == Role::Admin || t.owner == caller.name)
            .map(TokenView::from)
            .collect())
    }

    pub async fn revoke_token(&self, caller: &Principal, id: &str) -> AppResult<()> {
        let t = self.store.get_api_token(id).await?;
        match t {
            Some(t) if caller.role == Role::Admin || t.owner == caller.name => {
                self.store.delete_api_token(id).await?;
                self.forget();
                Ok(())
            }
            _ => Err(AppError::not_found(format!("no such token: {id}"))),
        }
    }

    pub async fn record(&self, r: AuditRecord) {
        self.audit.record(r).await;
    }

    pub async fn audit(&self, since: DateTime<Utc>, limit: u32) -> AppResult<Vec<AuditRecord>> {
        self.audit.list(since, limit).await
    }

    pub async fn prune_audit(&self, before: DateTime<Utc>) -> AppResult<u64> {
        self.audit.prune(before).await
    }

    /// The audit trail's writer (run by `start`).
    pub fn audit_trail(&self) -> Arc<super::audit::AuditTrail> {
        self.audit.clone()
    }
}

static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password::hash("no user has this password"));
