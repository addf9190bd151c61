//! `rackboot bos sessiontemplates …`: which images boot on which nodes.
//!
//! Templates are written from files (`--file`, JSON or YAML) rather than flags, because a
//! template is a nested document (boot sets, each with its own node list, image and kernel
//! parameters) that no flag set could express without inventing a second syntax. So that
//! `get --format json`, edit, `create` round-trips, the read-only fields a `get` prints are
//! dropped from a file before it is sent. Whether a template is right is the server's call:
//! `validate` asks it, and exits non-zero unless it says `"Valid"`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use super::{Client, delete, path};
use crate::cli::output::{Format, as_array, done, field, json as to_json, read_doc, show, table};

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// List session templates
    List,
    /// Show one session template
    Get { name: String },
    /// Create or replace a session template from a JSON or YAML file (`-` for stdin)
    ///
    /// Read-only fields in the file (name, tenant, links) are ignored: the name is NAME.
    Create {
        name: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Change a session template: the file's fields are merged into it
    Update {
        name: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Delete a session template
    Delete { name: String },
    /// Check a session template as a boot would; exits non-zero unless it is valid
    Validate { name: String },
    /// Print an example session template to start from
    Skeleton,
}

pub(super) async fn run(c: &Client, format: Format, cmd: TemplatesCommand) -> anyhow::Result<()> {
    match cmd {
        TemplatesCommand::List => {
            let v: Value = c.get(&path(&["sessiontemplates"])).await?;
            show(format, &v, |v| {
                let rows = as_array(v).iter().map(template_row).collect();
                table(&["NAME", "TENANT", "DESCRIPTION", "CFS", "BOOT SETS"], rows)
            });
        }
        TemplatesCommand::Get { name } => {
            let v: Value = c.get(&path(&["sessiontemplates", &name])).await?;
            show(format, &v, template_text);
        }
        TemplatesCommand::Create { name, file } => {
            save(c, format, Method::PUT, &name, &file, "saved").await?
        }
        TemplatesCommand::Update { name, file } => {
            save(c, format, Method::PATCH, &name, &file, "updated").await?
        }
        TemplatesCommand::Delete { name } => {
            delete(c, &path(&["sessiontemplates", &name])).await?;
            done(format, &format!("session template {name} deleted"));
        }
        TemplatesCommand::Validate { name } => {
            let v: Value = c.get(&path(&["sessiontemplatesvalid", &name])).await?;
            show(format, &v, |v| {
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            });
            if v.as_str() != Some("Valid") {
                anyhow::bail!("session template {name} is not valid");
            }
        }
        TemplatesCommand::Skeleton => {
            // Meant to be saved and edited, so always JSON (which `create --file` reads).
            let v: Value = c.get(&path(&["sessiontemplatetemplate"])).await?;
            println!("{}", to_json(&v));
        }
    }
    Ok(())
}

/// PUT (create or replace) or PATCH (merge into) template `name` from a file.
async fn save(
    c: &Client,
    format: Format,
    method: Method,
    name: &str,
    file: &Path,
    done: &str,
) -> anyhow::Result<()> {
    let body = template_body(read_doc(file)?);
    let v: Value = c
        .json(method, &path(&["sessiontemplates", name]), Some(&body))
        .await?;
    show(format, &v, |_| format!("session template {name} {done}"));
    Ok(())
}

/// A template file as a request body: the read-only fields a `get` prints are dropped,
/// so `get`, edit, `create` works.
fn template_body(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in ["name", "tenant", "links"] {
            o.remove(k);
        }
    }
    v
}

pub(super) fn template_row(t: &Value) -> Vec<String> {
    let cfs = match (t["enable_cfs"].as_bool(), field(&t["cfs"], "configuration")) {
        (Some(false), _) => "disabled".to_string(),
        (_, c) => c,
    };
    let sets = t["boot_sets"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    vec![
        field(t, "name"),
        field(t, "tenant"),
        field(t, "description"),
        cfs,
        sets,
    ]
}

/// One template for reading: a heading, its CFS configuration, a table of its boot sets.
pub(super) fn template_text(t: &Value) -> String {
    let row = template_row(t);
    let (name, tenant, description, cfs) = (&row[0], &row[1], &row[2], &row[3]);
    let mut head = format!("session template {name}");
    if !tenant.is_empty() {
        head.push_str(&format!(" (tenant {tenant})"));
    }
    if !description.is_empty() {
        head.push_str(&format!(": {description}"));
    }
    let mut lines = vec![head];
    if !cfs.is_empty() {
        lines.push(format!("CFS configuration: {cfs}"));
    }
    let rows = t["boot_sets"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, b)| {
                    let nodes = ["node_list", "node_groups", "node_roles_groups"]
                        .iter()
                        .map(|f| field(b, f))
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    vec![
                        k.clone(),
                        field(b, "type"),
                        field(b, "path"),
                        field(b, "arch"),
                        nodes,
                        field(b, "kernel_parameters"),
                        field(b, "rootfs_provider"),
                        field(&b["cfs"], "configuration"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    lines.push(table(
        &[
            "BOOT SET",
            "TYPE",
            "PATH",
            "ARCH",
            "NODES",
            "KERNEL PARAMETERS",
            "ROOTFS",
            "CFS",
        ],
        rows,
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cli::output::parse_doc;

    #[test]
    fn cli_bos_template_files_may_be_json_or_yaml_and_lose_read_only_fields() {
        let y = parse_doc(
            "boot_sets:\n  compute:\n    type: s3\n    path: s3://b/m.json\n",
            false,
        )
        .unwrap();
        assert_eq!(y["boot_sets"]["compute"]["type"], "s3");
        let j = parse_doc(
            r#"{"name": "t", "tenant": null, "links": [], "enable_cfs": false}"#,
            true,
        )
        .unwrap();
        assert_eq!(template_body(j), json!({"enable_cfs": false}));
        assert!(parse_doc("a: [", true).is_err());
        assert!(parse_doc("a: [", false).is_err());
    }
}
