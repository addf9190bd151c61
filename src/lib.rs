//! rackboot: a self-contained bare-metal boot appliance.
//!
//! Layout (docs/architecture.md, "Layout"; dependencies point inward): `model` (domain types and
//! pure rules) ← `store` (persistence) and the seams `power` (BMCs), `artifacts` (S3 or a
//! directory) and `handoff` (configuration) ← `app` (use cases) and `operators` (reconcile
//! loops) ← `api` (HTTP wire and handlers), `tftp` and `dhcp` (the boot network) ← [`start`] ←
//! `main`. Leaves every layer may use: `activation` (pokes and reports), `shutdown` (the stop
//! signal), `clock`, `errors`. `bootscript` renders iPXE (pure); `cli` and `sim` are the client
//! and the simulated nodes.
//!
//! [`start`] is the one composition root: it takes a validated config, the backends, the
//! already-bound listeners and a shutdown future, builds the application, and spawns and owns
//! every task; `main` only parses flags.

pub mod activation;
pub mod api;
pub mod app;
pub mod artifacts;
pub mod bootscript;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dhcp;
pub mod errors;
pub mod handoff;
pub mod model;
pub mod operators;
pub mod power;
pub mod shutdown;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod tftp;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use app::{App, AppParts, AppSettings};
use config::Config;
use handoff::Handoff;
use operators::{Registration, Schedule};
use power::{PowerDriver, RedfishDriver, RedfishDriverSettings};
use shutdown::Stop;
use store::{SqliteStore, Store};

/// The external systems the appliance is built on; tests may pass their own.
pub struct Backends {
    pub store: Arc<dyn Store>,
    pub power: Arc<dyn PowerDriver>,
    pub artifacts: Arc<dyn artifacts::ArtifactSource>,
    /// Where booted nodes are handed for configuration.
    pub handoff: Handoff,
}

impl Backends {
    /// The embedded default: SQLite in the data directory, and what the config names.
    pub async fn open(config: &Config) -> anyhow::Result<Backends> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        let path = config.data_dir.join("rackboot.db");
        let store = SqliteStore::open(&path)
            .await
            .with_context(|| format!("cannot open the store at {}", path.display()))?;
        let artifacts =
            artifacts::open_source(&config.artifacts).context("cannot open the artifact source")?;
        let handoff = match &config.cfs {
            config::CfsMode::None => Handoff::None,
            config::CfsMode::Builtin => Handoff::Builtin,
            config::CfsMode::External(s) => Handoff::Service(Arc::new(
                handoff::external::ExternalCfs::new(s.clone())
                    .context("cannot set up the external CFS client")?,
            )),
        };
        Ok(Backends {
            store: Arc::new(store),
            artifacts,
            handoff,
            power: Arc::new(RedfishDriver::new(RedfishDriverSettings {
                timeout: config.power.bmc_timeout,
                connect_timeout: config.power.bmc_timeout.min(Duration::from_secs(5)),
                per_bmc_concurrency: config.power.bmc_concurrency,
                global_concurrency: config.power.bmc_global_concurrency,
                retries: 3,
                tls_policy: config.power.bmc_tls,
            })),
        })
    }
}

/// A running appliance.
pub struct Running {
    pub local_addr: SocketAddr,
    /// Where the TFTP server listens, unless it is off.
    pub tftp_addr: Option<SocketAddr>,
    pub app: Arc<App>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Wait until the appliance has shut down (after the shutdown future resolved).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("the appliance task panicked")?
    }
}

/// What the appliance listens on that is made outside it: the HTTP listener always; the
/// DHCP sockets optionally (tests bind them inside a network namespace; otherwise they are
/// bound on `dhcp_interface` at start).
pub struct Listeners {
    pub http: TcpListener,
    pub dhcp: Option<dhcp::server::Sockets>,
}

impl From<TcpListener> for Listeners {
    fn from(http: TcpListener) -> Listeners {
        Listeners { http, dhcp: None }
    }
}

