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
pub mod auth;
pub mod bootscript;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod console;
pub mod dhcp;
pub mod errors;
pub mod faults;
pub mod handoff;
pub mod model;
pub mod operators;
mod planes;
pub mod power;
pub mod security;
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
    /// The data directory's lock, held until the appliance has stopped (`None`: the
    /// caller owns its store some other way).
    pub owner: Option<store::owner::DataDirLock>,
    /// The database side of several replicas (PostgreSQL): the operator lock, heartbeats
    /// and messages (`None` with SQLite: this appliance always leads).
    pub cluster: Option<Arc<dyn cluster::ClusterBackend>>,
    /// The keys every replica shares, from the database (`None`: the data directory's
    /// key files).
    pub shared_keys: Option<cluster::SharedKeys>,
}

impl Backends {
    /// The embedded default: SQLite in the data directory, and what the config names.
    pub async fn open(config: &Config) -> anyhow::Result<Backends> {
        // The data directory holds the database, the key files and the TLS key: 0700.
        security::keyfile::private_dir(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        // Before anything in it is touched: a second appliance on it must not act.
        let owner = store::owner::DataDirLock::acquire(&config.data_dir)?;
        let (store, cluster, shared_keys): (Arc<dyn Store>, _, _) = match &config.store {
            config::StoreConfig::Sqlite => {
                let path = config.data_dir.join("rackboot.db");
                let store = SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("cannot open the store at {}", path.display()))?;
                (Arc::new(store), None, None)
            }
            config::StoreConfig::Postgres { url } => {
                let (store, keys) = cluster::open_postgres(config, url).await?;
                let store = Arc::new(store);
                let backend: Arc<dyn cluster::ClusterBackend> = store.clone();
                (store, Some(backend), Some(keys))
            }
        };
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
            owner: Some(owner),
            cluster,
            shared_keys,
            store,
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
    /// The boot plane's HTTP listener (and the control plane's too when they share it).
    pub local_addr: SocketAddr,
    /// The control plane's HTTPS listener, unless it shares the boot listener.
    pub control_addr: Option<SocketAddr>,
    /// SHA-256 of the control plane's certificate (what `--pin` takes).
    pub tls_fingerprint: Option<String>,
    /// The boot plane's HTTPS listener (RSA certificate), when asked for.
    pub boot_https_addr: Option<SocketAddr>,
    pub boot_https_fingerprint: Option<String>,
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

/// What the appliance listens on that is made outside it: the boot plane's HTTP listener
/// always; the control plane's (HTTPS) listener optionally (bound on `control_listen` at
/// start otherwise, unless the control plane shares the boot listener); the DHCP sockets
/// optionally (tests bind them inside a network namespace; otherwise they are bound on
/// `dhcp_interface` at start).
pub struct Listeners {
    pub http: TcpListener,
    pub control: Option<TcpListener>,
    pub dhcp: Option<dhcp::server::Sockets>,
}

impl From<TcpListener> for Listeners {
    fn from(http: TcpListener) -> Listeners {
        Listeners {
            http,
            control: None,
            dhcp: None,
        }
    }
}

/// Build the appliance and start serving on `listeners` until `shutdown` resolves.
pub async fn start(
    config: Config,
    mut backends: Backends,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let Listeners {
        http,
        control,
        dhcp,
    } = listeners.into();
    let local_addr = http.local_addr().context("listener has no local address")?;
    match security::limits::raise_nofile() {
        Ok((soft, hard)) if soft < hard => {
            tracing::info!(from = soft, to = hard, "raised the open-files limit");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-files limit"),
    }
    // Every BMC call passes its BMC's circuit breaker, whatever the driver.
    let breakers = Arc::new(power::breaker::Breakers::new(config.power.breaker));
    backends.power = Arc::new(power::breaker::Guarded::new(
        backends.power.clone(),
        breakers.clone(),
    ));
    let replica = cluster::Replica::new(&config, backends.cluster.clone());
    let leadership = replica.membership.leadership.clone();
    if backends.cluster.is_some() {
        // A deposed leader's calls still under way are refused, unsent.
        backends.power = Arc::new(power::fenced::Fenced::new(
            backends.power.clone(),
            leadership.clone(),
        ));
    }
    let app = build_app(&config, &backends, breakers, &replica)?;
    app.load_cfs_options()
        .await
        .context("cannot read the CFS options from the store")?;
    if config.security.no_auth {
        tracing::warn!(
            "AUTHENTICATION IS OFF (--no-auth): anyone who can reach the control plane can read, change and power the whole rack; use this for labs and demos only"
        );
    } else if let Some(file) = app.identity().bootstrap(&config.data_dir).await? {
        tracing::warn!(
            password_file = %file.display(),
            "first start: created user admin; its password is in this file (0600). Make yourself a token with it (rackboot tokens create NAME --login admin --password-file FILE --ca DATA_DIR/tls/cert.pem), add your users, then change admin's password and delete the file"
        );
    }
    let limits = api::BodyLimits {
        max_body_bytes: config.max_body_bytes,
    };
    let stop = Stop::new();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let policy = api::server::ListenerPolicy {
        tls: None,
        header_timeout: config.security.header_timeout,
        idle_timeout: config.security.idle_timeout,
        limit: security::limits::ConnectionLimit::new(config.security.max_connections_per_address),
    };
    let control_plane = planes::start_control_plane(&config, &app, control, &policy, &stop).await?;
    let boot_router = match &control_plane {
        None => api::control_router(app.clone(), telemetry::metrics_handle(), limits),
        Some(_) => api::boot_router(app.clone(), limits),
    };
    let boot_https = match &config.security.boot_https {
        None => None,
        Some((addr, cert)) => {
            let (task, bound, fp) =
                planes::start_boot_https(&config, *addr, cert, boot_router.clone(), &policy, &stop)
                    .await?;
            tasks.push(task);
            Some((bound, fp))
        }
    };
    let (control_addr, tls_fingerprint) = match control_plane {
        Some((task, addr, fp)) => {
            tasks.push(task);
            (Some(addr), Some(fp))
        }
        None => (None, None),
    };
    tasks.push(tokio::spawn(app.identity().audit_trail().run(stop.clone())));
    tasks.push(tokio::spawn(prune_audit(
        app.clone(),
        config.security.audit_retention,
        stop.clone(),
    )));
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
    let calls = Arc::new(operators::bos::journal::Calls::default());
    for reg in registrations(&app, &backends, &config, &calls) {
        tasks.push(operators::spawn(
            reg,
            app.reports(),
            leadership.clone(),
            stop.clone(),
        ));
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
        tasks.push(tokio::spawn(cluster::while_leading(
            leadership.clone(),
            stop.clone(),
            move |term| events.clone().run(term),
        )));
    }
    let server = api::server::serve(http, boot_router, stop.clone(), policy);
    tracing::info!(boot_plane = %local_addr, control_plane = %control_addr.map_or("on the boot plane's listener".to_string(), |a| format!("https://{a}")), advertise_url = %config.advertise_url, data_dir = %config.data_dir.display(), "rackboot serving");

    let (app2, driver) = (app.clone(), backends.power.clone());
    // The operator lock is released only once the last BMC calls are recorded.
    let release = Stop::new();
    let cluster_tasks = replica.start(&app, &stop, &release);
    let owner = backends.owner.take();
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
        // BMC calls that outlived their activation finish and record their outcome.
        let left = calls.drain(CALLS_GRACE).await;
        if left > 0 {
            tracing::warn!(
                nodes = left,
                "BMC calls still in flight at stop; the next start settles them from the journal"
            );
        }
        driver.close().await;
        app2.flush_access()
            .await
            .context("final flush of endpoint history failed")?;
        release.cancel();
        for t in cluster_tasks {
            let _ = t.await;
        }
        drop(owner);
        Ok(())
    });
    Ok(Running {
        local_addr,
        boot_https_addr: boot_https.as_ref().map(|b| b.0),
        boot_https_fingerprint: boot_https.map(|b| b.1),
        control_addr,
        tls_fingerprint,
        tftp_addr,
        app,
        task,
    })
}

/// Drop audit records and artifact pins older than `keep`, hourly.
async fn prune_audit(app: Arc<App>, keep: Duration, stop: Stop) {
    loop {
        let before = chrono::Utc::now() - chrono::Duration::from_std(keep).unwrap_or_default();
        match app.identity().prune_audit(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, "pruned old audit records"),
            Err(e) => tracing::warn!(error = %e, "cannot prune the audit records"),
        }
        if let Err(e) = app.prune_artifact_pins(before).await {
            tracing::warn!(error = %e, "cannot prune the artifact pins");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

/// The application over the backends: the artifact cache, the token key, the settings.
fn build_app(
    config: &Config,
    backends: &Backends,
    breakers: Arc<power::breaker::Breakers>,
    replica: &cluster::Replica,
) -> anyhow::Result<Arc<App>> {
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
            max_upload_bytes: config.security.max_upload_bytes,
            boot_plane_bind: config.security.boot_plane_bind,
            boot_rate_limit: config.security.boot_rate_limit,
        },
        artifacts: Arc::new(cache),
        artifact_secret: match &backends.shared_keys {
            Some(k) => k.artifact.clone(),
            None => artifacts::token_key::load_or_create(&config.data_dir)?,
        },
        handoff: backends.handoff.clone(),
        pokes: Default::default(),
        bos_pokes: Default::default(),
        reports: Default::default(),
        identity: identity_config(config, backends.shared_keys.as_ref())?,
        breakers,
        cluster: replica.membership.clone(),
        bus: replica.bus.clone(),
    }))
}

