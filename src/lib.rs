//! rackboot: a self-contained bare-metal boot appliance.
//!
//! Layout (DESIGN §3): `model` (domain types) ← `store` (persistence) ← `app` (use cases)
//! ← `api` (HTTP wire and handlers), with `bootscript` the pure iPXE renderer; `operators`
//! carry out recorded intent through the seams (`power` for BMCs). [`start`] is
//! the one composition root: it takes a validated config, the backends, an already-bound
//! listener and a shutdown future, and wires everything together; `main` only parses flags.

pub mod api;
pub mod app;
pub mod artifacts;
pub mod bootscript;
pub mod cli;
pub mod config;
pub mod dhcp;
pub mod errors;
pub mod handoff;
pub mod model;
pub mod operators;
pub mod power;
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
use tokio::sync::watch;
use tokio::task::JoinHandle;

use app::{App, AppSettings};
use config::Config;
use power::{PowerDriver, RedfishDriver, RedfishDriverSettings};
use store::{SqliteStore, Store};

/// The external systems the appliance is built on; tests may pass their own.
pub struct Backends {
    pub store: Arc<dyn Store>,
    pub power: Arc<dyn PowerDriver>,
    pub artifacts: Arc<dyn artifacts::ArtifactSource>,
    /// Where booted nodes are handed for configuration; `None` is the built-in CFS (which
    /// lives in the App, so it is made there).
    pub handoff: Option<Arc<dyn handoff::ConfigHandoff>>,
}

impl Backends {
    /// The embedded default: SQLite in the data directory.
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
        Ok(Backends {
            store: Arc::new(store),
            artifacts,
            handoff: open_handoff(&config.cfs)?,
            power: Arc::new(RedfishDriver::new(RedfishDriverSettings {
                timeout: config.power.bmc_timeout,
                connect_timeout: config.power.bmc_timeout.min(Duration::from_secs(5)),
                per_bmc_concurrency: config.power.bmc_concurrency,
                global_concurrency: config.power.bmc_global_concurrency,
                retries: 3,
            })),
        })
    }
}

