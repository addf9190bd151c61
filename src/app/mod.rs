//! Use cases: what the API handlers call.
//!
//! Each function validates its whole input first, then writes through the [`Store`] in one
//! call (one transaction), then tells the boot read model that the world changed. Handlers
//! never touch the store themselves, and nothing here speaks HTTP: errors are [`AppError`]
//! values that the API turns into problem+json.

pub mod artifacts;
pub mod audit;
pub mod boot_bind;
pub mod boot_index;
pub mod bos;
pub mod bss;
pub mod capmc;
pub mod cfs;
pub mod dhcp;
pub mod endpoint_access;
pub mod identity;
mod identity_cache;
pub mod images;
pub mod inventory;
pub mod ports;
pub mod power;
pub mod rack;
pub mod timeline;

use std::sync::Arc;

use crate::activation::{BosPokes, Pokes, Reports};
use crate::handoff::{ConfigHandoff, Handoff};
use crate::store::{Store, StoreError};

pub use boot_index::BootIndexCache;
pub use endpoint_access::AccessRecorder;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the role needed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Something the appliance depends on (an artifact origin) failed; names it and why.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn bad(msg: impl Into<String>) -> AppError {
        AppError::BadRequest(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> AppError {
        AppError::NotFound(msg.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Settings the use cases need (validated by `config` before they get here).
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The base URL nodes use to reach the appliance, without a trailing slash.
    pub advertise_url: String,
    /// `sleep` before a failed boot chains back for a new script (BSS_RETRY_DELAY).
    pub boot_retry_delay_secs: u64,
    /// The iPXE binaries (also served over TFTP).
    pub ipxe_dir: std::path::PathBuf,
    /// Largest image artifact upload accepted.
    pub max_upload_bytes: u64,
    /// Serve a node's boot plane only to its known addresses (when it has any).
    pub boot_plane_bind: bool,
    /// Boot-plane requests per second per client address, unless off.
    pub boot_rate_limit: Option<u32>,
}

/// The application: the store, the read models, the settings and the operator pokes.
pub struct App {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) settings: AppSettings,
    pub(crate) boot: BootIndexCache,
    pub(crate) access: AccessRecorder,
    /// BSS writes check-then-write (POST refuses existing hosts); one at a time.
    pub(crate) bss_writes: tokio::sync::Mutex<()>,
    /// Latest power samples (written by the power operators, read by power-status).
    pub(crate) power: Arc<crate::power::PowerCache>,
    breakers: Arc<crate::power::breaker::Breakers>,
    pub(crate) pokes: Pokes,
    pub(crate) reports: Reports,
    /// Keys the per-node artifact tokens (kept in the data directory, so tokens survive
    /// a restart).
    pub(crate) artifact_secret: Arc<[u8]>,
    /// The boot-artifact cache in front of the artifact source.
    pub(crate) artifacts: Arc<crate::artifacts::cache::ArtifactCache>,
    pub(crate) timeline: timeline::Timeline,
    pub(crate) bos_pokes: BosPokes,
    /// The built-in CFS (served at `/apis/cfs/v3` when it is the handoff).
    pub(crate) cfs: Arc<cfs::Cfs>,
    /// Where BOS hands booted nodes for configuration.
    pub(crate) handoff: Arc<dyn ConfigHandoff>,
    pub(crate) cfs_builtin: bool,
    /// Users, tokens, logins and the audit trail.
    pub(crate) identity: Arc<identity::Identity>,
    /// The boot plane's per-address request limit, unless off.
    pub(crate) boot_rate: Option<crate::security::rate::RateLimit>,
    /// Artifact pins already checked: (token, name) → (ETag, size).
    pub(crate) artifact_pins:
        std::sync::Mutex<std::collections::HashMap<(String, String), (String, u64)>>,
    /// This replica among the others (`cluster`), and how it tells them of changes.
    pub(crate) cluster: crate::cluster::status::Membership,
    pub(crate) bus: crate::cluster::bus::Bus,
    /// The console's rack snapshot, shared by every viewer.
    pub(crate) rack: rack::RackCache,
}

/// What the application is built from (made by the composition root, `crate::start`).
pub struct AppParts {
    pub store: Arc<dyn Store>,
    pub settings: AppSettings,
    pub artifacts: Arc<crate::artifacts::cache::ArtifactCache>,
    pub artifact_secret: Arc<[u8]>,
    pub handoff: Handoff,
    pub pokes: Pokes,
    pub bos_pokes: BosPokes,
    pub reports: Reports,
    pub identity: identity::IdentityConfig,
    /// Every BMC's circuit breaker (shared with the power driver).
    pub breakers: Arc<crate::power::breaker::Breakers>,
    /// This replica among the others; [`crate::cluster::status::Membership::single`] for
    /// a SQLite appliance.
    pub cluster: crate::cluster::status::Membership,
    /// Tells the other replicas of changes ([`crate::cluster::bus::Bus::default`]: none).
    pub bus: crate::cluster::bus::Bus,
}

impl App {
    pub fn new(parts: AppParts) -> Arc<App> {
        let AppParts {
            store,
            settings,
            artifacts,
            artifact_secret,
            handoff,
            pokes,
            bos_pokes,
            reports,
            identity,
            breakers,
            cluster,
            bus,
        } = parts;
        let cfs = Arc::new(cfs::Cfs::new(
            store.clone(),
            cfs::CfsPokes {
                status: bos_pokes.status.clone(),
                configuration: bos_pokes.configuration.clone(),
                bus: bus.clone(),
            },
        ));
        let cfs_builtin = matches!(handoff, Handoff::Builtin);
        let store_for_identity = store.clone();
        let settings_rate = settings.boot_rate_limit;
        let handoff: Arc<dyn ConfigHandoff> = match handoff {
            Handoff::Builtin => Arc::new(cfs::handoff::BuiltinHandoff(cfs.clone())),
            Handoff::None => Arc::new(crate::handoff::NoHandoff),
            Handoff::Service(h) => h,
        };
        Arc::new(App {
            boot: BootIndexCache::new(store.clone(), artifact_secret.clone()),
            artifact_secret,
            artifacts,
            timeline: timeline::Timeline::default(),
            access: AccessRecorder::new(store.clone()),
            store,
            settings,
            bss_writes: tokio::sync::Mutex::new(()),
            power: Arc::default(),
            breakers,
            pokes,
            reports,
            bos_pokes,
            cfs,
            handoff,
            cfs_builtin,
            identity: Arc::new(identity::Identity::new(
                store_for_identity,
                identity,
                bus.clone(),
            )),
            artifact_pins: Default::default(),
            boot_rate: settings_rate
                .map(|r| crate::security::rate::RateLimit::new(r, r.saturating_mul(5))),
            cluster,
            bus,
            rack: Default::default(),
        })
    }

    /// Users, tokens, logins and the audit trail.
    pub fn identity(&self) -> &Arc<identity::Identity> {
        &self.identity
    }

    /// Whether the boot plane has a per-address request limit at all.
    pub fn boot_rate_limited(&self) -> bool {
        self.boot_rate.is_some()
    }

    /// Whether `ip` may make another boot-plane request now (`boot_rate_limit`).
    pub fn admit_boot_request(&self, ip: std::net::IpAddr) -> bool {
        self.boot_rate.as_ref().is_none_or(|r| r.admit(ip))
    }

    /// A node's boot timeline (oldest first); 404 for a node the inventory does not know.
    pub async fn timeline(
        &self,
        node: &crate::model::Xname,
    ) -> AppResult<Vec<timeline::BootEvent>> {
        if self.store.get_component(node).await?.is_none() {
            return Err(AppError::not_found(format!("no such node: {node}")));
        }
        Ok(self.timeline.events(node))
    }

    pub fn record_boot_event(&self, node: &crate::model::Xname, event: timeline::BootEvent) {
        self.bus.event(node, &event);
        self.timeline.record(node, event);
    }

    /// This replica, the others, and who leads (`GET /apis/rackboot/v1/cluster`).
    pub async fn cluster_status(&self) -> AppResult<crate::cluster::status::ClusterView> {
        Ok(self.cluster.status().await?)
    }

    /// Whether this replica leads the operators (always, with SQLite).
    pub fn leadership(&self) -> crate::cluster::Leadership {
        self.cluster.leadership.clone()
    }

    /// `single` (SQLite), `leader` or `follower` (PostgreSQL replicas).
    pub fn cluster_role(&self) -> &'static str {
        match (&self.cluster.backend, self.cluster.leadership.leading()) {
            (None, _) => "single",
            (Some(_), true) => "leader",
            (Some(_), false) => "follower",
        }
    }

    /// What another replica said changed: drop the read model here.
    pub fn changed_elsewhere(&self, topic: crate::cluster::bus::Topic) {
        use crate::cluster::bus::Topic;
        match topic {
            Topic::Boot => self.boot.invalidate(),
            Topic::Identity => self.identity.forget_cached(),
            Topic::CfsOptions => {
                let cfs = self.cfs.clone();
                tokio::spawn(async move {
                    if let Err(e) = cfs.load_options().await {
                        tracing::warn!(error = %crate::errors::chain(&e), "cannot re-read the CFS options another replica changed");
                    }
                });
            }
        }
    }

    /// A boot event another replica recorded.
    pub fn record_boot_event_elsewhere(
        &self,
        node: &crate::model::Xname,
        event: timeline::BootEvent,
    ) {
        self.timeline.record(node, event);
    }

    /// Read the built-in CFS's stored options into its cache (at start).
    pub async fn load_cfs_options(&self) -> AppResult<()> {
        self.cfs.load_options().await
    }

    /// The built-in CFS, if it is the configuration handoff.
    pub fn builtin_cfs(&self) -> Option<&Arc<cfs::Cfs>> {
        self.cfs_builtin.then_some(&self.cfs)
    }

    pub fn handoff(&self) -> Arc<dyn crate::handoff::ConfigHandoff> {
        self.handoff.clone()
    }

    pub fn pokes(&self) -> &Pokes {
        &self.pokes
    }

    /// The BMCs whose calls have been failing, with their circuit state.
    pub fn bmc_health(&self) -> Vec<crate::power::breaker::BmcHealth> {
        self.breakers.snapshot()
    }

    pub fn power_cache(&self) -> Arc<crate::power::PowerCache> {
        self.power.clone()
    }

    /// The last report of every operator.
    pub fn operator_reports(&self) -> Vec<crate::activation::Report> {
        self.reports.all()
    }

    pub fn reports(&self) -> Reports {
        self.reports.clone()
    }

    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// Write recorded endpoint accesses to the store (called periodically and at shutdown).
    pub async fn flush_access(&self) -> AppResult<()> {
        Ok(self.access.flush().await?)
    }

    /// Whether the store answers: used by `/readyz`.
    pub async fn ready(&self) -> AppResult<()> {
        self.store
            .get_component(&crate::model::Xname::parse("x0").expect("x0 is an xname"))
            .await?;
        Ok(())
    }

    /// Every write that can change what a node boots ends here.
    fn changed(&self) {
        self.boot.invalidate();
        self.bus.changed(crate::cluster::bus::Topic::Boot);
        self.bos_pokes.discovery.poke();
    }

    /// An operator changed the inventory (discovery found nodes or MACs).
    pub fn inventory_changed(&self) {
        self.changed();
        self.pokes.events.poke();
    }
}
