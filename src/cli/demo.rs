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

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use redfish::sim::{SimConfig, SimFleet};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::bos::{Operation, Progress, follow, last_action, verdict};
use super::output::{Format, field, table};
use super::{Client, ClientError};
use crate::artifacts::{ObjectRef, manifest};
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
    url: String,
    fleet: SimFleet,
    lab: SimLab,
    /// BMC xnames in fleet order.
    bmcs: Vec<String>,
    /// Node xnames in fleet order (one system per BMC).
    nodes: Vec<String>,
    /// `s3://boot-images/demo-image/manifest.json`
    manifest: String,
}

/// How one session went.
struct Outcome {
    operation: Operation,
    name: String,
    elapsed: Duration,
    progress: Progress,
    /// The verdict: why the session counts as failed.
    failure: Option<String>,
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
        advertise_url: Some(url.clone()),
        bos_poll_ms: Some(200),
        power_confirm_ms: Some(100),
        power_sample_secs: Some(1),
        bmc_timeout_secs: Some(2),
        // Simulated nodes start at their HTTP boot script; no TFTP needed (nor port 69).
        tftp_listen: Some("off".into()),
        ..Settings::default()
    })?;
    let crate::artifacts::SourceConfig::Local { root } = &config.artifacts else {
        anyhow::bail!("the demo keeps its image in a local artifact directory, not S3");
    };
    let manifest = write_image(root)?;
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
    let mut lab_cfg = SimLabConfig::new(url.clone(), reqwest::Client::new());
    lab_cfg.pacing = Pacing {
        script_retry: Duration::from_millis(100),
        report_backoff: Duration::from_millis(50),
        report_retry: Duration::from_millis(200),
        ..Pacing::default()
    };
    let lab = SimLab::for_fleet(&lab_cfg, &fleet);
    let bmcs: Vec<String> = (0..n).map(bmc_xname).collect();
    let demo = Demo {
        client: Client::new(&url),
        url: url.clone(),
        nodes: bmcs.iter().map(|b| format!("{b}n0")).collect(),
        bmcs,
        fleet,
        lab,
        manifest,
    };
    println!("rackboot demo: {n} simulated nodes, each behind a simulated Redfish BMC");
    println!(
        "  appliance  {url}  (SQLite and artifacts in {}{})",
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
        r = drive(&demo) => (r, false),
        _ = crate::shutdown_signal() => (Err(anyhow::anyhow!("interrupted")), true),
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
        crate::shutdown_signal().await;
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

/// A kernel, an initrd and an IMS-style manifest in the local artifact directory; returns
/// the manifest's `s3://` path (what a boot set names).
fn write_image(artifacts: &Path) -> anyhow::Result<String> {
    let dir = artifacts.join(BUCKET).join(IMAGE);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut entries = Vec::new();
    for (file, kind, body) in [
        (
            "kernel",
            manifest::KERNEL,
            "rackboot demo kernel\n".repeat(3000),
        ),
        (
            "initrd",
            manifest::INITRD,
            "rackboot demo initrd\n".repeat(12000),
        ),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, &body).with_context(|| format!("cannot write {}", path.display()))?;
        let etag = format!("{:x}", Sha256::digest(body.as_bytes()));
        let obj = ObjectRef::new(BUCKET, &format!("{IMAGE}/{file}"))
            .map_err(|e| anyhow::anyhow!("{IMAGE}/{file}: {e}"))?;
        entries.push((kind, obj, etag));
    }
    let doc = manifest::render(
        &entries
            .iter()
            .map(|(k, o, e)| (*k, o, Some(e.as_str())))
            .collect::<Vec<_>>(),
    );
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(format!("s3://{BUCKET}/{IMAGE}/manifest.json"))
}