fn identity_config(
    config: &Config,
    shared: Option<&cluster::SharedKeys>,
) -> anyhow::Result<app::identity::IdentityConfig> {
    let jwt_key = match shared {
        Some(k) => k.jwt,
        None => security::keyfile::load_or_create::<32>(&config.data_dir.join("jwt.key"))?,
    };
    let site = match &config.security.oidc {
        None => None,
        Some(o) => Some(auth::oidc::SiteIssuer::new(o.clone()).map_err(anyhow::Error::msg)?),
    };
    Ok(app::identity::IdentityConfig {
        no_auth: config.security.no_auth,
        jwt_key,
        site,
        access_ttl_secs: config.security.access_token_ttl.as_secs() as i64,
    })
}

/// Every operator the appliance runs, with its schedule and poke.
/// How long a BOS activation waits for its BMC calls (and a status pass for its power
/// reads) before it leaves the slow ones to finish on their own.
const BOS_ACT_WAIT: Duration = Duration::from_secs(2);

/// How long a stop waits for BMC calls still in flight to finish and be recorded.
const CALLS_GRACE: Duration = Duration::from_secs(20);

fn registrations(
    app: &Arc<App>,
    backends: &Backends,
    config: &Config,
    calls: &Arc<operators::bos::journal::Calls>,
) -> Vec<Registration> {
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
        leadership: app.leadership(),
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
        calls: calls.clone(),
        reads: Default::default(),
        act_wait: BOS_ACT_WAIT,
        leadership: app.leadership(),
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
