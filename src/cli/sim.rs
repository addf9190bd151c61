//! `rackboot sim bmcs`: run a fleet of simulated BMCs (SimBmc) for labs, demos and
//! benchmarks, and write the matching HSM RedfishEndpoints so they can be registered with
//! `curl -d @FILE …/Inventory/RedfishEndpoints` (or `rackboot bmc add`).
//!
//! With `--mockup DIR` the BMCs replay a recorded Redfish tree of a real BMC (DMTF mockup
//! layout, e.g. `tests/fixtures/redfish-mockups/EX425`) instead of building clean documents:
//! every BMC has its own power and boot state on top of the one tree, and BMC `i` rewrites the
//! tree's MACs and UUIDs by the seed `--mac-seed + i` (seed 0 keeps them as recorded), so no
//! two BMCs share a MAC. `--nodes` re-lists the tree's Systems collection (copying its first
//! system for new ids), e.g. a four-node blade listed out of order.
//!
//! With `--netboot URL` every system also gets a simulated netboot node (`crate::sim`):
//! when its system powers on it fetches its iPXE script, kernel and initrd from the
//! appliance at URL and reports its token like bos-reporter, so BOS sessions can run to
//! completion against the fleet.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use redfish::sim::{Mockup, SimConfig, SimFleet};

use crate::sim::{SimLab, SimLabConfig, SimLabTotals};

/// Idle connections the netboot nodes of one `sim bmcs` process keep to the appliance.
const NETBOOT_IDLE_CONNECTIONS: usize = 256;

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve simulated BMCs on 127.0.0.1 until interrupted
    Bmcs {
        /// How many BMCs (one listener each)
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// Systems (nodes) per BMC (not used with --mockup: the tree decides)
        #[arg(long, default_value_t = 1)]
        systems: usize,
        /// Replay this recorded Redfish tree (DMTF mockup layout: DIR/index.json is
        /// /redfish/v1) on every BMC, each with its own state and its own MACs and UUIDs
        #[arg(long, value_name = "DIR")]
        mockup: Option<PathBuf>,
        /// With --mockup: list exactly these systems, in this order (comma-separated ids; ids
        /// the tree lacks are copies of its first system), e.g. Node3,Node1,Node2,Node0
        #[arg(long, value_delimiter = ',', requires = "mockup")]
        nodes: Vec<String>,
        /// Added to every Redfish answer, in milliseconds
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// PoweringOn → On (and PoweringOff → Off) delay, in milliseconds
        #[arg(long, default_value_t = 0)]
        power_delay_ms: u64,
        /// Serve HTTPS with a generated certificate (its SHA-256 goes into the endpoints file)
        #[arg(long)]
        tls: bool,
        #[arg(long, default_value = "admin")]
        username: String,
        #[arg(long, default_value = "password")]
        password: String,
        /// First cabinet number of the BMC xnames (BMC i is x<first+i>c0s0b0 with the default
        /// --bmcs-per-cabinet 1)
        #[arg(long, default_value_t = 1000)]
        first_cabinet: usize,
        /// BMCs per cabinet: BMC i is x<first + i / N>c0s<i % N>b0 (N at most 64), so that
        /// more than 9,000 BMCs fit in the cabinet range
        #[arg(long, default_value_t = 1)]
        bmcs_per_cabinet: usize,
        /// First MAC index: MACs are 02:00:xx:xx:xx:xx counting up from here, one per system.
        /// Fleets in separate processes registered with one appliance need disjoint ranges
        /// (e.g. the number of systems served by the processes before this one). With
        /// --mockup: the first BMC's MAC/UUID rewrite seed (0 keeps the recorded ones)
        #[arg(long, default_value_t = 0)]
        mac_seed: u32,
        /// Write the fleet as HSM RedfishEndpoints JSON to this file
        #[arg(long)]
        endpoints: Option<PathBuf>,
        /// Give every system a simulated netboot node that boots from the appliance at this
        /// URL (e.g. http://127.0.0.1:8080) whenever the system powers on, and reports its
        /// boot token to BOS like bos-reporter
        #[arg(long, value_name = "APPLIANCE_URL")]
        netboot: Option<String>,
        /// With --netboot: print the nodes' summed status to stderr this often while it
        /// changes (0: only at exit)
        #[arg(long, default_value_t = 5, requires = "netboot")]
        status_secs: u64,
    },
}

