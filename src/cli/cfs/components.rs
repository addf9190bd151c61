//! `rackboot cfs components …`: each node's desired configuration, the layers applied to
//! it and the status CFS computes from the two.
//!
//! Components are written by the BOS handoff (the desired configuration) and by whatever
//! configures the node (applied layers), so the CLI only reads them. The filters of `list`
//! are the server's query parameters; the status values are the server's computed ones.

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Client, list_all, path};
use crate::cli::client::with_query;
use crate::cli::output::{Format, field, kv, show, table};
use crate::cli::split_list;

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

pub(super) async fn run(c: &Client, format: Format, cmd: ComponentsCommand) -> anyhow::Result<()> {
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
            show(format, &json!({ "components": all, "next": null }), |_| {
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
                table(
                    &[
                        "ID",
                        "DESIRED CONFIG",
                        "CONFIGURATION STATUS",
                        "ENABLED",
                        "ERROR COUNT",
                    ],
                    rows,
                )
            });
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
            show(format, &v, component_text);
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
fn component_text(c: &Value) -> String {
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
    let mut lines = vec![table(&["FIELD", "VALUE"], rows)];
    if let Some(state) = c["state"].as_array() {
        if state.is_empty() {
            lines.push("applied layers: none".to_string());
        } else {
            lines.push("applied layers:".to_string());
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
            lines.push(table(
                &[
                    "CLONE URL",
                    "PLAYBOOK",
                    "COMMIT",
                    "STATUS",
                    "LAST UPDATED",
                    "SESSION",
                ],
                rows,
            ));
        }
    }
    if let Some(desired) = c["desired_state"].as_array() {
        if desired.is_empty() {
            lines.push("desired layers: none".to_string());
        } else {
            lines.push("desired layers:".to_string());
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
            lines.push(table(
                &["#", "LAYER", "CLONE URL", "PLAYBOOK", "COMMIT", "STATUS"],
                rows,
            ));
        }
    }
    lines.join("\n")
}
