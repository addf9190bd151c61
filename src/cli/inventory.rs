//! `rackboot inventory import FILE`: nodes, MACs, groups and BMCs from YAML or JSON.
//!
//! The whole file is read and validated before anything is sent (xnames, MACs, NIDs,
//! duplicates, BMC addresses), so a bad file writes nothing. Each node is then applied in
//! order (component, interfaces, BMC endpoint, groups) with a progress bar. Re-running an
//! import is safe: what already exists identically is left alone.
//!
//! ```yaml
//! nodes:
//!   - xname: x3000c0s1b0n0
//!     nid: 1
//!     role: Compute
//!     subrole: Worker
//!     arch: X86
//!     groups: [compute, rack1]
//!     macs: ["aa:bb:cc:dd:ee:01"]
//!     bmc: { address: "https://10.1.0.1", username: root, password: secret }
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::Client;
use super::client::ClientError;
use super::output::{Format, show};
use crate::model::group::resource_name;
use crate::model::{Mac, Xname, XnameKind};

#[derive(Subcommand, Debug)]
pub enum InventoryCommand {
    /// Import nodes from a YAML or JSON file
    Import {
        file: PathBuf,
        /// No progress bar
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    nodes: Vec<NodeEntry>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    xname: String,
    nid: Option<i64>,
    role: Option<String>,
    subrole: Option<String>,
    arch: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    macs: Vec<String>,
    bmc: Option<BmcEntry>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct BmcEntry {
    address: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// A node after validation: everything normalised.
struct Planned {
    xname: Xname,
    component: serde_json::Value,
    macs: Vec<Mac>,
    groups: Vec<String>,
    bmc: Option<(Xname, serde_json::Value)>,
}

fn plan(file: InventoryFile) -> anyhow::Result<Vec<Planned>> {
    let mut out = Vec::new();
    let (mut xs, mut macs, mut nids) = (HashSet::new(), HashSet::new(), HashSet::new());
    for (i, n) in file.nodes.into_iter().enumerate() {
        let at = format!("node {} ({})", i + 1, n.xname);
        let x = Xname::parse(&n.xname).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        if x.kind() != XnameKind::Node {
            anyhow::bail!(
                "{at}: {x} is a {}, not a node (node xnames end in nN, e.g. x3000c0s1b0n0)",
                x.kind().hms_type()
            );
        }
        if !xs.insert(x.clone()) {
            anyhow::bail!("{at}: {x} appears more than once");
        }
        if let Some(nid) = n.nid
            && (nid < 0 || !nids.insert(nid))
        {
            anyhow::bail!("{at}: NID {nid} is negative or used twice");
        }
        let mut m = Vec::new();
        for s in &n.macs {
            let mac = Mac::parse(s).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
            if !macs.insert(mac) {
                anyhow::bail!("{at}: MAC {mac} appears more than once");
            }
            m.push(mac);
        }
        let groups = n
            .groups
            .iter()
            .map(|g| resource_name("group", g))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        let mut comp =
            serde_json::json!({ "ID": x.to_string(), "State": "Off", "Enabled": n.enabled });
        for (k, v) in [
            ("Role", &n.role),
            ("SubRole", &n.subrole),
            ("Arch", &n.arch),
        ] {
            if let Some(v) = v {
                comp[k] = v.clone().into();
            }
        }
        if let Some(nid) = n.nid {
            comp["NID"] = nid.into();
        }
        let bmc = match n.bmc {
            None => None,
            Some(b) => {
                let u = url::Url::parse(&b.address)
                    .or_else(|_| url::Url::parse(&format!("https://{}", b.address)))
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "{at}: BMC address '{}' is not a host or URL: {e}",
                            b.address
                        )
                    })?;
                let host = u.host_str().filter(|h| !h.is_empty()).ok_or_else(|| {
                    anyhow::anyhow!("{at}: BMC address '{}' has no host", b.address)
                })?;
                let fqdn = match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host.to_string(),
                };
                let bx = x.parent().expect("a node has a BMC parent");
                Some((
                    bx.clone(),
                    serde_json::json!({ "ID": bx.to_string(), "FQDN": fqdn, "Scheme": u.scheme(), "User": b.username, "Password": b.password, "Enabled": true }),
                ))
            }
        };
        out.push(Planned {
            xname: x,
            component: comp,
            macs: m,
            groups,
            bmc,
        });
    }
    Ok(out)
}

