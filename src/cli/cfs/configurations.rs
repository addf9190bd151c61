//! `rackboot cfs configurations …`: configurations, each an ordered list of layers (an
//! Ansible playbook from a repository at a commit), listed, shown, written and deleted.
//!
//! `create` takes the layers as flags (`--layer clone_url=…,playbook=…,commit=…`, one per
//! layer, checked for shape only, as the parent module says) or a whole document
//! (`--file`); the read-only fields a `get` prints are dropped from a file, so
//! `get --format json`, edit, `create` round-trips.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Client, list_all, path};
use crate::cli::client::with_query;
use crate::cli::output::{Format, as_array, done, field, read_doc, show, table};

/// The keys a `--layer` takes.
const LAYER_KEYS: [&str; 5] = ["clone_url", "playbook", "commit", "name", "branch"];

#[derive(Subcommand, Debug)]
pub enum ConfigurationsCommand {
    /// List configurations
    List {
        /// Only configurations some component wants (true), or that none wants (false)
        #[arg(long)]
        in_use: Option<bool>,
    },
    /// Show one configuration
    Get { name: String },
    /// Create or replace a configuration from layers (`--layer`) or a file (`--file`)
    ///
    /// A layer given a branch instead of a commit is stored at the branch's tip commit,
    /// which the server resolves.
    Create {
        /// The configuration's name (an existing one is replaced)
        name: String,
        /// The configuration as JSON or YAML (`-` for stdin), e.g. as `get --format json`
        /// prints it
        #[arg(long, required_unless_present = "layers", conflicts_with = "layers")]
        file: Option<PathBuf>,
        /// A layer: clone_url=URL,playbook=P,commit=C[,name=N][,branch=B] (branch instead
        /// of commit to use a branch's tip); repeat for more layers, applied in order
        #[arg(
            long = "layer",
            value_name = "clone_url=URL,playbook=P,commit=C",
            value_parser = parse_layer
        )]
        layers: Vec<Layer>,
        /// A description (replaces the file's)
        #[arg(long)]
        description: Option<String>,
        /// Store only the commits branches resolve to, not the branch names
        #[arg(long)]
        drop_branches: bool,
    },
    /// Delete a configuration (refused while a component wants it)
    Delete { name: String },
}

pub(super) async fn run(
    c: &Client,
    format: Format,
    cmd: ConfigurationsCommand,
) -> anyhow::Result<()> {
    match cmd {
        ConfigurationsCommand::List { in_use } => {
            let mut q = Vec::new();
            if let Some(u) = in_use {
                q.push(("in_use".to_string(), u.to_string()));
            }
            let all = list_all(c, "configurations", q).await?;
            show(
                format,
                &json!({ "configurations": all, "next": null }),
                |_| {
                    let rows = all
                        .iter()
                        .map(|c| {
                            vec![
                                field(c, "name"),
                                field(c, "last_updated"),
                                as_array(&c["layers"]).len().to_string(),
                                field(c, "description"),
                            ]
                        })
                        .collect();
                    table(&["NAME", "LAST UPDATED", "LAYERS", "DESCRIPTION"], rows)
                },
            );
        }
        ConfigurationsCommand::Get { name } => {
            let v: Value = c.get(&path(&["configurations", &name])).await?;
            show(format, &v, configuration_text);
        }
        ConfigurationsCommand::Create {
            name,
            file,
            layers,
            description,
            drop_branches,
        } => {
            // Everything local is checked before the request.
            let doc = file.as_deref().map(read_doc).transpose()?;
            let body = configuration_body(doc, &layers, description)?;
            let mut q = Vec::new();
            if drop_branches {
                q.push(("drop_branches".to_string(), "true".to_string()));
            }
            let v: Value = c
                .json(
                    Method::PUT,
                    &with_query(path(&["configurations", &name]), &q),
                    Some(&body),
                )
                .await?;
            show(format, &v, configuration_text);
        }
        ConfigurationsCommand::Delete { name } => {
            c.send::<Value>(Method::DELETE, &path(&["configurations", &name]), None)
                .await?;
            done(format, &format!("configuration {name} deleted"));
        }
    }
    Ok(())
}

/// One `--layer`, as the configuration body carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Layer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub clone_url: String,
    pub playbook: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// `clone_url=URL,playbook=P,commit=C[,name=N][,branch=B]`, in any order. Only the shape is
