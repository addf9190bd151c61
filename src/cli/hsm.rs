//! `rackboot hsm components …`

use clap::Subcommand;
use reqwest::Method;

use super::output::{Format, field, show, table};
use super::{Client, split_list};

#[derive(Subcommand, Debug)]
pub enum HsmCommand {
    /// State components (nodes, BMCs, ...)
    #[command(subcommand)]
    Components(ComponentsCommand),
}

#[derive(Subcommand, Debug)]
pub enum ComponentsCommand {
    /// List components, optionally filtered
    List {
        #[arg(long)]
        id: Vec<String>,
        #[arg(long = "type")]
        kind: Vec<String>,
        #[arg(long)]
        state: Vec<String>,
        #[arg(long)]
        role: Vec<String>,
        #[arg(long)]
        subrole: Vec<String>,
        #[arg(long)]
        arch: Vec<String>,
        #[arg(long)]
        nid: Vec<String>,
        #[arg(long)]
        group: Vec<String>,
        #[arg(long)]
        partition: Vec<String>,
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Show one component
    Get { xname: String },
    /// Create or update components
    Create {
        /// xnames (comma-separated or repeated)
        #[arg(required = true)]
        xnames: Vec<String>,
        #[arg(long, default_value = "Off")]
        state: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        subrole: Option<String>,
        /// NID (only with a single xname)
        #[arg(long)]
        nid: Option<i64>,
        #[arg(long)]
        arch: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
        /// Also overwrite State, Flag, Subtype, NetType, Arch and Class of existing components
        #[arg(long)]
        force: bool,
    },
    /// Delete a component
    Delete { xname: String },
}

fn component_rows(v: &serde_json::Value) -> Vec<Vec<String>> {
    v.get("Components")
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .map(|c| {
                    [
                        "ID", "Type", "State", "Enabled", "Role", "SubRole", "NID", "Arch",
                    ]
                    .iter()
                    .map(|k| field(c, k))
                    .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

const HEADERS: &[&str] = &[
    "ID", "TYPE", "STATE", "ENABLED", "ROLE", "SUBROLE", "NID", "ARCH",
];

pub async fn run(c: &Client, format: Format, cmd: HsmCommand) -> anyhow::Result<()> {
    let HsmCommand::Components(cmd) = cmd;
    let base = "/apis/smd/hsm/v2/State/Components";
    match cmd {
        ComponentsCommand::List {
            id,
            kind,
            state,
            role,
            subrole,
            arch,
            nid,
            group,
            partition,
            enabled,
        } => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, vals) in [
                ("id", id),
                ("type", kind),
                ("state", state),
                ("role", role),
                ("subrole", subrole),
                ("arch", arch),
                ("nid", nid),
                ("group", group),
                ("partition", partition),
            ] {
                for v in split_list(&vals) {
                    q.append_pair(k, &v);
                }
            }
            if let Some(e) = enabled {
                q.append_pair("enabled", &e.to_string());
            }
            let q = q.finish();
            let v: serde_json::Value = c
                .get(&if q.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{q}")
                })
                .await?;
            show(format, &v, |v| table(HEADERS, component_rows(v)));
        }
        ComponentsCommand::Get { xname } => {
            let v: serde_json::Value = c.get(&format!("{base}/{xname}")).await?;
            show(format, &v, |v| {
                table(
                    HEADERS,
                    component_rows(&serde_json::json!({"Components": [v]})),
                )
            });
        }
        ComponentsCommand::Create {
            xnames,
            state,
            role,
            subrole,
            nid,
            arch,
            enabled,
            force,
        } => {
            let xs = split_list(&xnames);
            if nid.is_some() && xs.len() > 1 {
                anyhow::bail!("--nid gives one NID, so name exactly one xname");
            }
            let comps: Vec<serde_json::Value> = xs
                .iter()
                .map(|x| {
                    let mut o = serde_json::json!({ "ID": x, "State": state });
                    for (k, v) in [("Role", &role), ("SubRole", &subrole), ("Arch", &arch)] {
                        if let Some(v) = v {
                            o[k] = v.clone().into();
                        }
                    }
                    if let Some(n) = nid {
                        o["NID"] = n.into();
                    }
                    if let Some(e) = enabled {
                        o["Enabled"] = e.into();
                    }
                    o
                })
                .collect();
            c.send(
                Method::POST,
                base,
                Some(&serde_json::json!({ "Components": comps, "Force": force })),
            )
            .await?;
            show(format, &serde_json::json!({ "created": xs }), |_| {
                format!("created or updated {} component(s)", xs.len())
            });
        }
        ComponentsCommand::Delete { xname } => {
            c.send::<()>(Method::DELETE, &format!("{base}/{xname}"), None)
                .await?;
            show(format, &serde_json::json!({ "deleted": xname }), |_| {
                format!("deleted {xname}")
            });
        }
    }
    Ok(())
}
