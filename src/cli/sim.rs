//! `rackboot sim bmcs`: run a fleet of simulated BMCs (SimBmc) for labs, demos and
//! benchmarks, and write the matching HSM RedfishEndpoints so they can be registered with
//! `curl -d @FILE …/Inventory/RedfishEndpoints` (or `rackboot bmc add`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use redfish::sim::{SimConfig, SimFleet};

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve simulated BMCs on 127.0.0.1 until interrupted
    Bmcs {
        /// How many BMCs (one listener each)
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// Systems (nodes) per BMC
        #[arg(long, default_value_t = 1)]
        systems: usize,
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
        /// First cabinet number of the BMC xnames (BMC i is x<first+i>c0s0b0)
        #[arg(long, default_value_t = 1000)]
        first_cabinet: usize,
        /// Write the fleet as HSM RedfishEndpoints JSON to this file
        #[arg(long)]
        endpoints: Option<PathBuf>,
    },
}

pub async fn run(cmd: SimCommand) -> anyhow::Result<()> {
    let SimCommand::Bmcs {
        count,
        systems,
        latency_ms,
        power_delay_ms,
        tls,
        username,
        password,
        first_cabinet,
        endpoints,
    } = cmd;
    if count == 0 || systems == 0 {
        anyhow::bail!("--count and --systems must be at least 1");
    }
    if first_cabinet + count > 10_000 {
        anyhow::bail!("--first-cabinet {first_cabinet} + --count {count} exceeds cabinet x9999");
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
            ..SimConfig::default()
        },
    )
    .await
    .context("cannot start the simulated BMCs (too many open files? raise `ulimit -n`)")?;
    let eps: Vec<serde_json::Value> = fleet
        .bmcs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut ep = serde_json::json!({
                "ID": format!("x{}c0s0b0", first_cabinet + i),
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
        "serving {count} simulated BMC(s) with {systems} system(s) each ({first} … {last}){}; Ctrl-C stops",
        endpoints
            .as_ref()
            .map(|p| format!("; endpoints in {}", p.display()))
            .unwrap_or_default()
    );
    crate::shutdown_signal().await;
    let c = fleet.counters();
    eprintln!(
        "stopping: {} requests, {} resets, {} patches served",
        c.requests, c.resets, c.patches
    );
    fleet.shutdown().await;
    Ok(())
}
