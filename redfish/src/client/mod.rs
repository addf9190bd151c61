//! The Redfish client: one [`Bmc`] per BMC, created from a shared [`Pool`].
//!
//! Every request goes through one request path, which is where the rules live: a global and
//! a per-BMC concurrency cap (BMCs are small computers and fall over under parallel load),
//! authentication (Basic, or an `X-Auth-Token` session that is created once, reused,
//! re-created once on a 401 and deleted on [`Bmc::logout`]), timeouts, and retries with
//! backoff for answers that mean "busy, try again" (503, connection resets, and known busy
//! MessageIds). Errors are [`Error`](crate::Error) values that name the BMC and the cause.
//!
//! Layout, from the wire inwards:
//! - `pool`: the shared HTTP clients per TLS trust mode (one connection pool for every BMC
//!   trusted the same way) and the global cap;
//! - `transport`: one request with caps, credentials, error mapping and the retry loop;
//! - `session`: Basic or `X-Auth-Token` sessions (login, re-login, logout);
//! - `retry`: the retry policy as pure functions (which answers are worth another try, how
//!   long to wait) and the one retry loop every request path runs;
//! - `resources`: reads (service root, systems, power state, reset types, discovery);
//! - `actions`: writes (reset with the reset-type check, boot override with read-back);
//! - `events`: the EventService's Server-Sent Events stream.
//!
//! Only `resources` and `actions` know Redfish resources; `transport`, `session` and
//! `retry` know HTTP and Redfish error bodies, nothing else.

mod actions;
mod events;
mod pool;
mod resources;
mod retry;
mod session;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use url::Url;

use crate::tls::TlsTrust;

pub use actions::{
    BootApplied, BootOutcome, BootOverride, BootWhen, PowerReading, RESTART_MARKERS,
};
pub use events::{EventRecord, FollowEnd, SseParser, StreamItem, records};
pub use pool::Pool;
pub use resources::{Discovery, ManagerInfo, Problem, SystemInfo};
pub use transport::Reply;

/// The service root, where every BMC starts.
const ROOT: &str = "/redfish/v1/";

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// A session when the service root advertises `Links.Sessions`, else Basic.
    #[default]
    Auto,
    Basic,
    Session,
}

/// Everything needed to talk to one BMC.
#[derive(Clone)]
pub struct BmcConfig {
    /// `https://host[:port]` (or `http://` for simulators); any path is ignored.
    pub url: String,
    pub username: String,
    pub password: String,
    pub trust: TlsTrust,
    pub auth: AuthMode,
    /// Per request.
    pub timeout: Duration,
    /// Extra attempts for busy answers and connection resets.
    pub retries: u32,
    /// Delay before the first retry; doubles each time.
    pub backoff: Duration,
    /// Requests in flight to this BMC at once.
    pub max_concurrency: usize,
}

impl BmcConfig {
    pub fn new(
        url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> BmcConfig {
        BmcConfig {
            url: url.into(),
            username: username.into(),
            password: password.into(),
            trust: TlsTrust::System,
            auth: AuthMode::Auto,
            timeout: Duration::from_secs(20),
            retries: 3,
            backoff: Duration::from_millis(200),
            max_concurrency: 2,
        }
    }
}

impl std::fmt::Debug for BmcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BmcConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"***")
            .field("trust", &self.trust)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// A client for one BMC.
pub struct Bmc {
    cfg: BmcConfig,
    base: Url,
    label: String,
    http: reqwest::Client,
    connect_timeout: Duration,
    per_bmc: Semaphore,
    global: Arc<Semaphore>,
    auth: tokio::sync::Mutex<session::AuthState>,
}

impl std::fmt::Debug for Bmc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bmc").field("bmc", &self.label).finish()
    }
}

impl Bmc {
    /// `host:port` of the BMC, as errors name it.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn config(&self) -> &BmcConfig {
        &self.cfg
    }

    /// The retry budget and base delay every request path of this BMC uses.
    fn backoff(&self) -> retry::Backoff {
        retry::Backoff {
            base: self.cfg.backoff,
            retries: self.cfg.retries,
        }
    }
}
