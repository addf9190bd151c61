//! `rackboot bmc add|list|discover|trust`: register BMCs, see what discovery found, and
//! trust a BMC's certificate.
//!
//! `add` records the BMC (HSM `RedfishEndpoints`), then waits for discovery to crawl it
//! and prints the nodes it created, or exits non-zero with the reason discovery failed
//! (unreachable, wrong password, untrusted certificate — with the pin to use). `list` and
//! the outcome of `add`/`discover` show how each certificate is trusted (`tofu:<sha256>`
//! once pinned on first contact) and what discovery could not read or would not do.
//! `trust` pins the certificate a BMC presented when it was refused (a changed
//! certificate under `bmc_tls = tofu`, or a self-signed one under `verify`), exactly that
//! one: the appliance recorded its fingerprint, so nothing that answers later is trusted
//! blindly. `discover --renumber` renames a BMC's nodes as HSM would.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{Value, json};

use super::Client;
use super::output::{Format, as_array, field, show, table};
use crate::model::{Xname, XnameKind};

#[derive(Subcommand, Debug)]
pub enum BmcCommand {
    /// Register a BMC and discover its systems
    Add {
        /// The BMC's address: https://host[:port] (http:// only for simulators)
        #[arg(value_name = "URL")]
        address: String,
        #[arg(long, short = 'u')]
        username: String,
        #[arg(
            long,
            short = 'p',
            env = "RACKBOOT_BMC_PASSWORD",
            hide_env_values = true
        )]
        password: String,
        /// Trust this CA certificate (PEM file), e.g. the BMC's own self-signed certificate
        #[arg(long = "bmc-ca", conflicts_with_all = ["pin", "insecure"])]
        ca: Option<std::path::PathBuf>,
        /// Trust exactly the certificate with this SHA-256 fingerprint
        #[arg(long = "bmc-pin", conflicts_with = "insecure")]
        pin: Option<String>,
        /// Do not verify the BMC's certificate at all
        #[arg(long)]
        insecure: bool,
        /// The BMC's xname (e.g. x3000c0s1b0; nodes become x3000c0s1b0n0, n1, ...) or the
        /// xname of its one node; default: the URL's host name when it is an xname
        #[arg(long)]
        xname: Option<String>,
        /// Do not wait for discovery
        #[arg(long)]
        no_wait: bool,
    },
    /// List registered BMCs, how their certificates are trusted, and their discovery status
    List,
    /// Discover BMCs again (all when none are named)
    Discover {
        xnames: Vec<String>,
        /// Rename the nodes as HSM would (member ids in sorted order), moving any node whose
        /// name differs, with its boot parameters, BOS state and MACs
        #[arg(long)]
        renumber: bool,
        #[arg(long)]
        no_wait: bool,
    },
    /// Trust a BMC's TLS certificate: by default the one it presented when it was refused
    /// (a changed certificate, or a self-signed one under bmc_tls = verify)
    Trust {
        /// The BMC's xname
        xname: String,
        /// Pin this SHA-256 fingerprint instead
        #[arg(long = "bmc-pin")]
        pin: Option<String>,
        /// Do not wait for the rediscovery
        #[arg(long)]
        no_wait: bool,
    },
}

const EP: &str = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";

