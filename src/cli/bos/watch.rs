//! Following a session live: `sessions create --watch`, `sessions status --watch`, and
//! `rackboot demo`, which follows its sessions with the same view.
//!
//! BOS has no push channel, so watching polls the session's extended status every
//! `--interval` (1 s) until it is `complete`, then decides the exit code ([`verdict`]):
//! non-zero if any node failed or the session recorded an error, which is what scripts wait
//! on. The status document gives percentages of the managed nodes, and [`Progress`] turns
//! them back into node counts, since a bar of nodes is what an admin reads.
//!
//! When stdout and stderr are terminals it draws one bar per phase and per outcome;
//! otherwise (a pipe, a log, CI) it prints one line per poll instead, on stdout with
//! tables, on stderr with `--format json` (stdout then carries a single JSON document,
//! `{session, status}`), so a machine reading stdout never sees progress.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::{Client, path};
use crate::cli::output::{Format, field, kv, show, table};

#[derive(clap::Args, Debug, Clone, Copy, PartialEq)]
pub struct Watch {
    /// Follow the session with progress bars until it is complete; exit non-zero if any
    /// node failed or the session recorded an error
    #[arg(long)]
    pub watch: bool,
    /// Seconds between polls while watching
    #[arg(long, value_parser = parse_interval, default_value = "1", requires = "watch")]
    pub interval: Duration,
}

/// Seconds (fractions allowed), from 0.1 to an hour.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.1..=3600.0).contains(&x) => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!(
            "'{s}' is not an interval: give seconds between 0.1 and 3600"
        )),
    }
}

/// A session's progress as node counts, from its extended status document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    /// pending, running or complete
    pub status: String,
    /// Nodes the session manages (`managed_components_count`): every bar's length
    pub total: u64,
    pub powering_off: u64,
    pub powering_on: u64,
    pub configuring: u64,
    /// Successful plus failed
    pub complete: u64,
    pub successful: u64,
    pub failed: u64,
    pub staged: u64,
}

impl Progress {
    /// Counts from the percentages BOS reports (rounded to 2 decimals, of
    /// `managed_components_count`): a count is the nearest whole node, at least one when
    /// the percentage is above zero, at most the total.
    pub fn from_status(doc: &Value) -> Progress {
        let total = doc["managed_components_count"].as_u64().unwrap_or(0);
        let n = |pct: &Value| -> u64 {
            let p = pct.as_f64().unwrap_or(0.0);
            if total == 0 || !p.is_finite() || p <= 0.0 {
                return 0;
            }
            ((p * total as f64 / 100.0).round() as u64).clamp(1, total)
        };
        let phases = &doc["phases"];
        Progress {
            status: field(doc, "status"),
            total,
            powering_off: n(&phases["percent_powering_off"]),
            powering_on: n(&phases["percent_powering_on"]),
            configuring: n(&phases["percent_configuring"]),
            complete: n(&phases["percent_complete"]),
            successful: n(&doc["percent_successful"]),
            failed: n(&doc["percent_failed"]),
            staged: n(&doc["percent_staged"]),
        }
    }

    /// One line for logs: `running: 3/10 complete (2 successful, 1 failed); powering off 0, …`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{}: {}/{} complete ({} successful, {} failed",
            if self.status.is_empty() {
                "unknown"
            } else {
                &self.status
            },
            self.complete,
            self.total,
            self.successful,
            self.failed
        );
        if self.staged > 0 {
            s.push_str(&format!(", {} staged", self.staged));
        }
        s.push_str(&format!(
            "); powering off {}, powering on {}, configuring {}",
            self.powering_off, self.powering_on, self.configuring
        ));
        s
    }

    pub fn is_complete(&self) -> bool {
        crate::model::SessionStatus::parse(&self.status)
            == Some(crate::model::SessionStatus::Complete)
    }
}

