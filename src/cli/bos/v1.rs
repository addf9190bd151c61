//! `rackboot bos v1 …`: the BOS v1 API (`/apis/bos/v1`) from the command line, as
//! `cray bos v1` (craycli up to 0.82) had it: session templates and sessions, with the v1
//! status tree (session → boot sets → phases → categories).
//!
//! Requests are the ones `cray bos v1` sends (`templateUuid` for `--template-uuid`,
//! `templateName` for `--template-name`). A v1 session runs on the v2 engine as the v2
//! session of the same name, so `session status ID --watch` follows it with the v2 watch
//! (`watch`: bars, lines, and the same exit code) and then prints the v1 tree.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::watch::{Watch, follow, verdict};
use super::{Client, delete};
use crate::cli::client::api_path;
use crate::cli::output::{
    Format, as_array, done, field, json as to_json, kv, read_doc, show, table,
};

const BASE: &str = "/apis/bos/v1";

fn path(segments: &[&str]) -> String {
    api_path(BASE, segments)
}

#[derive(Subcommand, Debug)]
pub enum V1Command {
    /// Session templates (stored with the v2 ones; shown in the v2 format)
    #[command(subcommand)]
    Sessiontemplate(V1TemplateCommand),
    /// Print an example session template to start from
    Sessiontemplatetemplate,
    /// Sessions: boot, configure, reboot or shut down a template's nodes
    #[command(subcommand)]
    Session(V1SessionCommand),
}

#[derive(Subcommand, Debug)]
pub enum V1TemplateCommand {
    /// List session templates
    List,
    /// Show one session template
    Describe { name: String },
    /// Create a session template from a JSON or YAML file (`-` for stdin)
    Create {
        /// Its name (overrides the file's `name`)
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        file: PathBuf,
    },
    /// Delete a session template
    Delete { name: String },
}

/// v1 operations, any case (`Boot`, `configure`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "lower")]
pub enum V1Op {
    Boot,
    Configure,
    Reboot,
    Shutdown,
}

impl V1Op {
    fn as_str(self) -> &'static str {
        match self {
            V1Op::Boot => "boot",
            V1Op::Configure => "configure",
            V1Op::Reboot => "reboot",
            V1Op::Shutdown => "shutdown",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum V1SessionCommand {
    /// Create a session
    Create {
        /// The session template's name
        #[arg(long, required_unless_present = "template_uuid")]
        template_name: Option<String>,
        /// The session template's name (deprecated v1 spelling)
        #[arg(long)]
        template_uuid: Option<String>,
        #[arg(long, value_enum, ignore_case = true)]
        operation: V1Op,
        /// Only these nodes of the template: xnames, groups, roles; `&` intersects, `!` excludes
        #[arg(long)]
        limit: Option<String>,
        #[command(flatten)]
        watch: Watch,
    },
    /// List session ids
    List,
    /// Show one session
    Describe { id: String },
    /// Delete a session (its nodes keep the state it gave them)
    Delete { id: String },
    /// Show a session's status tree, or one boot set, phase or category of it
    Status {
        id: String,
        boot_set: Option<String>,
        phase: Option<String>,
        category: Option<String>,
        #[command(flatten)]
        watch: Watch,
    },
}

pub(super) async fn run(c: &Client, format: Format, cmd: V1Command) -> anyhow::Result<()> {
    match cmd {
        V1Command::Sessiontemplate(t) => templates(c, format, t).await,
        V1Command::Sessiontemplatetemplate => {
            let v: Value = c.get(&path(&["sessiontemplatetemplate"])).await?;
            println!("{}", to_json(&v));
            Ok(())
        }
        V1Command::Session(s) => sessions(c, format, s).await,
    }
}

async fn templates(c: &Client, format: Format, cmd: V1TemplateCommand) -> anyhow::Result<()> {
    match cmd {
        V1TemplateCommand::List => {
            let v: Value = c.get(&path(&["sessiontemplate"])).await?;
            show(format, &v, |v| {
                let rows = as_array(v)
                    .iter()
                    .map(super::templates::template_row)
                    .collect();
                table(&["NAME", "TENANT", "DESCRIPTION", "CFS", "BOOT SETS"], rows)
            });
        }
        V1TemplateCommand::Describe { name } => {
            let v: Value = c.get(&path(&["sessiontemplate", &name])).await?;
            show(format, &v, super::templates::template_text);
        }
        V1TemplateCommand::Create { name, file } => {
            let body = template_body(read_doc(&file)?, name);
            let v: Value = c
                .json(Method::POST, &path(&["sessiontemplate"]), Some(&body))
                .await?;
            show(format, &v, |v| {
                format!(
                    "session template {} created",
                    v.as_str().unwrap_or_default()
                )
            });
        }
        V1TemplateCommand::Delete { name } => {
            delete(c, &path(&["sessiontemplate", &name])).await?;
            done(format, &format!("session template {name} deleted"));
        }
    }
    Ok(())
}

/// The file as a v1 body: `--name` wins over the file's `name`; the read-only fields a
/// `describe` prints (tenant, links) are dropped, so describe, edit, create works.
fn template_body(mut v: Value, name: Option<String>) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("tenant");
        o.remove("links");
        if let Some(n) = name {
            o.insert("name".into(), n.into());
        }
    }
    v
}

