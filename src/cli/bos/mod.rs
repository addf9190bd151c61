//! `rackboot bos …`: the BOS v2 API (`/apis/bos/v2`) from the command line: session
//! templates, sessions (with a live view of a session's progress), components,
//! `applystaged` and options.
//!
//! The commands map one to one onto the upstream BOS v2 contract
//! (`specs/bos-openapi.yaml`), so what this CLI does, `cray bos` can do too, and the other
//! way round. The CLI adds no semantics of its own beyond exit codes that scripts can rely
//! on:
//! - `sessions create --watch` and `sessions status --watch` follow a session until it is
//!   `complete`, then exit non-zero if any of its nodes failed (`percent_failed > 0`) or
//!   the session recorded an error (`status.error`);
//! - `sessiontemplates validate` exits non-zero unless the server answers `"Valid"`;
//! - `applystaged` exits non-zero if any node failed to apply its staged session.
//!
//! `--tenant T` sends `Cray-Tenant-Name: T`, which scopes templates, sessions, components
//! and `applystaged` to that tenant (options are global and get no header).
//!
//! This file is the top of the subcommand tree and what every part shares (the tenant
//! header, paths, the small flag parsers); each resource's subcommands, requests and
//! tables live in their own module: `templates`, `sessions` (with `applystaged`),
//! `watch` (following a session live), `components` and `options`. None of them
//! prints by itself: every answer goes through [`show`](super::output::show), so
//! `--format json` prints the server's document unchanged.

mod components;
mod options;
mod sessions;
mod templates;
#[cfg(test)]
mod tests;
mod v1;
mod watch;

use clap::Subcommand;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use super::client::api_path;
use super::output::Format;
use super::{Client, ClientArgs, split_list};

pub use components::ComponentsCommand;
pub(in crate::cli) use components::last_action;
pub use options::{OptionsCommand, parse_option};
pub use sessions::{Operation, SessionState, SessionsCommand, parse_age};
pub use templates::TemplatesCommand;
pub use watch::{Progress, Watch, follow, parse_interval, verdict};

/// Where the appliance serves the BOS v2 API (the spec's `/v2/...` paths live below it).
const BASE: &str = "/apis/bos/v2";

/// The header BOS reads the tenant from.
const TENANT_HEADER: &str = "cray-tenant-name";

#[derive(clap::Args, Debug)]
pub struct BosArgs {
    /// Act as this tenant (sent as the Cray-Tenant-Name header)
    #[arg(long, global = true)]
    pub tenant: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs<BosCommand>,
}

#[derive(Subcommand, Debug)]
pub enum BosCommand {
    /// Session templates: which images boot on which nodes
    #[command(subcommand)]
    Sessiontemplates(TemplatesCommand),
    /// Sessions: boot, reboot or shut down a template's nodes
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Components: BOS's record of each node (desired and actual state, phase, errors)
    #[command(subcommand)]
    Components(ComponentsCommand),
    /// Start the sessions staged for these nodes
    Applystaged {
        /// Node xnames (comma-separated or repeated)
        #[arg(required = true)]
        xnames: Vec<String>,
    },
    /// Service options (timeouts, retry policy, polling frequency, ...)
    #[command(subcommand)]
    Options(OptionsCommand),
    /// BOS v1 (`/apis/bos/v1`): v1 templates and sessions, with the v1 status tree
    #[command(subcommand)]
    V1(v1::V1Command),
}

pub async fn run(
    c: &Client,
    format: Format,
    tenant: Option<&str>,
    cmd: BosCommand,
) -> anyhow::Result<()> {
    let tc = with_tenant(c, tenant)?;
    match cmd {
        BosCommand::Sessiontemplates(cmd) => templates::run(&tc, format, cmd).await,
        BosCommand::Sessions(cmd) => sessions::run(&tc, format, cmd).await,
        BosCommand::Components(cmd) => components::run(&tc, format, cmd).await,
        BosCommand::Applystaged { xnames } => {
            sessions::applystaged(&tc, format, &split_list(&xnames)).await
        }
        BosCommand::Options(cmd) => options::run(c, format, cmd).await,
        BosCommand::V1(cmd) => v1::run(c, format, cmd).await,
    }
}

/// The client, sending the tenant header if a (non-empty) tenant was given.
fn with_tenant(c: &Client, tenant: Option<&str>) -> anyhow::Result<Client> {
    match tenant.filter(|t| !t.is_empty()) {
        None => Ok(c.clone()),
        Some(t) => {
            let v = HeaderValue::from_str(t)
                .map_err(|_| anyhow::anyhow!("invalid tenant name '{t}'"))?;
            Ok(c.clone()
                .with_header(HeaderName::from_static(TENANT_HEADER), v))
        }
    }
}

async fn delete(c: &Client, path: &str) -> anyhow::Result<()> {
    c.send::<Value>(Method::DELETE, path, None).await?;
    Ok(())
}

/// `/apis/bos/v2/<segments>`, each segment percent-encoded.
fn path(segments: &[&str]) -> String {
    api_path(BASE, segments)
}

/// At most `max` characters, with `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}