/// The exit decision once a session is complete: `Err` with the reason (failed nodes,
/// the session's own error, or both) means the command exits non-zero.
pub fn verdict(status: &Value, session: &Value) -> Result<(), String> {
    let name = field(session, "name");
    let p = Progress::from_status(status);
    let error = field(&session["status"], "error");
    let failed = (p.failed > 0).then(|| format!("{} of {} nodes failed", p.failed, p.total));
    match (error.is_empty(), failed) {
        (true, None) => Ok(()),
        (true, Some(f)) => Err(format!("session {name}: {f}")),
        (false, None) => Err(format!("session {name} failed: {error}")),
        (false, Some(f)) => Err(format!("session {name} failed: {error}; {f}")),
    }
}

/// How progress is shown while watching.
enum View {
    Bars {
        multi: MultiProgress,
        header: ProgressBar,
        /// powering off, powering on, configuring, complete, successful, failed
        bars: Vec<ProgressBar>,
    },
    /// One line per poll, on stdout (`to_stderr` false) or stderr.
    Lines { to_stderr: bool },
}

const BAR_LABELS: [&str; 6] = [
    "powering off",
    "powering on",
    "configuring",
    "complete",
    "successful",
    "failed",
];

impl View {
    fn new(format: Format, name: &str) -> View {
        if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
            return View::Lines {
                to_stderr: format == Format::Json,
            };
        }
        let multi = MultiProgress::new();
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .expect("valid template"),
        );
        header.set_message(format!("session {name}"));
        header.enable_steady_tick(Duration::from_millis(120));
        let style = ProgressStyle::with_template("{prefix:>14} {bar:40} {msg}")
            .expect("valid template")
            .progress_chars("█▉▊▋▌▍▎▏ ");
        let bars = BAR_LABELS
            .iter()
            .map(|label| {
                let b = multi.add(ProgressBar::no_length());
                b.set_style(style.clone());
                b.set_prefix(*label);
                b
            })
            .collect();
        View::Bars {
            multi,
            header,
            bars,
        }
    }

    fn update(&self, name: &str, p: &Progress, elapsed: Duration) {
        match self {
            View::Lines { to_stderr } => {
                let t = elapsed.as_secs();
                let line = format!(
                    "[{:02}:{:02}:{:02}] session {name} {}",
                    t / 3600,
                    t / 60 % 60,
                    t % 60,
                    p.line()
                );
                if *to_stderr {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
            View::Bars { header, bars, .. } => {
                header.set_message(format!(
                    "session {name}: {} ({} nodes{})",
                    if p.status.is_empty() {
                        "unknown"
                    } else {
                        &p.status
                    },
                    p.total,
                    if p.staged > 0 {
                        format!(", {} staged", p.staged)
                    } else {
                        String::new()
                    }
                ));
                let counts = [
                    p.powering_off,
                    p.powering_on,
                    p.configuring,
                    p.complete,
                    p.successful,
                    p.failed,
                ];
                for (bar, n) in bars.iter().zip(counts) {
                    if p.total == 0 {
                        bar.unset_length();
                        bar.set_position(0);
                        bar.set_message("-");
                    } else {
                        bar.set_length(p.total);
                        bar.set_position(n);
                        bar.set_message(format!("{n}/{}", p.total));
                    }
                }
            }
        }
    }

    fn finish(self) {
        if let View::Bars {
            multi,
            header,
            bars,
        } = self
        {
            header.finish_and_clear();
            for b in bars {
                b.finish_and_clear();
            }
            let _ = multi.clear();
        }
    }
}

/// Follow a session until it is complete, then print its final status and decide the
/// exit code.
pub(super) async fn watch(
    c: &Client,
    format: Format,
    name: &str,
    interval: Duration,
) -> anyhow::Result<()> {
    let (last, session) = follow(c, format, name, interval).await?;
    report(c, format, name, &last, &session, Shown::Both).await
}

/// What `--format json` prints once a session is reported.
pub(super) enum Shown {
    /// `{session, status, failed_nodes}` (`--watch`).
    Both,
    /// The status document as the server sent it (`sessions status`).
    Status,
}

/// Print a session's status, with each node BOS gave up on (failed, or held by an error) and
/// why, then decide the exit code: non-zero when any node failed or the session recorded an
/// error (what `--watch` and `status` both end with).
pub(super) async fn report(
    c: &Client,
    format: Format,
    name: &str,
    status: &Value,
    session: &Value,
    shown: Shown,
) -> anyhow::Result<()> {
    let verdict = verdict(status, session);
    let failed = if verdict.is_err() {
        failed_nodes(c, name).await?
    } else {
        Vec::new()
    };
    let doc = match shown {
        Shown::Both => json!({ "session": session, "status": status, "failed_nodes": failed }),
        Shown::Status => status.clone(),
    };
    show(format, &doc, |_| {
        let mut text = status_text(name, status, Some(session));
        if !failed.is_empty() {
            let rows = failed
                .iter()
                .map(|n| vec![field(n, "id"), field(n, "status"), field(n, "error")])
                .collect();
            text.push('\n');
            text.push_str(&table(&["FAILED NODE", "STATUS", "CAUSE"], rows));
        }
        text
    });
    verdict.map_err(anyhow::Error::msg)
}

/// The session's nodes that BOS gave up on: `failed`, or `on_hold` with an error (a BMC or
/// the configuration service that could not be asked), each with its cause.
async fn failed_nodes(c: &Client, name: &str) -> anyhow::Result<Vec<Value>> {
    let comps: Value = c
        .get(&crate::cli::client::with_query(
            path(&["components"]),
            &[("session", name.to_string())],
        ))
        .await?;
    Ok(comps
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|comp| {
            let status = field(&comp["status"], "status");
            let error = field(comp, "error");
            let undriven = status == "failed" || (status == "on_hold" && !error.is_empty());
            undriven.then(|| json!({"id": field(comp, "id"), "status": status, "error": error}))
        })
        .collect())
}

