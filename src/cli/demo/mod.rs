//! `rackboot demo`: the main job, end to end, on one machine with nothing installed.
//!
//! A new user's first question is "does it boot a rack?", and a rack is what they do not
//! have at hand. The demo answers it in one command: it starts the appliance in-process on
//! the embedded default (SQLite in a fresh temporary data directory, local artifacts), a
//! fleet of simulated Redfish BMCs (`redfish::sim::SimFleet`) and one simulated netboot
//! node per system (`crate::sim::SimLab`), writes a small sample image, then does what an
//! admin would over the real HTTP API, with the crate's own CLI client: register every BMC
//! in HSM and wait for discovery, save a BOS session template, and run a Boot, a Reboot and
//! a Shutdown session, following each with the same live view as
//! `rackboot bos sessions status --watch`. Nothing is mocked on the appliance side: power
//! goes over Redfish, nodes fetch their iPXE scripts and artifacts over HTTP and report
//! back like bos-reporter, and BOS's operators decide when a session is complete.
//!
//! It ends with a table of the nodes (power, BOS status, last action, what each booted)
//! and exits 0, or non-zero naming the session that failed. `--keep-running` leaves the
//! appliance and the simulators up, with commands to explore them, until Ctrl-C.
//!
//! The appliance runs as it would on a rack: the boot plane on plain HTTP (what the nodes
//! use), the control plane on HTTPS with authentication on; the demo signs in with the
//! first admin's password (`sign_in`).
//!
//! The parts: `image` writes the sample image, `sign_in` logs in and makes a token, `steps`
//! is what the admin does (register, discover, template, sessions), `report` is the closing
//! table of nodes; this file starts and stops everything and tells the user where it runs.

mod image;
mod report;
mod sign_in;
mod steps;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use redfish::sim::{SimConfig, SimFleet};
use tokio::sync::oneshot;

use super::Client;
use crate::config::{Config, LogFormat, Settings};
use crate::sim::{Pacing, SimLab, SimLabConfig};

/// The sample image's name (a directory of the `boot-images` bucket).
const IMAGE: &str = "demo-image";
/// The bucket images live in, as `rackboot images import` writes them.
const BUCKET: &str = "boot-images";
/// The session template the demo saves.
const TEMPLATE: &str = "demo";
/// The built-in CFS configuration the template names; the simulated nodes apply its layers
/// themselves after they boot and report each one.
const CONFIGURATION: &str = "demo-site";
/// HSM's BMC registry.
const ENDPOINTS: &str = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";
/// How long a simulated BMC takes to go from PoweringOn to On (and PoweringOff to Off).
const POWER_DELAY: Duration = Duration::from_millis(300);
/// BMC credentials of the simulators.
const BMC_USER: &str = "admin";
const BMC_PASSWORD: &str = "password";

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Simulated nodes, each behind its own simulated BMC
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub nodes: u32,
    /// Leave the appliance and the simulators running until Ctrl-C
    #[arg(long)]
    pub keep_running: bool,
    /// Address the appliance listens on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Data directory (database, artifacts, cache) [default: a fresh temporary directory,
    /// removed on exit]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// A temporary data directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("rackboot-demo-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything the demo started, and what it needs to talk to it.
struct Demo {
    client: Client,
    /// The control plane (HTTPS).
    url: String,
    /// The boot plane (plain HTTP, what the nodes use).
    boot_url: String,
    /// SHA-256 of the control plane's certificate.
    pin: String,
    /// The demo's API token (admin, expires in a day).
    token: String,
    fleet: SimFleet,
    lab: SimLab,
    /// BMC xnames in fleet order.
    bmcs: Vec<String>,
    /// Node xnames in fleet order (one system per BMC).
    nodes: Vec<String>,
    /// `s3://boot-images/demo-image/manifest.json`
    manifest: String,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // The appliance logs only problems unless asked: the demo's own output is the story.
    let filter = std::env::var("RACKBOOT_LOG").unwrap_or_else(|_| "warn".into());
    crate::telemetry::init_logging(LogFormat::Human, &filter)?;

