//! What an operator unit test stands on: a temporary SQLite store, a SimBmc with a few
//! systems registered in it and discovered by the real discovery operator, the real
//! Redfish driver, a fixed clock, and the appliance's `App` over the same store for the
//! ports the BOS operators use (boot parameters, timelines, session status). No mocks:
//! every piece is the production implementation, or the simulator speaking real Redfish.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use redfish::sim::{SimBmc, SimConfig};

use super::bos::BosContext;
use super::discovery::Discovery;
use super::{Operator, Reports};
use crate::activation::{BosPokes, Pokes};
use crate::app::{App, AppParts, AppSettings};
use crate::clock::FixedClock;
use crate::handoff::Handoff;
use crate::model::redfish_endpoint::{DiscoveryInfo, RedfishEndpoint, discovery_status};
use crate::model::template::{BootSet, SessionTemplate};
use crate::model::{BmcTrust, BootComponent, Xname};
use crate::power::{PowerDriver, RedfishDriver, RedfishDriverSettings};
use crate::store::{SqliteStore, Store};

pub const BMC: &str = "x3000c0s1b0";

pub struct Kit {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub bmc: SimBmc,
    pub driver: Arc<dyn PowerDriver>,
    pub clock: FixedClock,
    pub app: Arc<App>,
    /// The nodes discovery named, in order.
    pub nodes: Vec<Xname>,
}

impl Kit {
    /// A store with one BMC of `systems` nodes, discovered; the clock at a fixed time.
    pub async fn new(systems: usize) -> Kit {
        Kit::with(SimConfig {
            systems,
            ..SimConfig::default()
        })
        .await
    }

