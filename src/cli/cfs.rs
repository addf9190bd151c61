//! `rackboot cfs …`: the built-in Configuration Framework Service (`/apis/cfs/v3`) from
//! the command line: configurations (ordered layers, each an Ansible playbook from a
//! repository at a commit) and components (each node's desired configuration, the layers
//! applied to it and the status CFS computes from the two).
//!
//! A BOS session template names a configuration, and whoever configures a node reports
//! each layer to its component; this is how an admin writes the first and reads the
//! second without hand-written JSON and curl. The commands map one to one onto the
//! upstream CFS v3 contract (`specs/cfs-openapi.yaml`), so what this CLI does,
//! `cray cfs v3` can do too, and the other way round.
//!
//! The CLI adds no rules of its own. `configurations create --layer` only checks that a
//! layer is well formed (known `key=value` pairs, a repository, a playbook, a commit or a
//! branch), so a typo fails before any request; whether the values are right (a commit is
//! 40 hexadecimal digits, a branch exists) is the server's call, and its answer names the
//! field (`layers[0].commit`). There is one set of rules, in `model::cfs`, and it is the
//! same for this CLI, BOS and any other client.
//!
//! Lists follow the server's `next` until it is null, so a list is complete whatever the
//! page size; `--format json` prints one document in the server's shape holding every item
//! (`{"configurations": [...], "next": null}`).
//!
//! Components are written by the BOS handoff (desired configuration) and by whatever
//! configures the node (applied layers), so the CLI only reads them. Configurations are
//! global: the built-in CFS keeps no tenants, so there is no `--tenant`. With `cfs = none`
//! or `external` the appliance answers 404 saying where configuration goes instead, and
//! that is what the CLI prints.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::client::{api_path, with_query};
use super::output::{Format, as_array, done, field, json as to_json, kv, read_doc, table};
use super::{Client, ClientArgs, split_list};

/// Where the appliance serves the built-in CFS (the spec's `/v3/...` paths live below it).
const BASE: &str = "/apis/cfs/v3";

/// The keys a `--layer` takes.
const LAYER_KEYS: [&str; 5] = ["clone_url", "playbook", "commit", "name", "branch"];

#[derive(clap::Args, Debug)]
pub struct CfsArgs {
    #[command(flatten)]
    pub client: ClientArgs<CfsCommand>,
}

#[derive(Subcommand, Debug)]
pub enum CfsCommand {
    /// Configurations: ordered layers, each a playbook from a repository at a commit
    #[command(subcommand)]
    Configurations(ConfigurationsCommand),
    /// Components: each node's desired configuration and the layers applied to it
    #[command(subcommand)]
    Components(ComponentsCommand),
}

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

/// A component's configuration status, as the server computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigStatus {
    Unconfigured,
    Failed,
    Pending,
    Configured,
}