pub async fn run(c: &Client, format: Format, cmd: BmcCommand) -> anyhow::Result<()> {
    match cmd {
        BmcCommand::Add {
            address: url,
            username,
            password,
            ca,
            pin,
            insecure,
            xname,
            no_wait,
        } => {
            let u = url::Url::parse(&url)
                .or_else(|_| url::Url::parse(&format!("https://{url}")))
                .with_context(|| format!("'{url}' is not a BMC address"))?;
            if !matches!(u.scheme(), "http" | "https") {
                anyhow::bail!("'{url}': the BMC address must be https:// (or http://)");
            }
            let host = u
                .host_str()
                .filter(|h| !h.is_empty())
                .with_context(|| format!("'{url}' has no host"))?;
            let fqdn = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            };
            let (id, nodes) = bmc_xname(xname.as_deref(), host)?;
            let mut body = json!({
                "ID": id.to_string(),
                "FQDN": fqdn,
                "Scheme": u.scheme(),
                "User": username,
                "Password": password,
                "Enabled": true,
            });
            if let Some(path) = ca {
                let pem = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read CA file {}", path.display()))?;
                body["CACert"] = pem.into();
            }
            if let Some(p) = pin {
                body["CertSHA256"] = p.into();
            }
            if insecure {
                body["Insecure"] = true.into();
            }
            if !nodes.is_empty() {
                body["NodeXnames"] = json!(nodes);
            }
            match c.send(Method::POST, EP, Some(&body)).await {
                Ok(_) => {}
                Err(super::ClientError::Api { status, .. })
                    if status == reqwest::StatusCode::CONFLICT =>
                {
                    anyhow::bail!(
                        "BMC {id} is already registered; use `rackboot bmc discover {id}` to discover it again"
                    );
                }
                Err(e) => return Err(e.into()),
            }
            if no_wait {
                println!("BMC {id} registered; discovery queued");
                return Ok(());
            }
            let ep = wait_discovered(c, &[id.to_string()]).await?;
            show_outcome(c, format, &ep).await
        }
        BmcCommand::List => {
            let mut v: Value = c.get(EP).await?;
            // Each BMC's circuit breaker (`closed` unless its calls have been failing).
            let health: Value = c.get("/apis/rackboot/v1/bmcs/health").await?;
            let circuits: std::collections::HashMap<String, Value> = as_array(&health["bmcs"])
                .iter()
                .map(|h| (field(h, "bmc"), h.clone()))
                .collect();
            if let Some(eps) = v["RedfishEndpoints"].as_array_mut() {
                for e in eps {
                    let h = circuits.get(&field(e, "ID")).cloned().unwrap_or_else(
                        || serde_json::json!({"state": "closed", "consecutive_failures": 0}),
                    );
                    e["Circuit"] = h;
                }
            }
            show(format, &v, |v| {
                let eps = as_array(&v["RedfishEndpoints"]);
                let rows = eps
                    .iter()
                    .map(|e| {
                        let info = &e["DiscoveryInfo"];
                        let problems = as_array(&info["Problems"]);
                        let mut notes = field(info, "LastDiscoveryError");
                        if !problems.is_empty() {
                            notes = format!("{} problems (below)", problems.len());
                        }
                        let circuit = &e["Circuit"];
                        let mut state = field(circuit, "state");
                        if let Some(secs) = circuit["retry_in_secs"].as_u64() {
                            state = format!("{state} (probe in {secs}s)");
                        }
                        let last = field(circuit, "last_error");
                        if !last.is_empty() && notes.is_empty() {
                            notes = last;
                        }
                        vec![
                            field(e, "ID"),
                            format!("{}://{}", field(e, "Scheme"), field(e, "FQDN")),
                            field(e, "User"),
                            field(e, "TLS"),
                            field(info, "LastDiscoveryStatus"),
                            state,
                            notes,
                        ]
                    })
                    .collect();
                let mut out = table(
                    &["BMC", "URL", "USER", "TLS", "DISCOVERY", "CIRCUIT", "ERROR"],
                    rows,
                );
                for e in eps {
                    out.push_str(&problem_lines(e));
                }
                out
            });
            Ok(())
        }
        BmcCommand::Trust {
            xname,
            pin,
            no_wait,
        } => {
            let id = Xname::parse(&xname)?;
            let ep: Value = c.get(&format!("{EP}/{id}")).await?;
            let presented = field(&ep["DiscoveryInfo"], "PresentedCertSHA256");
            let sha = match (pin, presented.is_empty()) {
                (Some(p), _) => p,
                (None, false) => presented,
                (None, true) => anyhow::bail!(
                    "BMC {id} has no refused certificate on record (its TLS is {}); give the fingerprint to trust with --bmc-pin SHA256",
                    field(&ep, "TLS")
                ),
            };
            let was = field(&ep, "CertSHA256");
            c.send(
                Method::PATCH,
                &format!("{EP}/{id}"),
                Some(&json!({ "CertSHA256": sha })),
            )
            .await?;
            // Discover it again even if the pin was already this one.
            c.send(
                Method::POST,
                "/apis/smd/hsm/v2/Inventory/Discover",
                Some(&json!({ "xnames": [id.to_string()] })),
            )
            .await?;
            let was = if was.is_empty() {
                String::new()
            } else {
                format!(" (was {was})")
            };
            eprintln!("BMC {id}: trusting the certificate with SHA-256 {sha}{was}");
            if no_wait {
                println!("BMC {id}: certificate pinned; discovery queued");
                return Ok(());
            }
            let ep = wait_discovered(c, &[id.to_string()]).await?;
            show_outcome(c, format, &ep).await
        }
        BmcCommand::Discover {
            xnames,
            renumber,
            no_wait,
        } => {
            let ids = xnames
                .iter()
                .map(|x| Xname::parse(x).map(|x| x.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            let mut body = json!({ "xnames": ids });
            if renumber {
                body["Renumber"] = true.into();
            }
            let queued: Value = c
                .json(
                    Method::POST,
                    "/apis/smd/hsm/v2/Inventory/Discover",
                    Some(&body),
                )
                .await?;
            let ids: Vec<String> = as_array(&queued)
                .iter()
                .filter_map(|u| {
                    u["URI"]
                        .as_str()
                        .and_then(|s| s.rsplit('/').next())
                        .map(str::to_string)
                })
                .collect();
            if no_wait || ids.is_empty() {
                println!("discovery queued for {} BMCs", ids.len());
                return Ok(());
            }
            let mut failed = 0;
            for id in &ids {
                let ep = wait_discovered(c, std::slice::from_ref(id)).await?;
                if let Err(e) = show_outcome(c, format, &ep).await {
                    eprintln!("{e}");
                    failed += 1;
                }
            }
            if failed > 0 {
                anyhow::bail!("discovery failed for {failed} of {} BMCs", ids.len());
            }
            Ok(())
        }
    }
}

/// The endpoint ID, and explicit node names when a node xname was given.
fn bmc_xname(given: Option<&str>, host: &str) -> anyhow::Result<(Xname, Vec<String>)> {
    let raw = match given {
        Some(g) => g,
        None => host,
    };
    let x = Xname::parse(raw).map_err(|e| match given {
        Some(_) => anyhow::anyhow!("--xname {raw}: {e}"),
        None => anyhow::anyhow!(
            "give --xname: the BMC's host '{host}' is not an xname (e.g. x3000c0s1b0)"
        ),
    })?;
    match x.kind() {
        // Chassis and switch controllers are discovered with no nodes, as in HSM.
        XnameKind::NodeBmc | XnameKind::ChassisBmc | XnameKind::RouterBmc => Ok((x, vec![])),
        XnameKind::Node => {
            let bmc = x.parent().context("a node xname has a BMC parent")?;
            Ok((bmc, vec![x.to_string()]))
        }
        other => anyhow::bail!(
            "--xname {x} is a {}; give the BMC's xname (e.g. x3000c0s1b0, a chassis controller's x1000c0b0, a switch controller's x1000c0r3b0) or its node's",
            other.hms_type()
        ),
    }
}

async fn wait_discovered(c: &Client, ids: &[String]) -> anyhow::Result<Value> {
    let spinner = ProgressBar::new_spinner();
    spinner
        .set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("template"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let id = &ids[0];
    spinner.set_message(format!("discovering {id}"));
    let start = Instant::now();
    loop {
        let ep: Value = c.get(&format!("{EP}/{id}")).await?;
        let status = field(&ep["DiscoveryInfo"], "LastDiscoveryStatus");
        if status != "NotYetQueried" && status != "DiscoveryStarted" {
            spinner.finish_and_clear();
            return Ok(ep);
        }
        if start.elapsed() > Duration::from_secs(300) {
            spinner.finish_and_clear();
            anyhow::bail!("discovery of {id} did not finish within 5 minutes (status {status})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn show_outcome(c: &Client, format: Format, ep: &Value) -> anyhow::Result<()> {
    let id = field(ep, "ID");
    let status = field(&ep["DiscoveryInfo"], "LastDiscoveryStatus");
    if status != "DiscoverOK" {
        let err = field(&ep["DiscoveryInfo"], "LastDiscoveryError");
        anyhow::bail!("discovery of {id} failed ({status}): {err}");
    }
    let ces: Value = c
        .get(&format!(
            "/apis/smd/hsm/v2/Inventory/ComponentEndpoints?redfish_ep_id={id}"
        ))
        .await?;
    show(
        format,
        &json!({"RedfishEndpoint": ep, "ComponentEndpoints": ces["ComponentEndpoints"]}),
        |_| {
            let rows = as_array(&ces["ComponentEndpoints"])
                .iter()
                .map(|ce| {
                    let info = &ce["RedfishSystemInfo"];
                    let macs: Vec<String> = as_array(&info["EthernetNICInfo"])
                        .iter()
                        .map(|n| field(n, "MACAddress"))
                        .collect();
                    vec![
                        field(ce, "ID"),
                        field(ce, "OdataID"),
                        macs.join(","),
                        field(
                            &info["Actions"]["#ComputerSystem.Reset"],
                            "ResetType@Redfish.AllowableValues",
                        ),
                    ]
                })
                .collect();
            let renumbered: Vec<String> = as_array(&ep["DiscoveryInfo"]["Renumbered"])
                .iter()
                .map(|r| {
                    format!(
                        "\n  renumbered: {} {} -> {}",
                        field(r, "System"),
                        field(r, "From"),
                        field(r, "To")
                    )
                })
                .collect();
            format!(
                "{}\nBMC {id}: {status}, TLS {}{}{}",
                table(&["NODE", "SYSTEM", "MACS", "RESET TYPES"], rows),
                field(ep, "TLS"),
                renumbered.concat(),
                problem_lines(ep)
            )
        },
    );
    Ok(())
}

/// One line per problem the endpoint's last discovery recorded, each starting with a
/// newline (empty when there were none).
fn problem_lines(ep: &Value) -> String {
    as_array(&ep["DiscoveryInfo"]["Problems"])
        .iter()
        .map(|p| {
            format!(
                "\n{} {} {}: {}",
                field(ep, "ID"),
                field(p, "Kind"),
                field(p, "Resource"),
                field(p, "Message")
            )
        })
        .collect()
}
