//! `rackboot bos components …`: BOS's record of each node (desired and actual state,
//! phase, status, last action, errors), listed, shown and changed.
//!
//! The filters of `list` are the server's query parameters, AND-ed by the server, so the
//! CLI never filters a list itself. `update` sends a JSON merge patch: the file's object
//! (`--file`), then the flags over it, so the common changes (enable, retry policy, clear
//! the error) need no file, and anything else the contract allows can still be sent.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value};

use super::{Client, path, split_list, truncate};
use crate::cli::client::with_query;
use crate::cli::output::{Format, as_array, field, kv, read_doc, show, table};

#[derive(Subcommand, Debug)]
pub enum ComponentsCommand {
    /// List components, optionally filtered (filters are AND-ed)
    List {
        /// Component IDs (comma-separated or repeated)
        #[arg(long)]
        ids: Vec<String>,
        /// Components managed by this session
        #[arg(long)]
        session: Option<String>,
        /// Components staged for this session
        #[arg(long)]
        staged_session: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
        /// powering_on, powering_off or configuring
        #[arg(long)]
        phase: Option<String>,
        /// Statuses (comma-separated or repeated): stable, failed, on_hold, configuring, ...
        #[arg(long)]
        status: Vec<String>,
    },
    /// Show one component
    Get { id: String },
    /// Change a component (a merge patch; flags override the file's fields)
    Update {
        id: String,
        #[arg(long)]
        enabled: Option<bool>,
        /// Attempts per action before the node is marked failed
        #[arg(long)]
        retry_policy: Option<u32>,
        /// Clear the component's error
        #[arg(long)]
        clear_error: bool,
        /// A JSON (or YAML) patch to send (`-` for stdin)
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

pub(super) async fn run(c: &Client, format: Format, cmd: ComponentsCommand) -> anyhow::Result<()> {
    match cmd {
        ComponentsCommand::List {
            ids,
            session,
            staged_session,
            enabled,
            phase,
            status,
        } => {
            let mut q = Vec::new();
            let ids = split_list(&ids);
            if !ids.is_empty() {
                q.push(("ids", ids.join(",")));
            }
            if let Some(s) = session {
                q.push(("session", s));
            }
            if let Some(s) = staged_session {
                q.push(("staged_session", s));
            }
            if let Some(e) = enabled {
                q.push(("enabled", e.to_string()));
            }
            if let Some(p) = phase {
                q.push(("phase", p));
            }
            let status = split_list(&status);
            if !status.is_empty() {
                q.push(("status", status.join(",")));
            }
            let v: Value = c.get(&with_query(path(&["components"]), &q)).await?;
            show(format, &v, |v| components_table(as_array(v)));
        }
        ComponentsCommand::Get { id } => {
            let v: Value = c.get(&path(&["components", &id])).await?;
            show(format, &v, component_table);
        }
        ComponentsCommand::Update {
            id,
            enabled,
            retry_policy,
            clear_error,
            file,
        } => {
            let base = file.as_deref().map(read_doc).transpose()?;
            let patch = component_patch(base, enabled, retry_policy, clear_error)?;
            let v: Value = c
                .json(Method::PATCH, &path(&["components", &id]), Some(&patch))
                .await?;
            show(format, &v, |v| components_table(std::slice::from_ref(v)));
        }
    }
    Ok(())
}

/// The PATCH body for `components update`: the file's object, then the flags over it.
fn component_patch(
    base: Option<Value>,
    enabled: Option<bool>,
    retry_policy: Option<u32>,
    clear_error: bool,
) -> anyhow::Result<Value> {
    let mut patch = match base {
        Some(Value::Object(m)) => m,
        Some(_) => anyhow::bail!("the patch file must hold a JSON object"),
        None => Map::new(),
    };
    if let Some(e) = enabled {
        patch.insert("enabled".into(), e.into());
    }
    if let Some(r) = retry_policy {
        patch.insert("retry_policy".into(), r.into());
    }
    if clear_error {
        patch.insert("error".into(), "".into());
    }
    if patch.is_empty() {
        anyhow::bail!("nothing to change: give --enabled, --retry-policy, --clear-error or --file");
    }
    Ok(Value::Object(patch))
}

/// A component's last action, marked when it failed.
pub(in crate::cli) fn last_action(c: &Value) -> String {
    let la = &c["last_action"];
    let a = field(la, "action");
    if la["failed"] == true {
        format!("{a} (failed)")
    } else {
        a
    }
}

/// Components, one row each.
fn components_table(list: &[Value]) -> String {
    let rows = list
        .iter()
        .map(|c| {
            vec![
                field(c, "id"),
                field(c, "enabled"),
                field(&c["status"], "phase"),
                field(&c["status"], "status"),
                field(c, "session"),
                last_action(c),
                truncate(&field(c, "error"), 50),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "ENABLED",
            "PHASE",
            "STATUS",
            "SESSION",
            "LAST ACTION",
            "ERROR",
        ],
        rows,
    )
}

/// One component, field by field.
fn component_table(c: &Value) -> String {
    let d = &c["desired_state"];
    let a = &c["actual_state"];
    let rows = vec![
        kv("id", field(c, "id")),
        kv("enabled", field(c, "enabled")),
        kv("phase", field(&c["status"], "phase")),
        kv("status", field(&c["status"], "status")),
        kv("status override", field(&c["status"], "status_override")),
        kv("session", field(c, "session")),
        kv("staged session", field(&c["staged_state"], "session")),
        kv("last action", last_action(c)),
        kv("last action at", field(&c["last_action"], "last_updated")),
        kv("retry policy", field(c, "retry_policy")),
        kv(
            "attempts",
            format!(
                "power on {}, graceful off {}, forced off {}",
                field(&c["event_stats"], "power_on_attempts"),
                field(&c["event_stats"], "power_off_graceful_attempts"),
                field(&c["event_stats"], "power_off_forceful_attempts")
            ),
        ),
        kv("desired kernel", field(&d["boot_artifacts"], "kernel")),
        kv("desired configuration", field(d, "configuration")),
        kv("actual kernel", field(&a["boot_artifacts"], "kernel")),
        kv("actual at", field(a, "last_updated")),
        kv("error", field(c, "error")),
    ];
    table(&["FIELD", "VALUE"], rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cli_bos_component_patch_merges_file_and_flags() {
        assert_eq!(
            component_patch(None, Some(false), Some(2), true).unwrap(),
            json!({"enabled": false, "retry_policy": 2, "error": ""})
        );
        assert_eq!(
            component_patch(
                Some(json!({"enabled": true, "desired_state": {"configuration": "c"}})),
                Some(false),
                None,
                false
            )
            .unwrap(),
            json!({"enabled": false, "desired_state": {"configuration": "c"}})
        );
        assert!(component_patch(None, None, None, false).is_err());
        assert!(component_patch(Some(json!([1])), None, None, false).is_err());
    }
}