    /// [`Kit::new`] with a BMC configured like a given vendor's.
    pub async fn with(cfg: SimConfig) -> Kit {
        let systems = cfg
            .mockup
            .as_ref()
            .map_or(cfg.systems, |m| m.system_paths().len());
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("rackboot.db"))
                .await
                .unwrap(),
        );
        let bmc = SimBmc::start(cfg).await.unwrap();
        let driver: Arc<dyn PowerDriver> = Arc::new(RedfishDriver::new(RedfishDriverSettings {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            ..Default::default()
        }));
        let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap());
        let artifacts_root = dir.path().join("artifacts");
        std::fs::create_dir_all(&artifacts_root).unwrap();
        let source = crate::artifacts::open_source(&crate::artifacts::SourceConfig::Local {
            root: artifacts_root,
        })
        .unwrap();
        let cache = crate::artifacts::cache::ArtifactCache::open(
            &dir.path().join("cache"),
            1 << 30,
            source,
        )
        .unwrap();
        let app = App::new(AppParts {
            store: store.clone(),
            settings: AppSettings {
                advertise_url: "http://127.0.0.1:8080".into(),
                boot_retry_delay_secs: 5,
                ipxe_dir: dir.path().join("ipxe"),
                max_upload_bytes: 1 << 30,
                boot_plane_bind: false,
                boot_rate_limit: None,
            },
            artifacts: Arc::new(cache),
            artifact_secret: vec![7u8; 32].into(),
            handoff: Handoff::Builtin,
            pokes: Pokes::default(),
            bos_pokes: BosPokes::default(),
            reports: Reports::default(),
            identity: Default::default(),
            breakers: Arc::new(crate::power::breaker::Breakers::new(Default::default())),
            cluster: crate::cluster::status::Membership::single("http://127.0.0.1:8080"),
            bus: Default::default(),
        });
        let addr = bmc.addr();
        store
            .insert_redfish_endpoints(&[RedfishEndpoint {
                id: Xname::parse(BMC).unwrap(),
                kind: "NodeBMC".into(),
                name: String::new(),
                hostname: String::new(),
                domain: String::new(),
                fqdn: format!("127.0.0.1:{}", addr.port()),
                enabled: true,
                uuid: String::new(),
                user: "admin".into(),
                password: crate::model::redfish_endpoint::Secret("password".into()),
                use_ssdp: false,
                mac_required: false,
                mac_addr: String::new(),
                ip_address: String::new(),
                rediscover_on_update: false,
                template_id: String::new(),
                discovery_info: DiscoveryInfo {
                    last_status: discovery_status::NOT_YET_QUERIED.into(),
                    ..Default::default()
                },
                scheme: "http".into(),
                trust: BmcTrust::Insecure,
                node_xnames: Vec::new(),
            }])
            .await
            .unwrap();
        let mut kit = Kit {
            dir,
            store,
            bmc,
            driver,
            clock,
            app,
            nodes: Vec::new(),
        };
        let report = kit.discovery().activate().await.unwrap();
        assert_eq!(report["discovered"], 1, "{report}");
        kit.nodes = kit
            .store
            .list_components()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(kit.nodes.len(), systems);
        kit
    }

    pub fn discovery(&self) -> Discovery {
        Discovery {
            store: self.store.clone(),
            driver: self.driver.clone(),
            clock: Arc::new(self.clock.clone()),
            concurrency: 4,
            tls_policy: Default::default(),
            monitor: Default::default(),
            inventory_changed: Arc::new(|| {}),
        }
    }

    /// The BOS operators' context over this kit (their pokes are the app's).
    pub fn bos(&self) -> BosContext {
        BosContext {
            store: self.store.clone(),
            driver: self.driver.clone(),
            handoff: self.app.handoff(),
            boot: self.app.clone(),
            events: self.app.clone(),
            sessions: self.app.clone(),
            pokes: self.app.bos_pokes().clone(),
            clock: Arc::new(self.clock.clone()),
            power_cache: self.app.power_cache(),
            power_max_age: Duration::from_secs(30),
            period: Duration::from_secs(3600),
            concurrency: 8,
            calls: Default::default(),
            reads: Default::default(),
            act_wait: Duration::from_secs(30),
            leadership: self.app.leadership(),
        }
    }

    /// A boot image in the local artifact source; returns its manifest's `s3://` path.
    pub fn image(&self, name: &str) -> String {
        let dir = self.dir.path().join("artifacts/boot-images").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kernel"), b"kernel").unwrap();
        std::fs::write(dir.join("initrd"), b"initrd").unwrap();
        let manifest = serde_json::json!({"version": "1.0", "created": "2026-12-01", "artifacts": [
            {"link": {"path": format!("s3://boot-images/{name}/kernel"), "etag": "k", "type": "s3"},
             "type": "application/vnd.cray.image.kernel"},
            {"link": {"path": format!("s3://boot-images/{name}/initrd"), "etag": "i", "type": "s3"},
             "type": "application/vnd.cray.image.initrd"}]});
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
        format!("s3://boot-images/{name}/manifest.json")
    }

    /// A session template booting `image` on every node of the kit.
    pub async fn template(&self, name: &str, image: &str, configuration: Option<&str>) {
        let t = SessionTemplate {
            name: name.into(),
            tenant: None,
            description: None,
            enable_cfs: configuration.is_some(),
            cfs: configuration.map(|c| crate::model::template::Cfs {
                configuration: Some(c.into()),
            }),
            boot_sets: [(
                "compute".to_string(),
                BootSet {
                    path: image.into(),
                    kind: "s3".into(),
                    node_list: Some(self.nodes.iter().map(|x| x.to_string()).collect()),
                    arch: Some("X86".into()),
                    ..Default::default()
                },
            )]
            .into(),
        };
        self.store.put_session_template(&t).await.unwrap();
    }

    pub async fn component(&self, id: &Xname) -> BootComponent {
        self.store
            .get_boot_component(id.as_str())
            .await
            .unwrap()
            .unwrap()
            .value
    }

    /// Write a component as a test arranges it (whatever its generation).
    pub async fn put(&self, c: &BootComponent) {
        self.store
            .put_boot_components(std::slice::from_ref(c))
            .await
            .unwrap();
    }

    /// A session as the API records it, with its start time on the kit's clock.
    pub fn session(
        &self,
        name: &str,
        operation: crate::model::Operation,
        status: crate::model::SessionStatus,
    ) -> crate::model::Session {
        crate::model::Session {
            name: name.into(),
            tenant: None,
            operation,
            template_name: "t".into(),
            limit: String::new(),
            stage: false,
            components: String::new(),
            include_disabled: false,
            status: crate::model::session::SessionState {
                status,
                start_time: Some(crate::model::boot_component::timestamp(
                    crate::clock::Clock::now(&self.clock),
                )),
                end_time: None,
                error: None,
            },
            v1: None,
        }
    }
}

/// A recorded tree of a real BMC (tests/fixtures/redfish-mockups), for `SimConfig::mockup`.
pub fn mockup(tree: &str) -> redfish::sim::Mockup {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/redfish-mockups")
        .join(tree);
    redfish::sim::Mockup::load(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Poll `check` until it holds (every 20 ms, at most 10 s); panics naming `what`.
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