impl ConfigStatus {
    fn as_str(self) -> &'static str {
        match self {
            ConfigStatus::Unconfigured => "unconfigured",
            ConfigStatus::Failed => "failed",
            ConfigStatus::Pending => "pending",
            ConfigStatus::Configured => "configured",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ComponentsCommand {
    /// List components, optionally filtered (filters are AND-ed)
    List {
        /// Component IDs (comma-separated or repeated)
        #[arg(long)]
        ids: Vec<String>,
        /// Configuration statuses (comma-separated or repeated); any of them matches
        #[arg(long, value_enum, value_delimiter = ',')]
        status: Vec<ConfigStatus>,
        #[arg(long)]
        enabled: Option<bool>,
        /// Components whose desired configuration is this one
        #[arg(long)]
        config_name: Option<String>,
        /// Tags KEY=VALUE (comma-separated or repeated); all of them must match
        #[arg(long, value_name = "KEY=VALUE", value_delimiter = ',', value_parser = parse_tag)]
        tags: Vec<(String, String)>,
    },
    /// Show one component
    Get {
        id: String,
        /// Also show the layers applied to the node
        #[arg(long)]
        state_details: bool,
        /// Also show the desired configuration's layers, each with its status on the node
        #[arg(long)]
        config_details: bool,
    },
}

pub async fn run(c: &Client, format: Format, cmd: CfsCommand) -> anyhow::Result<()> {
    match cmd {
        CfsCommand::Configurations(cmd) => configurations(c, format, cmd).await,
        CfsCommand::Components(cmd) => components(c, format, cmd).await,
    }
}

/// Every item of the paged list at `/apis/cfs/v3/<key>`: the first page for `query`, then
/// each page the answer's `next` describes, until it is null.
async fn list_all(
    c: &Client,
    key: &str,
    mut query: Vec<(String, String)>,
) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    loop {
        let p = with_query(path(&[key]), &query);
        let page: Value = c.get(&p).await?;
        let Some(list) = page[key].as_array() else {
            anyhow::bail!("GET {p}: unexpected answer: no '{key}' list");
        };
        items.extend(list.iter().cloned());
        match &page["next"] {
            Value::Null => return Ok(items),
            Value::Object(next) => {
                let q = crate::model::cfs::next_query(next);
                if q == query {
                    // A server that keeps answering the same page would loop forever.
                    anyhow::bail!("GET {p}: the next page is the page just read");
                }
                query = q;
            }
            other => anyhow::bail!("GET {p}: unexpected answer: next is {other}"),
        }
    }
}

/// `/apis/cfs/v3/<segments>`, each segment percent-encoded.
fn path(segments: &[&str]) -> String {
    api_path(BASE, segments)
}

// ---------------------------------------------------------------------------------------
// Configurations

async fn configurations(
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
            match format {
                Format::Json => println!(
                    "{}",
                    to_json(&json!({ "configurations": all, "next": null }))
                ),
                Format::Table => {
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
                    println!(
                        "{}",
                        table(&["NAME", "LAST UPDATED", "LAYERS", "DESCRIPTION"], rows)
                    );
                }
            }
        }
        ConfigurationsCommand::Get { name } => {
            let v: Value = c.get(&path(&["configurations", &name])).await?;
            print_configuration(format, &v);
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
            print_configuration(format, &v);
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
fn print_configuration(format: Format, c: &Value) {
    if format == Format::Json {
        println!("{}", to_json(c));
        return;
    }
    let mut head = format!("configuration {}", field(c, "name"));
    let description = field(c, "description");
    if !description.is_empty() {
        head.push_str(&format!(": {description}"));
    }
    println!("{head}");
    let updated = field(c, "last_updated");
    if !updated.is_empty() {
        println!("last updated: {updated}");
    }
    let inv = &c["additional_inventory"];
    if inv.is_object() {
        let at = match (field(inv, "commit"), field(inv, "branch")) {
            (commit, branch) if branch.is_empty() => commit,
            (commit, branch) if commit.is_empty() => branch,
            (commit, branch) => format!("{commit} ({branch})"),
        };
        println!("additional inventory: {} at {at}", field(inv, "clone_url"));
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
    println!("{}", table(&headers, rows));
}

// ---------------------------------------------------------------------------------------
// Components

async fn components(c: &Client, format: Format, cmd: ComponentsCommand) -> anyhow::Result<()> {
    match cmd {
        ComponentsCommand::List {
            ids,
            status,
            enabled,
            config_name,
            tags,
        } => {
            let mut q = Vec::new();
            let ids = split_list(&ids);
            if !ids.is_empty() {
                q.push(("ids".to_string(), ids.join(",")));
            }
            if !status.is_empty() {
                let s: Vec<&str> = status.iter().map(|s| s.as_str()).collect();
                q.push(("status".to_string(), s.join(",")));
            }
            if let Some(e) = enabled {
                q.push(("enabled".to_string(), e.to_string()));
            }
            if let Some(n) = config_name {
                q.push(("config_name".to_string(), n));
            }
            if !tags.is_empty() {
                let t: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                q.push(("tags".to_string(), t.join(",")));
            }
            let all = list_all(c, "components", q).await?;
            match format {
                Format::Json => {
                    println!("{}", to_json(&json!({ "components": all, "next": null })))
                }
                Format::Table => {
                    let rows = all
                        .iter()
                        .map(|c| {
                            vec![
                                field(c, "id"),
                                field(c, "desired_config"),
                                field(c, "configuration_status"),
                                field(c, "enabled"),
                                field(c, "error_count"),
                            ]
                        })
                        .collect();
                    println!(
                        "{}",
                        table(
                            &[
                                "ID",
                                "DESIRED CONFIG",
                                "CONFIGURATION STATUS",
                                "ENABLED",
                                "ERROR COUNT"
                            ],
                            rows
                        )
                    );
                }
            }
        }
        ComponentsCommand::Get {
            id,
            state_details,
            config_details,
        } => {
            let mut q = Vec::new();
            if state_details {
                q.push(("state_details".to_string(), "true".to_string()));
            }
            if config_details {
                q.push(("config_details".to_string(), "true".to_string()));
            }
            let v: Value = c.get(&with_query(path(&["components", &id]), &q)).await?;
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => print_component(&v),
            }
        }
    }
    Ok(())
}

/// `KEY=VALUE` for the tag filter (CFS tags are key=value pairs separated by commas).
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.contains('=') => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!("'{s}' is not a tag KEY=VALUE")),
    }
}

/// A component's fields, then (when the server included them) the layers applied to the
/// node and its desired configuration's layers with their status.
fn print_component(c: &Value) {
    let tags = c["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let retry = match field(c, "retry_policy") {
        r if r.is_empty() => "default".to_string(),
        r => r,
    };
    let rows = vec![
        kv("id", field(c, "id")),
        kv("desired config", field(c, "desired_config")),
        kv("configuration status", field(c, "configuration_status")),
        kv("enabled", field(c, "enabled")),
        kv("error count", field(c, "error_count")),
        kv("retry policy", retry),
        kv("tags", tags),
    ];
    println!("{}", table(&["FIELD", "VALUE"], rows));
    if let Some(state) = c["state"].as_array() {
        if state.is_empty() {
            println!("applied layers: none");
        } else {
            println!("applied layers:");
            let rows = state
                .iter()
                .map(|l| {
                    vec![
                        field(l, "clone_url"),
                        field(l, "playbook"),
                        field(l, "commit"),
                        field(l, "status"),
                        field(l, "last_updated"),
                        field(l, "session_name"),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(
                    &[
                        "CLONE URL",
                        "PLAYBOOK",
                        "COMMIT",
                        "STATUS",
                        "LAST UPDATED",
                        "SESSION"
                    ],
                    rows
                )
            );
        }
    }
    if let Some(desired) = c["desired_state"].as_array() {
        if desired.is_empty() {
            println!("desired layers: none");
        } else {
            println!("desired layers:");
            let rows = desired
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    vec![
                        i.to_string(),
                        field(l, "name"),
                        field(l, "clone_url"),
                        field(l, "playbook"),
                        field(l, "commit"),
                        field(l, "status"),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(
                    &["#", "LAYER", "CLONE URL", "PLAYBOOK", "COMMIT", "STATUS"],
                    rows
                )
            );
        }
    }
}
