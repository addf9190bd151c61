//! `rackboot power on|off|soft-off|restart|init|status NODE...`: PCS transitions from the
//! command line, with a progress bar while they run and a per-node result table.
//!
//! NODE is an xname, a group label, or `all` (every Node in the inventory). The command
//! exits non-zero if any node's task failed, so scripts can rely on it, and its error lists
//! each failed node with the server's message (which names the BMC, the system, what was sent
//! and the last PowerState read). Reset types are the server's choice, per system.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{Value, json};

use super::Client;
use super::output::{Format, as_array, field, show, table};
use crate::model::Xname;

#[derive(clap::Args, Debug)]
pub struct Targets {
    /// Nodes: xnames, group labels, or `all`
    #[arg(required = true)]
    pub nodes: Vec<String>,
    /// Seconds to wait for each step to be confirmed (default: the server's 5 minutes)
    #[arg(long)]
    pub deadline_secs: Option<u64>,
    /// Record the transition and print its ID without waiting for it
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Subcommand, Debug)]
pub enum PowerCommand {
    /// Power nodes on (a node already on is left alone; with --netboot it is refused)
    On {
        #[command(flatten)]
        targets: Targets,
        /// Boot from the network once (sets a one-time Pxe boot override first). Refused for
        /// a node that is already on, and for a system that cannot take a boot override: use
        /// `restart --netboot` to boot a running node from the network
        #[arg(long, conflicts_with = "boot_target")]
        netboot: bool,
        /// Set this one-time boot override first (Pxe, UefiHttp, Hdd, ...)
        #[arg(long)]
        boot_target: Option<String>,
    },
    /// Power nodes off: the system's graceful off, forced off if it does not finish in time
    Off {
        #[command(flatten)]
        targets: Targets,
        /// Force off at once (no graceful shutdown)
        #[arg(long)]
        force: bool,
    },
    /// The system's graceful off only; never forced
    SoftOff {
        #[command(flatten)]
        targets: Targets,
    },
    /// Restart nodes that are on (graceful restart; --hard: off, then on)
    Restart {
        #[command(flatten)]
        targets: Targets,
        #[arg(long)]
        hard: bool,
        /// Boot from the network once: the node restarts into a one-time Pxe override
        #[arg(long)]
        netboot: bool,
    },
    /// Bring nodes to a fresh start: off (if on), then on
    Init {
        #[command(flatten)]
        targets: Targets,
        #[arg(long)]
        netboot: bool,
    },
    /// Show nodes' power state as last sampled
    Status {
        /// Nodes: xnames, group labels, or `all`
        #[arg(required = true)]
        nodes: Vec<String>,
    },
}

pub async fn run(c: &Client, format: Format, cmd: PowerCommand) -> anyhow::Result<()> {
    let (op, targets, boot) = match cmd {
        PowerCommand::Status { nodes } => return status(c, format, &nodes).await,
        PowerCommand::On {
            targets,
            netboot,
            boot_target,
        } => ("on", targets, boot_target.or(netboot.then(|| "Pxe".into()))),
        PowerCommand::Off { targets, force } => {
            (if force { "force-off" } else { "off" }, targets, None)
        }
        PowerCommand::SoftOff { targets } => ("soft-off", targets, None),
        PowerCommand::Restart {
            targets,
            hard,
            netboot,
        } => (
            if hard { "hard-restart" } else { "soft-restart" },
            targets,
            netboot.then(|| "Pxe".into()),
        ),
        PowerCommand::Init { targets, netboot } => ("init", targets, netboot.then(|| "Pxe".into())),
    };
    let nodes = resolve_nodes(c, &targets.nodes).await?;
    let mut body = json!({
        "operation": op,
        "location": nodes.iter().map(|x| json!({"xname": x})).collect::<Vec<_>>(),
    });
    if let Some(s) = targets.deadline_secs {
        body["taskDeadlineSeconds"] = s.into();
    }
    if let Some(b) = boot {
        body["bootTarget"] = b.into();
    }
    let started: Value = c
        .json(
            Method::POST,
            "/apis/power-control/v1/transitions",
            Some(&body),
        )
        .await?;
    let id = field(&started, "transitionID");
    if targets.no_wait {
        show(format, &started, |_| {
            format!("transition {id}: {op} of {} nodes recorded", nodes.len())
        });
        return Ok(());
    }
    let t = follow(c, &id, nodes.len() as u64).await?;
    report(format, &t)
}

