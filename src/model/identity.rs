//! Users, their API tokens, and the audit trail of what they changed.

use chrono::{DateTime, Utc};

use crate::auth::Role;

/// A person (or service account) who can log in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// argon2id, PHC format. Never leaves the store through the API.
    pub password_hash: String,
    /// Raised when the password or role changes: tokens from logins before then stop working.
    pub epoch: i64,
    pub created: DateTime<Utc>,
}

/// An API token: its secret is only ever stored as a hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiToken {
    /// 12 hex characters, the public half of the token.
    pub id: String,
    pub name: String,
    pub owner: String,
    /// At most the owner's role when it was made; the owner's current role caps it too.
    pub role: Role,
    pub secret_sha256: String,
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
}

/// What happened on the control plane: one record per state-changing call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub time: DateTime<Utc>,
    /// Who, as authenticated ("anonymous" when refused before that).
    pub who: String,
    pub role: Option<Role>,
    /// How they proved it: api-token <id>, login, site <issuer>, no-auth.
    pub credential: String,
    pub method: String,
    pub path: String,
    pub client: String,
    pub status: u16,
}

pub const NAME_RULE: &str =
    "1 to 64 characters: letters, digits, '.', '_', '-' and '@', starting with a letter or digit";

/// A user or token name.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid {what} name '{name}': {NAME_RULE}"))
    }
}
