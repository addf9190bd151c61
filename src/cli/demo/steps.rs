//! What the demo does, as an admin would, over the appliance's real HTTP API with the
//! crate's own client: register every BMC in HSM and wait for discovery, save a CFS
//! configuration and a BOS session template, then run a Boot, a Reboot and a Shutdown
//! session, following each with the live view of `rackboot bos sessions status --watch`.
//!
//! Each step fails with what went wrong (a BMC discovery gave up on, a template the server
//! finds invalid); a session that completes with failed nodes is not an error here but an
//! [`Outcome`] with a failure, so the demo still shows the node table before it exits
//! non-zero.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{Value, json};

use super::report::{component, components, nodes_table};
use super::{BMC_PASSWORD, BMC_USER, CONFIGURATION, Demo, ENDPOINTS, IMAGE, TEMPLATE, secs};
use crate::cli::ClientError;
use crate::cli::bos::{Operation, Progress, follow, verdict};
use crate::cli::output::{Format, field};

/// How one session went.
pub(super) struct Outcome {
    pub(super) operation: Operation,
    pub(super) name: String,
    pub(super) elapsed: Duration,
    pub(super) progress: Progress,
    /// The verdict: why the session counts as failed.
    pub(super) failure: Option<String>,
}

/// Everything a user would do, over HTTP: register, discover, template, three sessions.
pub(super) async fn drive(d: &Demo) -> anyhow::Result<Vec<Outcome>> {
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
pub(super) fn summary(o: &Outcome) -> String {
    format!(
        "{} session {} complete in {}: {} successful, {} failed",
        o.operation.as_str(),
        o.name,
        secs(o.elapsed),
        o.progress.successful,
        o.progress.failed
    )
}