/// Build the appliance and start serving on `listeners` until `shutdown` resolves.
pub async fn start(
    config: Config,
    backends: Backends,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let Listeners { http, dhcp } = listeners.into();
    let local_addr = http.local_addr().context("listener has no local address")?;
    let app = build_app(&config, &backends)?;
    app.load_cfs_options()
        .await
        .context("cannot read the CFS options from the store")?;
    let router = api::router(
        app.clone(),
        telemetry::metrics_handle(),
        config.max_body_bytes,
    );
    let stop = Stop::new();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let tftp_addr = match &config.tftp {
        None => None,
        Some(t) => {
            let (task, addr) = start_tftp(t, &config, &app, &stop).await?;
            tasks.push(task);
            Some(addr)
        }
    };
    if let Some(d) = &config.dhcp {
        tasks.push(start_dhcp(d, &config, &app, dhcp, &stop).await?);
    }
    tasks.push(tokio::spawn(app.clone().flush_access_until(stop.clone())));
    for reg in registrations(&app, &backends, &config) {
        tasks.push(operators::spawn(reg, app.reports(), stop.clone()));
    }
    if let Some(idle) = config.power.events_idle {
        let events = operators::bmc_events::BmcEvents {
            store: backends.store.clone(),
            driver: backends.power.clone(),
            cache: app.power_cache(),
            clock: clock::system(),
            changed: app.bos_pokes().status.clone(),
            idle,
            rescan: Duration::from_secs(60),
            wake: app.pokes().events.clone(),
            recheck: Duration::from_secs(600),
            max_streams: config.power.events_max_streams,
        };
        tasks.push(tokio::spawn(events.run(stop.clone())));
    }
    let server = api::server::serve(http, router, stop.clone());
    tracing::info!(%local_addr, advertise_url = %config.advertise_url, data_dir = %config.data_dir.display(), "rackboot serving");

    let (app2, driver) = (app.clone(), backends.power.clone());
    let task = tokio::spawn(async move {
        let signal = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            signal.cancel();
        });
        server.await;
        for t in tasks {
            let _ = t.await;
        }
        driver.close().await;
        app2.flush_access()
            .await
            .context("final flush of endpoint history failed")?;
        Ok(())
    });
    Ok(Running {
        local_addr,
        tftp_addr,
        app,
        task,
    })
}

/// The application over the backends: the artifact cache, the token key, the settings.
fn build_app(config: &Config, backends: &Backends) -> anyhow::Result<Arc<App>> {
    let cache = artifacts::cache::ArtifactCache::open(
        &config.cache_dir,
        config.cache_max_bytes,
        backends.artifacts.clone(),
    )
    .with_context(|| {
        format!(
            "cannot open the artifact cache in {}",
            config.cache_dir.display()
        )
    })?;
    Ok(App::new(AppParts {
        store: backends.store.clone(),
        settings: AppSettings {
            advertise_url: config.advertise_url.clone(),
            boot_retry_delay_secs: config.boot_retry_delay_secs,
            ipxe_dir: config.ipxe_dir.clone(),
        },
        artifacts: Arc::new(cache),
        artifact_secret: artifacts::token_key::load_or_create(&config.data_dir)?,
        handoff: backends.handoff.clone(),
        pokes: Default::default(),
        bos_pokes: Default::default(),
        reports: Default::default(),
    }))
}

/// Every operator the appliance runs, with its schedule and poke.
fn registrations(app: &Arc<App>, backends: &Backends, config: &Config) -> Vec<Registration> {
    let (store, driver, clock) = (app.store.clone(), backends.power.clone(), clock::system());
    let pokes = app.pokes();
    let inventory_changed: Arc<dyn Fn() + Send + Sync> = {
        let app = app.clone();
        Arc::new(move || app.inventory_changed())
    };
    let power = operators::power::PowerContext {
        store: store.clone(),
        driver: driver.clone(),
        cache: app.power_cache(),
        clock: clock.clone(),
        confirm_interval: config.power.confirm_interval,
        flush_interval: Duration::from_millis(500),
    };
    let mut regs = vec![
        Registration::new(
            Schedule::every("discovery", Duration::from_secs(60)),
            operators::discovery::Discovery {
                store: store.clone(),
                driver: driver.clone(),
                clock: clock.clone(),
                concurrency: 128,
                tls_policy: config.power.bmc_tls,
                monitor: pokes.monitor.clone(),
                inventory_changed,
            },
            &pokes.discovery,
        ),
        Registration::new(
            Schedule::every("power-transitions", Duration::from_secs(10)),
            operators::power::PowerTransitions::new(power),
            &pokes.power,
        ),
        Registration::new(
            Schedule::every("power-monitor", config.power.sample_interval),
            operators::power_monitor::PowerMonitor {
                store: store.clone(),
                driver: driver.clone(),
                cache: app.power_cache(),
                clock: clock.clone(),
                period: chrono::Duration::from_std(config.power.sample_interval)
                    .unwrap_or_default(),
            },
            &pokes.monitor,
        ),
    ];
    regs.extend(operators::bos::registrations(&operators::bos::BosContext {
        store,
        driver,
        handoff: app.handoff(),
        boot: app.clone(),
        events: app.clone(),
        sessions: app.clone(),
        pokes: app.bos_pokes().clone(),
        clock,
        power_cache: app.power_cache(),
        power_max_age: config.power.sample_interval,
        period: config.bos_poll,
        concurrency: config.power.bmc_global_concurrency.max(1),
    }));
    regs
}

