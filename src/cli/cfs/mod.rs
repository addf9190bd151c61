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
//! Components are only read (see `components`). Configurations are global: the built-in
//! CFS keeps no tenants, so there is no `--tenant`. With `cfs = none` or `external` the
//! appliance answers 404 saying where configuration goes instead, and that is what the CLI
//! prints.
//!
//! This file is the top of the subcommand tree and what both resources share (paths, the
//! paged-list reader); `configurations` and `components` hold each resource's
//! subcommands, requests and tables.

mod components;
mod configurations;

use clap::Subcommand;
use serde_json::Value;

use super::client::{api_path, with_query};
use super::output::Format;
use super::{Client, ClientArgs};

pub use components::{ComponentsCommand, ConfigStatus, parse_tag};
pub use configurations::{ConfigurationsCommand, Layer, configuration_body, parse_layer};

/// Where the appliance serves the built-in CFS (the spec's `/v3/...` paths live below it).
const BASE: &str = "/apis/cfs/v3";

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

pub async fn run(c: &Client, format: Format, cmd: CfsCommand) -> anyhow::Result<()> {
    match cmd {
        CfsCommand::Configurations(cmd) => configurations::run(c, format, cmd).await,
        CfsCommand::Components(cmd) => components::run(c, format, cmd).await,
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