/// Show a session's progress until it is complete (bars on a terminal, otherwise a line
/// per poll: on stdout with [`Format::Table`], on stderr with [`Format::Json`]); returns
/// its final extended status and the session record, for [`verdict`]. `rackboot demo`
/// follows its sessions with this too.
pub async fn follow(
    c: &Client,
    format: Format,
    name: &str,
    interval: Duration,
) -> anyhow::Result<(Value, Value)> {
    let status_path = path(&["sessions", name, "status"]);
    let view = View::new(format, name);
    let started = Instant::now();
    let last = loop {
        let doc: Value = match c.get(&status_path).await {
            Ok(d) => d,
            Err(e) => {
                view.finish();
                return Err(e.into());
            }
        };
        let p = Progress::from_status(&doc);
        view.update(name, &p, started.elapsed());
        if p.is_complete() {
            break doc;
        }
        tokio::time::sleep(interval).await;
    };
    view.finish();
    let session: Value = c.get(&path(&["sessions", name])).await?;
    Ok((last, session))
}

/// A readable summary of an extended status document (and the session's error, if known).
pub(super) fn status_text(name: &str, st: &Value, session: Option<&Value>) -> String {
    let p = Progress::from_status(st);
    let pct = |v: &Value, n: u64| match v.as_f64() {
        Some(x) => format!("{x}% ({n})"),
        None => String::new(),
    };
    let phases = &st["phases"];
    let timing = &st["timing"];
    let rows = vec![
        kv("status", field(st, "status")),
        kv("nodes", field(st, "managed_components_count")),
        kv("complete", pct(&phases["percent_complete"], p.complete)),
        kv("successful", pct(&st["percent_successful"], p.successful)),
        kv("failed", pct(&st["percent_failed"], p.failed)),
        kv("staged", pct(&st["percent_staged"], p.staged)),
        kv(
            "powering off",
            pct(&phases["percent_powering_off"], p.powering_off),
        ),
        kv(
            "powering on",
            pct(&phases["percent_powering_on"], p.powering_on),
        ),
        kv(
            "configuring",
            pct(&phases["percent_configuring"], p.configuring),
        ),
        kv("started", field(timing, "start_time")),
        kv("ended", field(timing, "end_time")),
        kv("duration", field(timing, "duration")),
    ];
    let mut lines = vec![format!("session {name}"), table(&["FIELD", "VALUE"], rows)];
    let errors = st["error_summary"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(err, e)| vec![err.clone(), field(e, "count"), field(e, "list")])
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        lines.push(table(&["ERROR", "NODES", "WHICH"], errors));
    }
    if let Some(s) = session {
        let e = field(&s["status"], "error");
        if !e.is_empty() {
            lines.push(format!("session error: {e}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_doc(
        status: &str,
        total: u64,
        off: f64,
        on: f64,
        cfg: f64,
        ok: f64,
        failed: f64,
    ) -> Value {
        json!({
            "status": status,
            "managed_components_count": total,
            "phases": {
                "percent_complete": ok + failed,
                "percent_powering_on": on,
                "percent_powering_off": off,
                "percent_configuring": cfg,
            },
            "percent_successful": ok,
            "percent_failed": failed,
            "percent_staged": 0.0,
            "error_summary": {},
            "timing": {"start_time": "2025-06-01T12:00:00", "end_time": null, "duration": "0:00:10"},
        })
    }

    #[test]
    fn cli_bos_progress_counts_come_from_the_percentages() {
        let p = Progress::from_status(&status_doc("running", 3, 33.33, 33.33, 0.0, 33.33, 0.0));
        assert_eq!(
            p,
            Progress {
                status: "running".into(),
                total: 3,
                powering_off: 1,
                powering_on: 1,
                configuring: 0,
                complete: 1,
                successful: 1,
                failed: 0,
                staged: 0,
            }
        );
        assert!(!p.is_complete());
        assert_eq!(
            p.line(),
            "running: 1/3 complete (1 successful, 0 failed); powering off 1, powering on 1, configuring 0"
        );
        // 2 of 3 is 66.67%.
        let p = Progress::from_status(&status_doc("complete", 3, 0.0, 0.0, 0.0, 66.67, 33.33));
        assert_eq!((p.complete, p.successful, p.failed), (3, 2, 1));
        assert!(p.is_complete());
        // A positive percentage is at least one node.
        let p = Progress::from_status(&status_doc("running", 3000, 0.0, 0.0, 0.0, 0.0, 0.01));
        assert_eq!(p.failed, 1);
        // Integers work as well as floats; counts never exceed the total.
        let p = Progress::from_status(&json!({
            "status": "complete", "managed_components_count": 4,
            "phases": {"percent_complete": 100}, "percent_successful": 100.5,
            "percent_staged": 25
        }));
        assert_eq!((p.complete, p.successful, p.staged), (4, 4, 1));
        // A pending session (nothing managed yet) and a missing document give zeros.
        let p = Progress::from_status(&status_doc("pending", 0, 0.0, 0.0, 0.0, 0.0, 0.0));
        assert_eq!(p.total, 0);
        assert_eq!(Progress::from_status(&json!({})), Progress::default());
    }

    #[test]
    fn cli_bos_verdict_fails_on_failed_nodes_or_a_session_error() {
        let ok = status_doc("complete", 4, 0.0, 0.0, 0.0, 100.0, 0.0);
        let some_failed = status_doc("complete", 4, 0.0, 0.0, 0.0, 75.0, 25.0);
        let session =
            |error: Value| json!({"name": "s1", "status": {"status": "complete", "error": error}});
        assert_eq!(verdict(&ok, &session(Value::Null)), Ok(()));
        assert_eq!(
            verdict(
                &ok,
                &json!({"name": "s1", "status": {"status": "complete"}})
            ),
            Ok(())
        );
        assert_eq!(verdict(&ok, &session(json!(""))), Ok(()));
        assert_eq!(
            verdict(&some_failed, &session(Value::Null)),
            Err("session s1: 1 of 4 nodes failed".to_string())
        );
        assert_eq!(
            verdict(&ok, &session(json!("Session template 't' does not exist"))),
            Err("session s1 failed: Session template 't' does not exist".to_string())
        );
        assert_eq!(
            verdict(&some_failed, &session(json!("boom"))),
            Err("session s1 failed: boom; 1 of 4 nodes failed".to_string())
        );
        // A session that failed during setup manages no nodes: its error decides.
        let empty = status_doc("complete", 0, 0.0, 0.0, 0.0, 0.0, 0.0);
        assert!(verdict(&empty, &session(json!("no nodes matched"))).is_err());
        assert_eq!(verdict(&empty, &session(Value::Null)), Ok(()));
    }
}
