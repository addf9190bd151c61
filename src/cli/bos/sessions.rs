//! `rackboot bos sessions …` and `rackboot bos applystaged`: starting, listing and
//! removing sessions, and starting the sessions staged for some nodes.
//!
//! A session is BOS's record of one operation (boot, reboot, shutdown) on a template's
//! nodes; the CLI only creates, reads and deletes it, and the operators do the work. Flags
//! are checked for shape before any request (an operation from a fixed list, a BOS age like
//! `30m`), and the rest is the server's to judge. Following a session as it runs is
//! [`watch`](super::watch)'s job: `create --watch` and `status --watch` hand over to it.
//! `applystaged` lives here because what it starts is sessions: it exits non-zero if any
//! node failed to start its staged one.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::watch::{Shown, Watch, report, watch};
use super::{Client, delete, path, truncate};
use crate::cli::client::with_query;
use crate::cli::output::{Format, as_array, done, field, kv, show, table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Operation {
    Boot,
    Reboot,
    Shutdown,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Boot => "boot",
            Operation::Reboot => "reboot",
            Operation::Shutdown => "shutdown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SessionState {
    Pending,
    Running,
    Complete,
}

impl SessionState {
    fn as_str(self) -> &'static str {
        match self {
            SessionState::Pending => "pending",
            SessionState::Running => "running",
            SessionState::Complete => "complete",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum SessionsCommand {
    /// Start a session: apply an operation to a template's nodes
    Create {
        /// The session template to use
        #[arg(long)]
        template_name: String,
        /// What to do to the template's nodes
        #[arg(long, value_enum)]
        operation: Operation,
        /// Session name (default: a generated UUID)
        #[arg(long)]
        name: Option<String>,
        /// Only these nodes of the template: xnames, groups, roles; `&` intersects, `!` excludes
        #[arg(long)]
        limit: Option<String>,
        /// Stage the session: nodes change nothing until `rackboot bos applystaged`
        #[arg(long)]
        stage: bool,
        /// Include nodes that are disabled in HSM
        #[arg(long)]
        include_disabled: bool,
        #[command(flatten)]
        watch: Watch,
    },
    /// List sessions
    List {
        /// Only sessions in this state
        #[arg(long, value_enum)]
        status: Option<SessionState>,
        /// Only sessions started at least this long ago (e.g. 30m, 2h, 1d, 1w)
        #[arg(long, value_parser = parse_age)]
        min_age: Option<String>,
        /// Only sessions started at most this long ago (e.g. 30m, 2h, 1d, 1w)
        #[arg(long, value_parser = parse_age)]
        max_age: Option<String>,
    },
    /// Show one session
    Get { name: String },
    /// Delete a session (its nodes keep the state it gave them)
    Delete { name: String },
    /// Show a session's progress: phases, outcomes, errors and timing
    Status {
        name: String,
        #[command(flatten)]
        watch: Watch,
    },
}

pub(super) async fn run(c: &Client, format: Format, cmd: SessionsCommand) -> anyhow::Result<()> {
    match cmd {
        SessionsCommand::Create {
            template_name,
            operation,
            name,
            limit,
            stage,
            include_disabled,
            watch: w,
        } => {
            let mut body = json!({
                "template_name": template_name,
                "operation": operation.as_str(),
                "stage": stage,
                "include_disabled": include_disabled,
            });
            if let Some(n) = name {
                body["name"] = n.into();
            }
            if let Some(l) = limit {
                body["limit"] = l.into();
            }
            let s: Value = c
                .json(Method::POST, &path(&["sessions"]), Some(&body))
                .await?;
            let name = field(&s, "name");
            if !w.watch {
                show(format, &s, |_| {
                    format!(
                        "session {name} created: {} of template {template_name}{}",
                        operation.as_str(),
                        if stage { " (staged)" } else { "" }
                    )
                });
                return Ok(());
            }
            if format == Format::Table {
                println!(
                    "session {name} created: {} of template {template_name}",
                    operation.as_str()
                );
            }
            watch(c, format, &name, w.interval).await
        }
        SessionsCommand::List {
            status,
            min_age,
            max_age,
        } => {
            let mut q = Vec::new();
            if let Some(s) = status {
                q.push(("status", s.as_str().to_string()));
            }
            if let Some(a) = min_age {
                q.push(("min_age", a));
            }
            if let Some(a) = max_age {
                q.push(("max_age", a));
            }
            let v: Value = c.get(&with_query(path(&["sessions"]), &q)).await?;
            show(format, &v, sessions_table);
            Ok(())
        }
        SessionsCommand::Get { name } => {
            let s: Value = c.get(&path(&["sessions", &name])).await?;
            show(format, &s, session_table);
            Ok(())
        }
        SessionsCommand::Delete { name } => {
            delete(c, &path(&["sessions", &name])).await?;
            done(format, &format!("session {name} deleted"));
            Ok(())
        }
        SessionsCommand::Status { name, watch: w } => {
            if w.watch {
                return watch(c, format, &name, w.interval).await;
            }
            let st: Value = c.get(&path(&["sessions", &name, "status"])).await?;
            let session: Value = c.get(&path(&["sessions", &name])).await?;
            report(c, format, &name, &st, &session, Shown::Status).await
        }
    }
}

/// A session list, one row per session.
fn sessions_table(v: &Value) -> String {
    let rows = as_array(v)
        .iter()
        .map(|s| {
            let st = &s["status"];
            vec![
                field(s, "name"),
                field(s, "operation"),
                field(s, "template_name"),
                field(s, "limit"),
                if s["stage"] == true { "yes" } else { "" }.to_string(),
                field(st, "status"),
                field(st, "start_time"),
                field(st, "end_time"),
                truncate(&field(st, "error"), 60),
            ]
        })
        .collect();
    table(
        &[
            "NAME",
            "OPERATION",
            "TEMPLATE",
            "LIMIT",
            "STAGED",
            "STATUS",
            "STARTED",
            "ENDED",
            "ERROR",
        ],
        rows,
    )
}

/// One session, field by field.
fn session_table(s: &Value) -> String {
    let st = &s["status"];
    let components = field(s, "components");
    let count = components.split(',').filter(|x| !x.is_empty()).count();
    let rows = vec![
        kv("name", field(s, "name")),
        kv("tenant", field(s, "tenant")),
        kv("operation", field(s, "operation")),
        kv("template", field(s, "template_name")),
        kv("limit", field(s, "limit")),
        kv("staged", field(s, "stage")),
        kv("include disabled", field(s, "include_disabled")),
        kv("status", field(st, "status")),
        kv("started", field(st, "start_time")),
        kv("ended", field(st, "end_time")),
        kv("error", field(st, "error")),
        kv(
            "components",
            format!("{count}: {}", truncate(&components, 200)),
        ),
    ];
    table(&["FIELD", "VALUE"], rows)
}

pub(super) async fn applystaged(
    c: &Client,
    format: Format,
    xnames: &[String],
) -> anyhow::Result<()> {
    let v: Value = c
        .json(
            Method::POST,
            &path(&["applystaged"]),
            Some(&json!({ "xnames": xnames })),
        )
        .await?;
    let count = |k: &str| as_array(&v[k]).len();
    show(format, &v, |v| {
        let rows = ["succeeded", "failed", "ignored"]
            .iter()
            .map(|k| vec![k.to_string(), count(k).to_string(), field(v, k)])
            .collect();
        table(&["RESULT", "COUNT", "NODES"], rows)
    });
    let failed = count("failed");
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} nodes failed to apply their staged session (see `rackboot bos components get XNAME`)",
            xnames.len()
        );
    }
    Ok(())
}

/// A BOS age (`AgeString`): `0`, or a number and a unit m/h/d/w (`30m`, `2h`, `1d`, `1w`).
pub fn parse_age(s: &str) -> Result<String, String> {
    let ok = s == "0"
        || (s.len() >= 2 && s.len() <= 8 && {
            let (num, unit) = s.split_at(s.len() - 1);
            matches!(unit, "m" | "M" | "h" | "H" | "d" | "D" | "w" | "W")
                && num.bytes().all(|b| b.is_ascii_digit())
                && (num == "0" || !num.starts_with('0'))
        });
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not an age: use a number and a unit m, h, d or w (30m, 2h, 1d, 1w)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_bos_ages_follow_the_bos_pattern() {
        for ok in ["0", "0m", "30m", "2H", "1d", "52w", "1234567h"] {
            assert_eq!(parse_age(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["", "m", "01d", "1", "1s", "-1d", "1.5h", "12345678h", "d1"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