/// The configuration handoff the settings choose (`None`: the built-in CFS).
fn open_handoff(c: &config::CfsMode) -> anyhow::Result<Option<Arc<dyn handoff::ConfigHandoff>>> {
    Ok(match c {
        config::CfsMode::None => Some(Arc::new(handoff::NoHandoff)),
        config::CfsMode::Builtin => None,
        config::CfsMode::External(s) => Some(Arc::new(
            handoff::external::ExternalCfs::new(s.clone())
                .context("cannot set up the external CFS client")?,
        )),
    })
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
    let Listeners {
        http: listener,
        dhcp: dhcp_sockets,
    } = listeners.into();
    let local_addr = listener
        .local_addr()
        .context("listener has no local address")?;
    let cache = Arc::new(
        artifacts::cache::ArtifactCache::open(
            &config.cache_dir,
            config.cache_max_bytes,
            backends.artifacts.clone(),
        )
        .with_context(|| {
            format!(
                "cannot open the artifact cache in {}",
                config.cache_dir.display()
            )
        })?,
    );
    let secret = artifact_secret(&config.data_dir)?;
    let app = App::new(
        backends.store.clone(),
        AppSettings {
            advertise_url: config.advertise_url.clone(),
            boot_retry_delay_secs: config.boot_retry_delay_secs,
            ipxe_dir: config.ipxe_dir.clone(),
        },
        cache,
        secret,
        backends.handoff.clone(),
    );
    let router = api::router(
        app.clone(),
        telemetry::metrics_handle(),
        config.max_body_bytes,
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let (tftp, tftp_addr) = start_tftp(&config, &app, &stop_rx).await?;
    let dhcp = start_dhcp(&config, &app, dhcp_sockets, &stop_rx).await?;
    let flusher = tokio::spawn(flush_access_periodically(app.clone(), stop_rx.clone()));
    let mut operators = spawn_operators(&app, &backends_power(&backends), &config, &stop_rx);
    operators.extend(spawn_bos_operators(&app, &backends, &config, &stop_rx));
    let driver = backends.power.clone();
    let server = api::server::serve(listener, router, stop_rx.clone());
    tracing::info!(%local_addr, advertise_url = %config.advertise_url, data_dir = %config.data_dir.display(), "rackboot serving");

    let app2 = app.clone();
    let task = tokio::spawn(async move {
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        });
        server.await;
        let _ = flusher.await;
        for op in operators {
            let _ = op.await;
        }
        if let Some(t) = tftp {
            let _ = t.await;
        }
        if let Some(d) = dhcp {
            let _ = d.await;
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

/// Bind and start the TFTP server, unless it is off; its task ends when `stop` turns true.
async fn start_tftp(
    config: &Config,
    app: &Arc<App>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<(Option<JoinHandle<()>>, Option<SocketAddr>)> {
    let Some(t) = &config.tftp else {
        return Ok((None, None));
    };
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
    let task = tokio::spawn(tftp::serve(
        sock,
        settings,
        tftp_observer(app),
        stop.clone(),
    ));
    Ok((Some(task), Some(addr)))
}

/// Bind (unless handed sockets) and start the DHCP server, unless it is off.
async fn start_dhcp(
    config: &Config,
    app: &Arc<App>,
    sockets: Option<dhcp::server::Sockets>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let Some(d) = &config.dhcp else {
        return Ok(None);
    };
    // The interface's own address and netmask, unless both are configured.
    let found = match (d.server_ip, d.netmask) {
        (Some(_), Some(_)) => None,
        _ => dhcp::server::interface_ipv4(&d.interface)
            .with_context(|| format!("cannot read the addresses of interface {}", d.interface))?,
    };
    let (server_ip, netmask) = match (d.server_ip, d.netmask, found) {
        (Some(ip), Some(mask), _) => (ip, mask),
        (ip, mask, Some((if_ip, if_mask))) => (ip.unwrap_or(if_ip), mask.unwrap_or(if_mask)),
        (Some(ip), None, None) => (ip, std::net::Ipv4Addr::new(255, 255, 255, 0)),
        (None, _, None) => anyhow::bail!(
            "dhcp_interface {} has no IPv4 address (or does not exist); give it one, or set \
             dhcp_server_ip",
            d.interface
        ),
    };
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
    for f in [
        Some(&files.bios),
        Some(&files.x86_64_efi),
        files.arm64_efi.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if !config.ipxe_dir.join(f).is_file() {
            tracing::warn!(file = %f, dir = %config.ipxe_dir.display(),
                "DHCP hands out an iPXE binary that is not in the TFTP root");
        }
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
    Ok(Some(tokio::spawn(server.run(stop.clone()))))
}

/// Count every TFTP transfer and put it on the node's timeline when the client's address is
/// one of the inventory's.
fn tftp_observer(app: &Arc<App>) -> Arc<dyn tftp::TransferObserver> {
    let app = app.clone();
    Arc::new(move |r: &tftp::TransferReport| {
        metrics::counter!("rackboot_tftp_transfers_total", "outcome" => r.outcome).increment(1);
        metrics::counter!("rackboot_tftp_bytes_total").increment(r.bytes);
        tracing::info!(client = %r.client, file = %r.filename, outcome = r.outcome, detail = %r.detail,
            bytes = r.bytes, ms = r.duration.as_millis() as u64, blksize = r.blksize,
            windowsize = r.windowsize, "tftp transfer");
        let (app, r) = (app.clone(), r.clone());
        tokio::spawn(async move { app.record_tftp(&r).await });
    })
}

/// The key of the per-node artifact tokens: random, made once, kept in the data directory.
fn artifact_secret(data_dir: &std::path::Path) -> anyhow::Result<Arc<[u8]>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let path = data_dir.join("artifact-token.key");
    match std::fs::read(&path) {
        Ok(k) if k.len() >= 32 => return Ok(k.into()),
        Ok(_) | Err(_) => {}
    }
    let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.as_bytes().to_vec())
        .collect();
    // Created private (0600 on Unix) rather than restricted after the fact.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut file, &key)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key.into())
}

fn backends_power(b: &Backends) -> Arc<dyn PowerDriver> {
    b.power.clone()
}

/// Start every operator; each stops when `stop` is set.
fn spawn_operators(
    app: &Arc<App>,
    driver: &Arc<dyn PowerDriver>,
    config: &Config,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let store = app.store.clone();
    let pokes = app.pokes().clone();
    let reports = app.reports();
    let cache = app.power_cache();
    let discovery = operators::discovery::Discovery {
        store: store.clone(),
        driver: driver.clone(),
        period: Duration::from_secs(60),
        concurrency: 128,
        monitor: pokes.monitor.clone(),
        inventory_changed: {
            let app = app.clone();
            Arc::new(move || app.inventory_changed())
        },
    };
    let transitions = operators::power::PowerTransitions::new(
        operators::power::PowerContext {
            store: store.clone(),
            driver: driver.clone(),
            cache: cache.clone(),
            confirm_interval: config.power.confirm_interval,
            flush_interval: Duration::from_millis(500),
        },
        Duration::from_secs(10),
    );
    let monitor = operators::power_monitor::PowerMonitor {
        store,
        driver: driver.clone(),
        cache,
        period: config.power.sample_interval,
    };
    vec![
        operators::spawn(discovery, pokes.discovery, reports.clone(), stop.clone()),
        operators::spawn(transitions, pokes.power, reports.clone(), stop.clone()),
        operators::spawn(monitor, pokes.monitor, reports, stop.clone()),
    ]
}

/// Start the BOS operators (DESIGN §4).
fn spawn_bos_operators(
    app: &Arc<App>,
    backends: &Backends,
    config: &Config,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    use operators::bos::{self, BosContext};
    let ctx = BosContext {
        app: app.clone(),
        store: app.store.clone(),
        driver: backends.power.clone(),
        handoff: app.handoff(),
        period: config.bos_poll,
        concurrency: config.power.bmc_global_concurrency.max(1),
    };
    let p = app.bos_pokes().clone();
    let r = app.reports();
    vec![
        operators::spawn(
            bos::session_setup::SessionSetup(ctx.clone()),
            p.setup.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::status::Status(ctx.clone()),
            p.status.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::power_on::PowerOn(ctx.clone()),
            p.power_on.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::power_off::PowerOff {
                ctx: ctx.clone(),
                mode: bos::power_off::Mode::Graceful,
            },
            p.power_off_graceful.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::power_off::PowerOff {
                ctx: ctx.clone(),
                mode: bos::power_off::Mode::Forceful,
            },
            p.power_off_forceful.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::configuration::Configuration(ctx.clone()),
            p.configuration.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::lifecycle::SessionCompletion(ctx.clone()),
            p.completion.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::lifecycle::SessionCleanup(ctx.clone()),
            p.session_cleanup.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::lifecycle::ActualStateCleanup(ctx.clone()),
            p.actual_state_cleanup.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::evidence::Evidence(ctx.clone()),
            p.evidence.clone(),
            r.clone(),
            stop.clone(),
        ),
        operators::spawn(
            bos::discovery::Discovery(ctx),
            p.discovery.clone(),
            r,
            stop.clone(),
        ),
    ]
}

async fn flush_access_periodically(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = app.flush_access().await {
                    tracing::warn!(error = %errors::chain(&e), "could not record endpoint history; will retry");
                }
            }
            _ = stopped(&mut stop) => return,
        }
    }
}

/// Resolves once the stop flag is set (or its sender is gone).
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
