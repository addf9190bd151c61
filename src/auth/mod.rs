//! Who is calling the control plane, and what they may do.
//!
//! Three roles, each including the one below it: `read-only` reads everything, `operator`
//! also acts (sessions, power, staged state, component enable/disable), `admin` also
//! changes what the rack is (inventory, credentials, boot parameters, images, options,
//! users). A caller proves who it is with an API token (`rbt_…`, hashed at rest), an access
//! token from the appliance's own login endpoint (what `cray auth login` gets), or a JWT
//! from the site's identity provider. The pure parts live here (hashing, token formats,
//! JWT checks); the store-backed use cases are in `app::identity`, the route table and
//! its middleware in `api::access`.

pub mod api_token;
pub mod jwt;
pub mod oidc;
pub mod password;

use std::fmt;

/// A role, ordered: each includes what the ones before it may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ReadOnly,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::ReadOnly, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ReadOnly => "read-only",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("unknown role '{s}': one of read-only, operator, admin"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Credential {
    /// An API token, by its id (never its secret).
    ApiToken { id: String },
    /// An access token from this appliance's login endpoint.
    Login,
    /// A JWT from the site's identity provider.
    Site { issuer: String },
    /// `--no-auth`: nobody was asked.
    NoAuth,
}

/// How the audit trail names it.
impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ApiToken { id } => write!(f, "api-token {id}"),
            Credential::Login => f.write_str("login"),
            Credential::Site { issuer } => write!(f, "site {issuer}"),
            Credential::NoAuth => f.write_str("no-auth"),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub credential: Credential,
}

impl Principal {
    /// Everyone, when the appliance runs with `--no-auth`.
    pub fn no_auth() -> Principal {
        Principal {
            name: "anonymous (--no-auth)".into(),
            role: Role::Admin,
            credential: Credential::NoAuth,
        }
    }
}

/// Fresh random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}