/// Everything a user would do, over HTTP: register, discover, template, three sessions.
async fn drive(d: &Demo) -> anyhow::Result<Vec<Outcome>> {
    register(d).await?;
    discover(d).await?;
    template(d).await?;
    let mut outcomes = Vec::new();
    // What each node last booted, as BOS recorded it (a shutdown empties the actual state).
    let mut booted = vec![String::new(); d.nodes.len()];
    let mut comps = Value::Null;
    for op in [Operation::Boot, Operation::Reboot, Operation::Shutdown] {
        let o = session(d, op).await?;
        let failed = o.failure.is_some();
        outcomes.push(o);
        comps = components(d).await?;
        for (x, b) in d.nodes.iter().zip(booted.iter_mut()) {
            let k = field(
                &component(&comps, x)["actual_state"]["boot_artifacts"],
                "kernel",
            );
            if !k.is_empty() {
                *b = k;
            }
        }
        if failed {
            break;
        }
    }
    nodes_table(d, &comps, &booted).await?;
    Ok(outcomes)
}

/// `POST RedfishEndpoints` for every BMC (a `PUT` for one a reused data directory already
/// has, which points it at this run's simulator and rediscovers it).
async fn register(d: &Demo) -> anyhow::Result<()> {
    for (id, bmc) in d.bmcs.iter().zip(d.fleet.bmcs()) {
        let body = json!({
            "ID": id,
            "FQDN": bmc.addr().to_string(),
            "Scheme": "http",
            "User": BMC_USER,
            "Password": BMC_PASSWORD,
            "Enabled": true,
        });
        match d.client.send(Method::POST, ENDPOINTS, Some(&body)).await {
            Ok(_) => {}
            Err(ClientError::Api { status, .. }) if status == reqwest::StatusCode::CONFLICT => {
                d.client
                    .send(Method::PUT, &format!("{ENDPOINTS}/{id}"), Some(&body))
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Wait until discovery has crawled every BMC (a bar on a terminal); fails naming the
/// first BMC discovery gave up on.
async fn discover(d: &Demo) -> anyhow::Result<()> {
    let n = d.bmcs.len() as u64;
    let bar = ProgressBar::new(n);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>14} {bar:40} {pos}/{len} [{elapsed}]")
            .expect("valid template")
            .progress_chars("█▉▊▋▌▍▎▏ "),
    );
    bar.set_prefix("discovering");
    let started = Instant::now();
    let limit = Duration::from_secs(60);
    let result = loop {
        let v: Value = d.client.get(ENDPOINTS).await?;
        let eps = v["RedfishEndpoints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut done = 0;
        let mut failed = None;
        for ep in eps.iter().filter(|e| d.bmcs.contains(&field(e, "ID"))) {
            let info = &ep["DiscoveryInfo"];
            match field(info, "LastDiscoveryStatus").as_str() {
                "NotYetQueried" | "DiscoveryStarted" => {}
                "DiscoverOK" => done += 1,
                other => {
                    failed.get_or_insert_with(|| {
                        format!(
                            "discovery of BMC {} failed ({other}): {}",
                            field(ep, "ID"),
                            field(info, "LastDiscoveryError")
                        )
                    });
                }
            }
        }
        bar.set_position(done);
        if let Some(f) = failed {
            break Err(anyhow::anyhow!(f));
        }
        if done == n {
            break Ok(());
        }
        if started.elapsed() > limit {
            break Err(anyhow::anyhow!(
                "discovery found {done} of {n} BMCs within {} s",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    bar.finish_and_clear();
    result?;
    println!(
        "discovered {n} nodes behind {n} BMCs in {}",
        secs(started.elapsed())
    );
    Ok(())
}

/// Save the `demo-site` configuration (two layers) and the `demo` session template (every
/// node, the sample image, that configuration), and check the template the way a boot would.
async fn template(d: &Demo) -> anyhow::Result<()> {
    let layers: Vec<Value> = [("base", "site.yml"), ("tuning", "tuning.yml")]
        .iter()
        .enumerate()
        .map(|(i, (name, playbook))| {
            json!({"name": name, "clone_url": format!("https://vcs.example/demo/{name}.git"),
                   "playbook": playbook, "commit": format!("{:040x}", i + 1)})
        })
        .collect();
    let n_layers = layers.len();
    let cfg = json!({"description": "rackboot demo", "layers": layers});
    let path = format!("/apis/cfs/v3/configurations/{CONFIGURATION}");
    let _: Value = d.client.json(Method::PUT, &path, Some(&cfg)).await?;
    let body = json!({
        "description": format!("rackboot demo: {} simulated nodes", d.nodes.len()),
        "enable_cfs": true,
        "cfs": {"configuration": CONFIGURATION},
        "boot_sets": {"compute": {
            "type": "s3",
            "path": d.manifest,
            "node_list": d.nodes,
            "kernel_parameters": "console=ttyS0,115200",
        }},
    });
    let path = format!("/apis/bos/v2/sessiontemplates/{TEMPLATE}");
    let _: Value = d.client.json(Method::PUT, &path, Some(&body)).await?;
    let valid: Value = d
        .client
        .get(&format!("/apis/bos/v2/sessiontemplatesvalid/{TEMPLATE}"))
        .await?;
    if valid.as_str() != Some("Valid") {
        anyhow::bail!("session template {TEMPLATE} is not valid: {valid}");
    }
    println!(
        "session template {TEMPLATE} saved: {} nodes, image {IMAGE}, configuration {CONFIGURATION} \
         ({n_layers} layers, which each node applies and reports to the built-in CFS after it boots)",
        d.nodes.len()
    );
    Ok(())
}

/// Create a session of the template, follow it until complete, print its summary.
async fn session(d: &Demo, op: Operation) -> anyhow::Result<Outcome> {
    println!();
    println!(
        "{}",
        match op {
            Operation::Boot => "Boot: power every node on; each netboots the image and reports",
            Operation::Reboot => "Reboot: power every node off, then on again into the same image",
            Operation::Shutdown => "Shutdown: power every node off",
        }
    );
    let started = Instant::now();
    let s: Value = d
        .client
        .json(
            Method::POST,
            "/apis/bos/v2/sessions",
            Some(&json!({"template_name": TEMPLATE, "operation": op.as_str()})),
        )
        .await?;
    let name = field(&s, "name");
    // Bars redraw at this rate on a terminal; elsewhere each poll is a line, so fewer.
    let interval = if std::io::stdout().is_terminal() {
        Duration::from_millis(200)
    } else {
        Duration::from_millis(500)
    };
    let (status, session) = follow(&d.client, Format::Table, &name, interval).await?;
    let o = Outcome {
        operation: op,
        elapsed: started.elapsed(),
        progress: Progress::from_status(&status),
        failure: verdict(&status, &session).err(),
        name,
    };
    println!("{}", summary(&o));
    if let Some(f) = &o.failure {
        println!("  {f}");
    }
    Ok(o)
}

/// `boot session NAME complete in 2.1 s: 8 successful, 0 failed`
fn summary(o: &Outcome) -> String {
    format!(
        "{} session {} complete in {}: {} successful, {} failed",
        o.operation.as_str(),
        o.name,
        secs(o.elapsed),
        o.progress.successful,
        o.progress.failed
    )
}

/// The demo's nodes' BOS components.
async fn components(d: &Demo) -> anyhow::Result<Value> {
    Ok(d.client
        .get(&format!(
            "/apis/bos/v2/components?ids={}",
            d.nodes.join(",")
        ))
        .await?)
}

/// Node `x`'s component in a component list (`Null` if it has none).
fn component<'a>(comps: &'a Value, x: &str) -> &'a Value {
    comps
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == x))
        .unwrap_or(&Value::Null)
}

/// Every node: its power (PCS), BOS status, last action and actual state, the kernel it
/// last booted, and how many boots its simulated node completed.
async fn nodes_table(d: &Demo, comps: &Value, booted: &[String]) -> anyhow::Result<()> {
    let power = fresh_power(d, chrono::Utc::now()).await?;
    let boots: Vec<u64> = d
        .lab
        .nodes()
        .iter()
        .map(|n| n.status().boots_completed)
        .collect();
    let cfs: Value = d
        .client
        .get(&format!(
            "/apis/cfs/v3/components?ids={}",
            d.nodes.join(",")
        ))
        .await?;
    println!();
    println!(
        "{}",
        table(
            &[
                "NODE",
                "POWER",
                "BOS STATUS",
                "CONFIGURATION",
                "LAST ACTION",
                "ACTUAL STATE",
                "LAST BOOTED",
                "BOOTS"
            ],
            node_rows(&d.nodes, comps, &cfs, &power, booted, &boots)
        )
    );
    Ok(())
}

/// PCS power status of the demo's nodes, once every node has been sampled at or after
/// `since` (the power monitor samples every second, so a sample taken while the last
/// session was still powering nodes off would show `transition`); after a few seconds,
/// whatever it says.
async fn fresh_power(d: &Demo, since: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Value> {
    let started = Instant::now();
    loop {
        let power: Value = d
            .client
            .json(
                Method::POST,
                "/apis/power-control/v1/power-status",
                Some(&json!({ "xname": d.nodes })),
            )
            .await?;
        if sampled_since(&power, since) || started.elapsed() > Duration::from_secs(5) {
            return Ok(power);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether every entry of a power-status answer was sampled at or after `since`.
fn sampled_since(power: &Value, since: chrono::DateTime<chrono::Utc>) -> bool {
    power["status"].as_array().is_some_and(|a| {
        a.iter().all(|p| {
            chrono::DateTime::parse_from_rfc3339(&field(p, "lastUpdated")).is_ok_and(|t| t >= since)
        })
    })
}

fn node_rows(
    nodes: &[String],
    comps: &Value,
    cfs: &Value,
    power: &Value,
    booted: &[String],
    boots: &[u64],
) -> Vec<Vec<String>> {
    let power = power["status"].as_array().cloned().unwrap_or_default();
    nodes
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let c = component(comps, x);
            let p = power
                .iter()
                .find(|p| p["xname"] == x.as_str())
                .map(|p| field(p, "powerState"))
                .unwrap_or_default();
            let config = cfs["components"]
                .as_array()
                .and_then(|l| l.iter().find(|c| c["id"] == x.as_str()))
                .map(|c| field(c, "configuration_status"))
                .unwrap_or_default();
            let actual = match field(&c["actual_state"]["boot_artifacts"], "kernel") {
                k if k.is_empty() => "none".to_string(),
                k => k,
            };
            vec![
                x.clone(),
                or_dash(p),
                or_dash(field(&c["status"], "status")),
                or_dash(config),
                or_dash(last_action(c)),
                actual,
                or_dash(booted.get(i).cloned().unwrap_or_default()),
                boots.get(i).map(u64::to_string).unwrap_or_default(),
            ]
        })
        .collect()
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

/// What to try while `--keep-running` keeps everything up.
fn explore(d: &Demo) {
    let url = &d.url;
    let first = &d.nodes[0];
    let mac = d.lab.nodes().first().map(|n| n.mac().to_string());
    println!();
    println!(
        "The appliance and the simulated BMCs and nodes keep running at {url}; Ctrl-C stops them."
    );
    println!("Explore (the CLI takes --url, or RACKBOOT_URL={url}):");
    for cmd in [
        format!("rackboot bos sessions list --url {url}"),
        format!("rackboot bos components list --url {url}"),
        format!(
            "rackboot bos sessions create --template-name {TEMPLATE} --operation boot --watch --url {url}"
        ),
        format!("rackboot power status all --url {url}"),
        format!("rackboot cfs components list --url {url}"),
        format!("rackboot cfs components get {first} --state-details --url {url}"),
        format!("rackboot nodes timeline {first} --url {url}"),
        format!("curl {url}/apis/bos/v2/sessiontemplates/{TEMPLATE}"),
        format!("curl {url}/apis/smd/hsm/v2/State/Components"),
    ] {
        println!("  {cmd}");
    }
    if let Some(mac) = mac {
        println!("  curl '{url}/boot/v1/bootscript?mac={mac}'");
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

    #[test]
    fn demo_image_manifest_parses_as_bos_reads_it() {
        let dir = std::env::temp_dir().join(format!("rackboot-demo-test-{}", uuid::Uuid::new_v4()));
        let scratch = Scratch(dir.clone());
        let path = write_image(&dir).unwrap();
        assert_eq!(path, "s3://boot-images/demo-image/manifest.json");
        let bytes = std::fs::read(dir.join("boot-images/demo-image/manifest.json")).unwrap();
        let m = manifest::parse(&path, &bytes).unwrap();
        assert_eq!(
            m.kernel.path.to_string(),
            "s3://boot-images/demo-image/kernel"
        );
        assert_eq!(
            m.initrd.unwrap().path.to_string(),
            "s3://boot-images/demo-image/initrd"
        );
        assert_eq!(m.kernel.etag.as_deref().map(str::len), Some(64));
        assert!(dir.join("boot-images/demo-image/kernel").is_file());
        drop(scratch);
        assert!(!dir.exists());
    }

    #[test]
    fn demo_summary_and_node_rows() {
        let o = Outcome {
            operation: Operation::Reboot,
            name: "s1".into(),
            elapsed: Duration::from_millis(2345),
            progress: Progress {
                successful: 7,
                failed: 1,
                ..Progress::default()
            },
            failure: Some("x".into()),
        };
        assert_eq!(
            summary(&o),
            "reboot session s1 complete in 2.3 s: 7 successful, 1 failed"
        );
        let nodes = vec!["x3000c0s0b0n0".to_string(), "x3000c0s1b0n0".to_string()];
        let comps = json!([
            {"id": "x3000c0s1b0n0", "status": {"status": "stable"},
             "last_action": {"action": "powering_off_gracefully", "failed": true},
             "actual_state": {"boot_artifacts": {}}},
            {"id": "x3000c0s0b0n0", "status": {"status": "stable"},
             "last_action": {"action": "powering_on"},
             "actual_state": {"boot_artifacts": {"kernel": "s3://b/k"}}},
        ]);
        let power = json!({"status": [{"xname": "x3000c0s0b0n0", "powerState": "on"}]});
        let cfs =
            json!({"components": [{"id": "x3000c0s0b0n0", "configuration_status": "configured"}]});
        let booted = ["s3://b/k".to_string(), String::new()];
        assert_eq!(
            node_rows(&nodes, &comps, &cfs, &power, &booted, &[2]),
            [
                [
                    "x3000c0s0b0n0",
                    "on",
                    "stable",
                    "configured",
                    "powering_on",
                    "s3://b/k",
                    "s3://b/k",
                    "2"
                ],
                [
                    "x3000c0s1b0n0",
                    "-",
                    "stable",
                    "-",
                    "powering_off_gracefully (failed)",
                    "none",
                    "-",
                    ""
                ],
            ]
        );
        assert_eq!(component(&comps, "x9"), &Value::Null);
        let since = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let at = |t: &str| json!({"status": [{"lastUpdated": "2026-01-01T10:00:01+00:00"}, {"lastUpdated": t}]});
        assert!(sampled_since(&at("2026-01-01T10:00:00+00:00"), since));
        assert!(!sampled_since(&at("2026-01-01T09:59:59.9+00:00"), since));
        assert!(!sampled_since(&at(""), since));
        assert!(!sampled_since(&json!({}), since));
        assert_eq!(component(&Value::Null, "x9"), &Value::Null);
    }
}