/// checked (known keys, each once and non-empty; a repository, a playbook, and a commit or
/// a branch); the values are the server's to judge. A value may contain `=` but not `,`.
pub fn parse_layer(s: &str) -> Result<Layer, String> {
    const SHAPE: &str = "a layer is clone_url=URL,playbook=P,commit=C[,name=N][,branch=B]";
    let mut l = Layer::default();
    let mut seen: Vec<&str> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("'{part}' is not KEY=VALUE ({SHAPE})"));
        };
        let (k, v) = (k.trim(), v.trim());
        if !LAYER_KEYS.contains(&k) {
            return Err(format!(
                "unknown key '{k}': a layer takes {}",
                LAYER_KEYS.join(", ")
            ));
        }
        if seen.contains(&k) {
            return Err(format!("{k} is given more than once"));
        }
        seen.push(k);
        if v.is_empty() {
            return Err(format!("{k} is empty"));
        }
        let v = v.to_string();
        match k {
            "clone_url" => l.clone_url = v,
            "playbook" => l.playbook = v,
            "commit" => l.commit = Some(v),
            "name" => l.name = Some(v),
            _ => l.branch = Some(v),
        }
    }
    for (k, missing) in [
        ("clone_url", l.clone_url.is_empty()),
        ("playbook", l.playbook.is_empty()),
        (
            "commit (or branch)",
            l.commit.is_none() && l.branch.is_none(),
        ),
    ] {
        if missing {
            return Err(format!("{k} is missing ({SHAPE})"));
        }
    }
    Ok(l)
}

/// The PUT body for `configurations create`: the file's object (less the read-only
/// `name` and `last_updated` a `get` prints, so `get`, edit, `create` works) or the
/// `--layer`s, then `--description` over it.
pub fn configuration_body(
    file: Option<Value>,
    layers: &[Layer],
    description: Option<String>,
) -> anyhow::Result<Value> {
    let mut body = match file {
        Some(Value::Object(mut m)) => {
            if !layers.is_empty() {
                anyhow::bail!("give --file or --layer, not both");
            }
            m.remove("name");
            m.remove("last_updated");
            m
        }
        Some(_) => anyhow::bail!("the configuration file must hold a JSON or YAML object"),
        None => {
            if layers.is_empty() {
                anyhow::bail!("give the layers: --layer (one per layer) or --file");
            }
            let mut m = Map::new();
            m.insert("layers".into(), serde_json::to_value(layers)?);
            m
        }
    };
    if let Some(d) = description {
        body.insert("description".into(), d.into());
    }
    Ok(Value::Object(body))
}

/// A configuration: a heading, then its layers in order (`#` is the index the server's
/// errors use, `layers[#]`).
fn configuration_text(c: &Value) -> String {
    let mut head = format!("configuration {}", field(c, "name"));
    let description = field(c, "description");
    if !description.is_empty() {
        head.push_str(&format!(": {description}"));
    }
    let mut lines = vec![head];
    let updated = field(c, "last_updated");
    if !updated.is_empty() {
        lines.push(format!("last updated: {updated}"));
    }
    let inv = &c["additional_inventory"];
    if inv.is_object() {
        let at = match (field(inv, "commit"), field(inv, "branch")) {
            (commit, branch) if branch.is_empty() => commit,
            (commit, branch) if commit.is_empty() => branch,
            (commit, branch) => format!("{commit} ({branch})"),
        };
        lines.push(format!(
            "additional inventory: {} at {at}",
            field(inv, "clone_url")
        ));
    }
    let layers = as_array(&c["layers"]);
    let branches = layers.iter().any(|l| !field(l, "branch").is_empty());
    let mut headers = vec!["#", "LAYER", "CLONE URL", "PLAYBOOK", "COMMIT"];
    if branches {
        headers.push("BRANCH");
    }
    let rows = layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut row = vec![
                i.to_string(),
                field(l, "name"),
                field(l, "clone_url"),
                field(l, "playbook"),
                field(l, "commit"),
            ];
            if branches {
                row.push(field(l, "branch"));
            }
            row
        })
        .collect();
    lines.push(table(&headers, rows));
    lines.join("\n")
}