fn is_conflict(e: &ClientError) -> bool {
    matches!(e, ClientError::Api { status, .. } if *status == StatusCode::CONFLICT)
}

pub async fn run(c: &Client, format: Format, cmd: InventoryCommand) -> anyhow::Result<()> {
    let InventoryCommand::Import { file, quiet } = cmd;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let parsed: InventoryFile = if file.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not valid inventory JSON: {e}", file.display()))?
    } else {
        yaml_serde::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not valid inventory YAML: {e}", file.display()))?
    };
    let planned = plan(parsed)?;

    let bar = if quiet || format == Format::Json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(planned.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} nodes  {msg}").expect("static template"),
    );
    let hsm = "/apis/smd/hsm/v2";

    // Components first, in one request: all or nothing.
    bar.set_message("components");
    let comps: Vec<&serde_json::Value> = planned.iter().map(|p| &p.component).collect();
    c.send(
        Method::POST,
        &format!("{hsm}/State/Components"),
        Some(&serde_json::json!({ "Components": comps })),
    )
    .await?;

    let existing_groups: HashSet<String> = c
        .get::<Vec<serde_json::Value>>(&format!("{hsm}/groups"))
        .await?
        .iter()
        .filter_map(|g| g.get("label").and_then(|l| l.as_str()).map(str::to_string))
        .collect();
    let mut members: BTreeMap<String, Vec<Xname>> = BTreeMap::new();
    let (mut n_macs, mut n_bmcs) = (0, 0);
    for p in &planned {
        bar.set_message(p.xname.to_string());
        for m in &p.macs {
            let body = serde_json::json!({ "MACAddress": m.to_string(), "ComponentID": p.xname.to_string(), "Description": "imported" });
            match c
                .send(
                    Method::POST,
                    &format!("{hsm}/Inventory/EthernetInterfaces"),
                    Some(&body),
                )
                .await
            {
                Ok(_) => n_macs += 1,
                Err(e) if is_conflict(&e) => {
                    // Already registered: fine if it is this node's, an error otherwise.
                    let cur: serde_json::Value = c
                        .get(&format!("{hsm}/Inventory/EthernetInterfaces/{}", m.id()))
                        .await?;
                    let owner = cur
                        .get("ComponentID")
                        .and_then(|v| v.as_str())
                        .unwrap_or("");
                    if owner != p.xname.as_str() {
                        anyhow::bail!(
                            "MAC {m} of {} is already registered to '{owner}'; delete that interface first",
                            p.xname
                        );
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some((bx, body)) = &p.bmc {
            match c
                .send(
                    Method::POST,
                    &format!("{hsm}/Inventory/RedfishEndpoints"),
                    Some(body),
                )
                .await
            {
                Ok(_) => n_bmcs += 1,
                Err(e) if is_conflict(&e) => {
                    c.send(
                        Method::PATCH,
                        &format!("{hsm}/Inventory/RedfishEndpoints/{bx}"),
                        Some(body),
                    )
                    .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        for g in &p.groups {
            members.entry(g.clone()).or_default().push(p.xname.clone());
        }
        bar.inc(1);
    }
    bar.set_message("groups");
    for (g, xs) in &members {
        if !existing_groups.contains(g) {
            let body = serde_json::json!({ "label": g, "members": { "ids": xs.iter().map(|x| x.to_string()).collect::<Vec<_>>() } });
            c.send(Method::POST, &format!("{hsm}/groups"), Some(&body))
                .await?;
            continue;
        }
        for x in xs {
            match c
                .send(
                    Method::POST,
                    &format!("{hsm}/groups/{g}/members"),
                    Some(&serde_json::json!({ "id": x.to_string() })),
                )
                .await
            {
                Ok(_) => {}
                Err(e)
                    if is_conflict(&e)
                        && matches!(&e, ClientError::Api { detail, .. } if detail.contains("already a member of group '") && detail.contains(&format!("'{g}'"))) =>
                    {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    bar.finish_and_clear();
    let summary = serde_json::json!({ "nodes": planned.len(), "macs_added": n_macs, "bmcs_added": n_bmcs, "groups": members.len() });
    show(format, &summary, |_| {
        format!(
            "imported {} node(s): {n_macs} new MAC(s), {n_bmcs} new BMC endpoint(s), {} group(s)",
            planned.len(),
            members.len()
        )
    });
    Ok(())
}