    let (data_dir, scratch) = match &args.data_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            (d.clone(), None)
        }
        None => {
            let s = Scratch::new()?;
            (s.0.clone(), Some(s))
        }
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr().context("listener has no address")?;
    let url = advertise_url(local);
    let config = Config::resolve(Settings {
        data_dir: Some(data_dir.clone()),
        listen: Some(local.to_string()),
        control_listen: Some(format!("{}:0", local.ip())),
        advertise_url: Some(url.clone()),
        bos_poll_ms: Some(200),
        power_confirm_ms: Some(100),
        power_sample_secs: Some(1),
        bmc_timeout_secs: Some(2),
        // Simulated nodes start at their HTTP boot script; no TFTP needed (nor port 69).
        tftp_listen: Some("off".into()),
        // Every simulated node asks from 127.0.0.1: one address, many nodes.
        boot_rate_limit: Some(0),
        ..Settings::default()
    })?;
    let crate::artifacts::SourceConfig::Local { root } = &config.artifacts else {
        anyhow::bail!("the demo keeps its image in a local artifact directory, not S3");
    };
    let manifest = image::write_image(root)?;
    let backends = crate::Backends::open(&config).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let running = crate::start(config, backends, listener, async move {
        let _ = stopped.await;
    })
    .await?;

    let n = args.nodes as usize;
    let fleet = SimFleet::start(
        n,
        SimConfig {
            power_delay: POWER_DELAY,
            username: BMC_USER.into(),
            password: BMC_PASSWORD.into(),
            ..SimConfig::default()
        },
    )
    .await
    .context("cannot start the simulated BMCs (too many open files? raise `ulimit -n`)")?;
    let signed_in = sign_in::sign_in(&running, &data_dir).await?;
    let mut lab_cfg = SimLabConfig::new(url.clone(), reqwest::Client::new());
    lab_cfg.config_service = Some(signed_in.config_service()?);
    lab_cfg.pacing = Pacing {
        script_retry: Duration::from_millis(100),
        report_backoff: Duration::from_millis(50),
        report_retry: Duration::from_millis(200),
        ..Pacing::default()
    };
    let lab = SimLab::for_fleet(&lab_cfg, &fleet);
    let bmcs: Vec<String> = (0..n).map(bmc_xname).collect();
    let demo = Demo {
        client: signed_in.client.clone(),
        url: signed_in.url.clone(),
        boot_url: url.clone(),
        pin: signed_in.pin.clone(),
        token: signed_in.token.clone(),
        nodes: bmcs.iter().map(|b| format!("{b}n0")).collect(),
        bmcs,
        fleet,
        lab,
        manifest,
    };
    println!("rackboot demo: {n} simulated nodes, each behind a simulated Redfish BMC");
    println!(
        "  appliance  boot plane {url}, control plane {} (HTTPS, signed in as admin)  (SQLite and artifacts in {}{})",
        demo.url,
        data_dir.display(),
        if scratch.is_some() {
            ", removed on exit"
        } else {
            ""
        }
    );
    println!(
        "  BMCs       {n} SimBmcs on 127.0.0.1 ({} … {}), power transitions take {} ms",
        demo.fleet.bmcs()[0].addr(),
        demo.fleet.bmcs()[n - 1].addr(),
        POWER_DELAY.as_millis()
    );
    println!("  image      {}", demo.manifest);

    let (result, interrupted) = tokio::select! {
        r = steps::drive(&demo) => (r, false),
        _ = crate::shutdown::signal() => (Err(anyhow::anyhow!("interrupted")), true),
    };
    let failure = match result {
        Ok(outcomes) => {
            let failed: Vec<String> = outcomes.iter().filter_map(|o| o.failure.clone()).collect();
            if failed.is_empty() {
                println!(
                    "demo complete in {}: boot, reboot and shutdown of {n} nodes succeeded",
                    secs(started.elapsed())
                );
                None
            } else {
                Some(anyhow::anyhow!("demo failed: {}", failed.join("; ")))
            }
        }
        Err(e) => Some(e),
    };
    if args.keep_running && !interrupted {
        if let Some(e) = &failure {
            eprintln!("error: {e:#}");
        }
        explore(&demo);
        crate::shutdown::signal().await;
        println!("stopping");
    }
    demo.lab.stop();
    demo.fleet.shutdown().await;
    let _ = stop.send(());
    running.wait().await?;
    drop(scratch);
    match failure {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// The URL nodes (and the demo's client) use: the listen address, with an unspecified IP
/// replaced by loopback.
fn advertise_url(local: SocketAddr) -> String {
    let ip = match local.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, local.port()))
}

/// BMC `i`'s xname: eight slots per cabinet, from cabinet 3000.
fn bmc_xname(i: usize) -> String {
    format!("x{}c0s{}b0", 3000 + i / 8, i % 8)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// What to try while `--keep-running` keeps everything up.
fn explore(d: &Demo) {
    let (url, boot) = (&d.url, &d.boot_url);
    let first = &d.nodes[0];
    let mac = d.lab.nodes().first().map(|n| n.mac().to_string());
    println!();
    println!(
        "The appliance and the simulated BMCs and nodes keep running (control plane {url}, boot plane {boot}); Ctrl-C stops them."
    );
    println!(
        "Explore: first point the CLI at the control plane (the token is the demo's, admin, valid a day):"
    );
    println!(
        "  export RACKBOOT_URL={url} RACKBOOT_PIN={} RACKBOOT_TOKEN={}",
        d.pin, d.token
    );
    for cmd in [
        "rackboot whoami".to_string(),
        "rackboot bos sessions list".to_string(),
        "rackboot bos components list".to_string(),
        format!("rackboot bos sessions create --template-name {TEMPLATE} --operation boot --watch"),
        "rackboot power status all".to_string(),
        "rackboot cfs components list".to_string(),
        format!("rackboot cfs components get {first} --state-details"),
        format!("rackboot nodes timeline {first}"),
        "rackboot audit list".to_string(),
        format!(
            "curl -k -H \"Authorization: Bearer $RACKBOOT_TOKEN\" {url}/apis/smd/hsm/v2/State/Components"
        ),
    ] {
        println!("  {cmd}");
    }
    if let Some(mac) = mac {
        println!("  curl '{boot}/boot/v1/bootscript?mac={mac}'   # the boot plane: no credentials");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_advertises_loopback_for_unspecified_listen_addresses() {
        let a = |s: &str| advertise_url(s.parse().unwrap());
        assert_eq!(a("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(a("0.0.0.0:41234"), "http://127.0.0.1:41234");
        assert_eq!(a("10.0.0.1:80"), "http://10.0.0.1:80");
        assert_eq!(a("[::]:8080"), "http://[::1]:8080");
        assert_eq!(a("[fe80::1]:8080"), "http://[fe80::1]:8080");
        for u in ["0.0.0.0:1", "[::]:1"] {
            crate::config::validate_advertise_url(&a(u)).unwrap();
        }
    }

    #[test]
    fn demo_bmc_xnames_fill_eight_slots_per_cabinet() {
        assert_eq!(bmc_xname(0), "x3000c0s0b0");
        assert_eq!(bmc_xname(7), "x3000c0s7b0");
        assert_eq!(bmc_xname(8), "x3001c0s0b0");
        assert_eq!(bmc_xname(999), "x3124c0s7b0");
        for i in [0, 9, 999] {
            crate::model::Xname::parse(&bmc_xname(i)).unwrap();
        }
    }
}