async fn sessions(c: &Client, format: Format, cmd: V1SessionCommand) -> anyhow::Result<()> {
    match cmd {
        V1SessionCommand::Create {
            template_name,
            template_uuid,
            operation,
            limit,
            watch: w,
        } => {
            let mut body = json!({"operation": operation.as_str()});
            if let Some(t) = &template_name {
                body["templateName"] = t.as_str().into();
            }
            if let Some(t) = &template_uuid {
                body["templateUuid"] = t.as_str().into();
            }
            if let Some(l) = limit {
                body["limit"] = l.into();
            }
            let v: Value = c
                .json(Method::POST, &path(&["session"]), Some(&body))
                .await?;
            let id = session_id(&v);
            if !w.watch {
                show(format, &v, |v| {
                    format!(
                        "session {id} created: {} of template {}",
                        field(v, "operation"),
                        field(v, "templateName")
                    )
                });
                return Ok(());
            }
            if format == Format::Table {
                println!("session {id} created: {}", operation.as_str());
            }
            watch_tree(c, format, &id, w.interval).await
        }
        V1SessionCommand::List => {
            let v: Value = c.get(&path(&["session"])).await?;
            show(format, &v, |v| {
                let rows = as_array(v)
                    .iter()
                    .map(|s| vec![s.as_str().unwrap_or_default().to_string()])
                    .collect();
                table(&["SESSION"], rows)
            });
            Ok(())
        }
        V1SessionCommand::Describe { id } => {
            let v: Value = c.get(&path(&["session", &id])).await?;
            show(format, &v, |v| details_text(&id, v));
            Ok(())
        }
        V1SessionCommand::Delete { id } => {
            delete(c, &path(&["session", &id])).await?;
            done(format, &format!("session {id} deleted"));
            Ok(())
        }
        V1SessionCommand::Status {
            id,
            boot_set,
            phase,
            category,
            watch: w,
        } => {
            if w.watch {
                return watch_tree(c, format, &id, w.interval).await;
            }
            let mut segs = vec!["session", id.as_str(), "status"];
            segs.extend(
                [&boot_set, &phase, &category]
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
            let v: Value = c.get(&path(&segs)).await?;
            if boot_set.is_none() {
                let tree = full_tree(c, &id, &v).await?;
                show(format, &tree, tree_text);
            } else {
                show(format, &v, to_json);
            }
            Ok(())
        }
    }
}

/// The session id of a 201 answer: the last segment of its `session` link.
fn session_id(created: &Value) -> String {
    as_array(&created["links"])
        .iter()
        .find(|l| l["rel"] == "session")
        .and_then(|l| l["href"].as_str())
        .and_then(|h| h.rsplit('/').next())
        .unwrap_or_default()
        .to_string()
}

/// `{status, boot_sets: [boot-set status...]}`: the session status and each of its boot sets.
async fn full_tree(c: &Client, id: &str, status: &Value) -> anyhow::Result<Value> {
    let mut sets = Vec::new();
    for b in as_array(&status["boot_sets"]) {
        let name = b.as_str().unwrap_or_default();
        let v: Value = c.get(&path(&["session", id, "status", name])).await?;
        sets.push(v);
    }
    Ok(json!({"status": status, "boot_sets": sets}))
}

/// Follow the session with the v2 view (it is the v2 session of the same name), then print
/// the v1 tree; the exit code is the v2 watch's.
async fn watch_tree(
    c: &Client,
    format: Format,
    id: &str,
    interval: std::time::Duration,
) -> anyhow::Result<()> {
    let (last, session) = follow(c, format, id, interval).await?;
    let status: Value = c.get(&path(&["session", id, "status"])).await?;
    let tree = full_tree(c, id, &status).await?;
    show(format, &tree, tree_text);
    verdict(&last, &session).map_err(anyhow::Error::msg)
}

fn meta_row(what: String, m: &Value) -> Vec<String> {
    vec![
        what,
        field(m, "complete"),
        field(m, "in_progress"),
        field(m, "error_count"),
        field(m, "start_time"),
        field(m, "stop_time"),
    ]
}

fn details_text(id: &str, v: &Value) -> String {
    let rows = vec![
        kv("operation", field(v, "operation")),
        kv("template", field(v, "templateName")),
        kv("complete", field(v, "complete")),
        kv("in progress", field(v, "in_progress")),
        kv("errors", field(v, "error_count")),
        kv("started", field(v, "start_time")),
        kv("stopped", field(v, "stop_time")),
        kv("status", field(v, "status_link")),
    ];
    format!("session {id}\n{}", table(&["FIELD", "VALUE"], rows))
}

/// The tree as tables: one row per session, boot set and phase, then node counts per
/// category and the errors.
fn tree_text(tree: &Value) -> String {
    let st = &tree["status"];
    let mut rows = vec![meta_row(
        format!("session {}", field(st, "id")),
        &st["metadata"],
    )];
    let mut cats = Vec::new();
    let mut errors = Vec::new();
    for b in as_array(&tree["boot_sets"]) {
        let bs = field(b, "name");
        rows.push(meta_row(format!("  {bs}"), &b["metadata"]));
        for p in as_array(&b["phases"]) {
            let ph = field(p, "name");
            rows.push(meta_row(format!("    {ph}"), &p["metadata"]));
            let mut row = vec![bs.clone(), ph.clone()];
            for c in as_array(&p["categories"]) {
                row.push(as_array(&c["node_list"]).len().to_string());
            }
            cats.push(row);
            if let Some(m) = p["errors"].as_object() {
                for (e, nodes) in m {
                    let list: Vec<String> = as_array(nodes)
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect();
                    errors.push(vec![bs.clone(), ph.clone(), e.clone(), list.join(",")]);
                }
            }
        }
    }
    let mut out = vec![
        table(
            &[
                "WHAT",
                "COMPLETE",
                "IN PROGRESS",
                "ERRORS",
                "STARTED",
                "STOPPED",
            ],
            rows,
        ),
        table(
            &[
                "BOOT SET",
                "PHASE",
                "NOT STARTED",
                "IN PROGRESS",
                "SUCCEEDED",
                "FAILED",
                "EXCLUDED",
            ],
            cats,
        ),
    ];
    if !errors.is_empty() {
        out.push(table(&["BOOT SET", "PHASE", "ERROR", "NODES"], errors));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_bos_v1_bodies_and_ids() {
        let v = template_body(
            json!({"name": "a", "tenant": null, "links": [], "boot_sets": {}}),
            Some("b".into()),
        );
        assert_eq!(v, json!({"name": "b", "boot_sets": {}}));
        let created = json!({"links": [{"rel": "session", "href": "/v1/session/abc"}, {"rel": "status", "href": "/v1/session/abc/status"}]});
        assert_eq!(session_id(&created), "abc");
        let tree = json!({"status": {"id": "abc", "metadata": {"complete": false}, "boot_sets": ["compute"]},
            "boot_sets": [{"name": "compute", "metadata": {}, "phases": [{"name": "boot", "metadata": {},
                "categories": [{"name": "not_started", "node_list": []}, {"name": "in_progress", "node_list": ["x1"]}],
                "errors": {"boom": ["x2"]}}]}]});
        let t = tree_text(&tree);
        assert!(
            t.contains("session abc") && t.contains("boom") && t.contains("x2"),
            "{t}"
        );
    }
}