/// Bind and start the TFTP server.
async fn start_tftp(
    t: &config::TftpConfig,
    config: &Config,
    app: &Arc<App>,
    stop: &Stop,
) -> anyhow::Result<(JoinHandle<()>, SocketAddr)> {
    let sock = tokio::net::UdpSocket::bind(t.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen for TFTP on {} (port 69 needs root or CAP_NET_BIND_SERVICE; \
                 set tftp_listen to another address, or to off)",
                t.listen
            )
        })?;
    let addr = sock
        .local_addr()
        .context("TFTP socket has no local address")?;
    tracing::info!(%addr, root = %config.ipxe_dir.display(), "TFTP serving");
    let settings = tftp::TftpSettings {
        max_per_client: t.max_per_client,
        ..tftp::TftpSettings::new(config.ipxe_dir.clone())
    };
    let observer = Arc::new(app::timeline::TftpTimeline(app.clone()));
    let task = tokio::spawn(tftp::serve(sock, settings, observer, stop.clone()));
    Ok((task, addr))
}

/// Bind (unless handed sockets) and start the DHCP server.
async fn start_dhcp(
    d: &config::DhcpConfig,
    config: &Config,
    app: &Arc<App>,
    sockets: Option<dhcp::server::Sockets>,
    stop: &Stop,
) -> anyhow::Result<JoinHandle<()>> {
    let (server_ip, netmask) =
        dhcp::interface::server_address(&d.interface, d.server_ip, d.netmask)?;
    let sockets = match sockets {
        Some(s) => s,
        None => dhcp::server::Sockets::bind(&d.interface).with_context(|| {
            format!(
                "cannot listen for DHCP on interface {} (UDP ports 67 and 4011 need root or \
                 CAP_NET_BIND_SERVICE; set dhcp to off to run without)",
                d.interface
            )
        })?,
    };
    if config.tftp.is_none() {
        tracing::warn!("DHCP points PXE clients at TFTP on {server_ip}, but tftp_listen is off");
    }
    let files = dhcp::boot::BootFiles {
        x86_64_efi: d.efi_binary.clone(),
        arm64_efi: d.arm64_binary.clone(),
        ..Default::default()
    };
    for f in files.missing_from(&config.ipxe_dir) {
        tracing::warn!(file = %f, dir = %config.ipxe_dir.display(),
            "DHCP hands out an iPXE binary that is not in the TFTP root");
    }
    let settings = dhcp::server::DhcpSettings {
        mode: d.mode,
        identity: dhcp::respond::Identity {
            server_ip,
            netmask,
            router: d.router,
            dns: d.dns.clone(),
        },
        boot: dhcp::respond::BootTarget {
            files,
            base_url: config.advertise_url.clone(),
        },
        pool: d.pool,
        lease_time: d.lease_time,
        offer_hold: chrono::Duration::seconds(30),
    };
    tracing::info!(interface = %d.interface, %server_ip, %netmask, mode = ?d.mode, "DHCP serving");
    let backend = Arc::new(app::dhcp::DhcpHost(app.clone()));
    let server = dhcp::server::Server::start(sockets, settings, backend)
        .await
        .context("cannot start the DHCP server")?;
    Ok(tokio::spawn(server.run(stop.clone())))
}