/// Poll the transition until it is done, showing progress.
async fn follow(c: &Client, id: &str, total: u64) -> anyhow::Result<Value> {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} nodes done {msg}",
        )
        .expect("valid template"),
    );
    let path = format!("/apis/power-control/v1/transitions/{id}");
    loop {
        // Poll the list (headers and counts); the full record, with a task per node, is
        // read once at the end.
        let all: Value = c.get("/apis/power-control/v1/transitions").await?;
        let t = all["transitions"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["transitionID"] == id))
            .cloned()
            .with_context(|| format!("transition {id} disappeared"))?;
        let counts = &t["taskCounts"];
        let n = |k: &str| counts[k].as_u64().unwrap_or(0);
        bar.set_position(n("succeeded") + n("failed") + n("un-supported"));
        bar.set_message(format!(
            "({} failed, {} in progress)",
            n("failed") + n("un-supported"),
            n("in-progress")
        ));
        if matches!(
            t["transitionStatus"].as_str(),
            Some("completed") | Some("aborted")
        ) {
            bar.finish_and_clear();
            return Ok(c.get(&path).await?);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn report(format: Format, t: &Value) -> anyhow::Result<()> {
    let tasks = t["tasks"].as_array().cloned().unwrap_or_default();
    show(format, t, |t| {
        let rows = tasks
            .iter()
            .map(|task| {
                vec![
                    field(task, "xname"),
                    field(task, "taskStatus"),
                    field(task, "taskStatusDescription"),
                    field(task, "error"),
                ]
            })
            .collect();
        format!(
            "{}\ntransition {} ({}): {}",
            table(&["NODE", "RESULT", "DESCRIPTION", "ERROR"], rows),
            field(t, "transitionID"),
            field(t, "operation"),
            field(t, "transitionStatus")
        )
    });
    let failed: Vec<String> = tasks
        .iter()
        .filter(|task| !matches!(task["taskStatus"].as_str(), Some("succeeded")))
        .map(|task| {
            format!(
                "\n  {}: {}",
                field(task, "xname"),
                task["error"]
                    .as_str()
                    .unwrap_or_else(|| task["taskStatusDescription"].as_str().unwrap_or(""))
            )
        })
        .collect();
    if !failed.is_empty() || t["transitionStatus"] != "completed" {
        anyhow::bail!(
            "{} of {} nodes did not reach the requested state{}",
            failed.len(),
            tasks.len(),
            failed.concat()
        );
    }
    Ok(())
}

async fn status(c: &Client, format: Format, args: &[String]) -> anyhow::Result<()> {
    let nodes = if args.iter().any(|a| a == "all") {
        Vec::new()
    } else {
        resolve_nodes(c, args).await?
    };
    let v: Value = c
        .json(
            Method::POST,
            "/apis/power-control/v1/power-status",
            Some(&json!({ "xname": nodes })),
        )
        .await?;
    show(format, &v, |v| {
        let rows = as_array(&v["status"])
            .iter()
            .map(|s| {
                vec![
                    field(s, "xname"),
                    field(s, "powerState"),
                    field(s, "managementState"),
                    field(s, "supportedPowerTransitions"),
                    field(s, "lastUpdated"),
                    field(s, "error"),
                ]
            })
            .collect();
        table(
            &[
                "NODE",
                "POWER",
                "MANAGEMENT",
                "SUPPORTED",
                "SAMPLED",
                "ERROR",
            ],
            rows,
        )
    });
    Ok(())
}

/// Expand xnames, group labels and `all` into node xnames (deduplicated, in order).
pub async fn resolve_nodes(c: &Client, args: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |x: String, out: &mut Vec<String>| {
        if seen.insert(x.clone()) {
            out.push(x);
        }
    };
    for arg in super::split_list(args) {
        if arg == "all" {
            let v: Value = c.get("/apis/smd/hsm/v2/State/Components?type=Node").await?;
            for comp in v["Components"].as_array().cloned().unwrap_or_default() {
                push(field(&comp, "ID"), &mut out);
            }
            continue;
        }
        if let Ok(x) = Xname::parse(&arg) {
            push(x.to_string(), &mut out);
            continue;
        }
        let group: Value = c
            .get(&format!("/apis/smd/hsm/v2/groups/{arg}"))
            .await
            .with_context(|| format!("'{arg}' is neither an xname nor a known group"))?;
        for m in group["members"]["ids"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if let Some(s) = m.as_str() {
                push(s.to_string(), &mut out);
            }
        }
    }
    if out.is_empty() {
        anyhow::bail!("no nodes matched {}", args.join(" "));
    }
    Ok(out)
}