pub async fn run(cmd: SimCommand) -> anyhow::Result<()> {
    let SimCommand::Bmcs {
        count,
        systems,
        mockup,
        nodes,
        latency_ms,
        power_delay_ms,
        tls,
        username,
        password,
        first_cabinet,
        bmcs_per_cabinet,
        mac_seed,
        endpoints,
        netboot,
        status_secs,
    } = cmd;
    if count == 0 || systems == 0 {
        anyhow::bail!("--count and --systems must be at least 1");
    }
    if !(1..=64).contains(&bmcs_per_cabinet) {
        anyhow::bail!("--bmcs-per-cabinet must be between 1 and 64");
    }
    let cabinets = count.div_ceil(bmcs_per_cabinet);
    if first_cabinet + cabinets > 10_000 {
        anyhow::bail!(
            "--first-cabinet {first_cabinet} + {cabinets} cabinet(s) exceeds cabinet x9999 \
             (raise --bmcs-per-cabinet or lower --first-cabinet)"
        );
    }
    let mockup = match &mockup {
        None => None,
        Some(dir) => {
            let m = Mockup::load(dir)
                .with_context(|| format!("cannot load the Redfish tree {}", dir.display()))?;
            let m = if nodes.is_empty() {
                m
            } else {
                let ids: Vec<&str> = nodes.iter().map(String::as_str).collect();
                m.with_nodes(&ids)
                    .with_context(|| format!("--nodes {}", nodes.join(",")))?
            };
            if m.system_paths().is_empty() {
                anyhow::bail!("{}: the tree lists no system", dir.display());
            }
            Some(m)
        }
    };
    let systems = mockup.as_ref().map_or(systems, |m| m.system_paths().len());
    if let Some(url) = &netboot {
        url::Url::parse(url)
            .with_context(|| format!("--netboot {url:?} is not an absolute URL"))?;
    }
    let fleet = SimFleet::start(
        count,
        SimConfig {
            systems,
            tls,
            username: username.clone(),
            password: password.clone(),
            latency: Duration::from_millis(latency_ms),
            power_delay: Duration::from_millis(power_delay_ms),
            mac_seed,
            mockup,
            ..SimConfig::default()
        },
    )
    .await
    .context(
        "cannot start the simulated BMCs (too many open files? raise `ulimit -n`; address in \
         use? the ephemeral ports are taken, e.g. by TIME_WAIT sockets of an earlier run)",
    )?;
    // The nodes start before the endpoints file appears, so whoever waits for the file
    // finds them ready.
    let lab = match &netboot {
        None => None,
        Some(url) => {
            // Real nodes hold no idle connection to the appliance between boots; here all
            // nodes share one pool, so keep only a few idle connections (in-flight requests
            // are not limited): 10,000 idle sockets would otherwise sit in both processes.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(NETBOOT_IDLE_CONNECTIONS)
                .no_proxy()
                .build()
                .context("cannot build the netboot nodes' HTTP client")?;
            Some(SimLab::for_fleet(
                &SimLabConfig::new(url.trim_end_matches('/'), http),
                &fleet,
            ))
        }
    };
    let eps: Vec<serde_json::Value> = fleet
        .bmcs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut ep = serde_json::json!({
                "ID": bmc_xname(first_cabinet, bmcs_per_cabinet, i),
                "FQDN": b.addr().to_string(),
                "Scheme": if tls { "https" } else { "http" },
                "User": username,
                "Password": password,
                "Enabled": true,
            });
            if let Some(pin) = b.cert_sha256() {
                ep["CertSHA256"] = pin.into();
            }
            ep
        })
        .collect();
    if let Some(path) = &endpoints {
        let doc = serde_json::json!({ "RedfishEndpoints": eps });
        std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let first = fleet
        .bmcs
        .first()
        .map(|b| b.addr().to_string())
        .unwrap_or_default();
    let last = fleet
        .bmcs
        .last()
        .map(|b| b.addr().to_string())
        .unwrap_or_default();
    eprintln!(
        "serving {count} simulated BMC(s) with {systems} system(s) each ({first} … {last}){}{}; Ctrl-C stops",
        endpoints
            .as_ref()
            .map(|p| format!("; endpoints in {}", p.display()))
            .unwrap_or_default(),
        match (&lab, &netboot) {
            (Some(lab), Some(url)) => format!("; {} netboot node(s) booting from {url}", lab.len()),
            _ => String::new(),
        }
    );
    let reporter = match &lab {
        Some(lab) if status_secs > 0 => Some(report_totals(lab, Duration::from_secs(status_secs))),
        _ => None,
    };
    // SIGUSR1 prints the BMCs' request counters (bench/session.sh reads them before and after
    // a session, to count Redfish requests per node).
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .context("cannot listen for SIGUSR1")?;
    let stop = crate::shutdown::signal();
    let reporter = async {
        match reporter {
            Some(r) => r.await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop, reporter);
    loop {
        tokio::select! {
            () = &mut stop => break,
            () = &mut reporter => break,
            _ = usr1.recv() => {
                let c = fleet.counters();
                eprintln!(
                    "counters: {} requests, {} resets, {} patches, {} session logins, {} GETs, {} SSE streams",
                    c.requests, c.resets, c.patches, c.sessions_created, c.gets, c.sse_streams
                );
            }
        }
    }
    if let Some(lab) = &lab {
        lab.stop();
        eprintln!("nodes: {}", totals_line(&lab.totals()));
    }
    let c = fleet.counters();
    eprintln!(
        "stopping: {} requests ({} GETs), {} resets, {} patches, {} session logins served",
        c.requests, c.gets, c.resets, c.patches, c.sessions_created
    );
    fleet.shutdown().await;
    Ok(())
}

/// The xname of BMC `i`: `bmcs_per_cabinet` slots per cabinet from `first_cabinet` on.
fn bmc_xname(first_cabinet: usize, bmcs_per_cabinet: usize, i: usize) -> String {
    format!(
        "x{}c0s{}b0",
        first_cabinet + i / bmcs_per_cabinet,
        i % bmcs_per_cabinet
    )
}

/// Print the lab's totals every `every` while they change. Never returns.
async fn report_totals(lab: &SimLab, every: Duration) {
    let mut last = None;
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let t = lab.totals();
        if last != Some(t) {
            eprintln!(
                "{} nodes: {}",
                chrono::Utc::now().format("%H:%M:%S%.3fZ"),
                totals_line(&t)
            );
            last = Some(t);
        }
    }
}

fn totals_line(t: &SimLabTotals) -> String {
    format!(
        "{} total: {} off, {} booting, {} up, {} hung, {} failed; boots {} started, {} completed, \
         {} cancelled; {} scripts, {} artifacts ({} bytes); reports {} sent, {} ok; {} errors",
        t.nodes,
        t.off,
        t.booting,
        t.up,
        t.hung,
        t.failed,
        t.boots_started,
        t.boots_completed,
        t.boots_cancelled,
        t.scripts_fetched,
        t.artifacts_fetched,
        t.bytes_fetched,
        t.reports_sent,
        t.reports_ok,
        t.errors
    )
}

#[cfg(test)]
mod tests {
    use super::bmc_xname;

    #[test]
    fn sim_bmc_xnames_pack_slots_per_cabinet() {
        assert_eq!(bmc_xname(1000, 1, 0), "x1000c0s0b0");
        assert_eq!(bmc_xname(1000, 1, 5), "x1005c0s0b0");
        assert_eq!(bmc_xname(1000, 8, 9), "x1001c0s1b0");
        assert_eq!(bmc_xname(1000, 8, 9999), "x2249c0s7b0");
    }
}
