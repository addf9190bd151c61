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
//! Watching a session polls its extended status every `--interval` (1 s). When stdout and
//! stderr are terminals it draws one bar per phase and per outcome; otherwise (a pipe, a
//! log, CI) it prints one line per poll instead, on stdout with tables, on stderr with
//! `--format json` (stdout then carries a single JSON document, `{session, status}`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::client::{api_path, with_query};
use super::output::{Format, as_array, done, field, json as to_json, kv, read_doc, table};
use super::{Client, ClientArgs, split_list};

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
}

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

#[derive(Subcommand, Debug)]
pub enum OptionsCommand {
    /// Show every option
    Get,
    /// Set options: KEY=VALUE, where VALUE is taken as JSON if it parses (20, true) and
    /// as a string otherwise (7d, INFO)
    Set {
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_option)]
        values: Vec<(String, Value)>,
    },
}

pub async fn run(
    c: &Client,
    format: Format,
    tenant: Option<&str>,
    cmd: BosCommand,
) -> anyhow::Result<()> {
    let tc = with_tenant(c, tenant)?;
    match cmd {
        BosCommand::Sessiontemplates(cmd) => templates(&tc, format, cmd).await,
        BosCommand::Sessions(cmd) => sessions(&tc, format, cmd).await,
        BosCommand::Components(cmd) => components(&tc, format, cmd).await,
        BosCommand::Applystaged { xnames } => applystaged(&tc, format, &split_list(&xnames)).await,
        BosCommand::Options(cmd) => options(c, format, cmd).await,
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

// ---------------------------------------------------------------------------------------
// Session templates

async fn templates(c: &Client, format: Format, cmd: TemplatesCommand) -> anyhow::Result<()> {
    match cmd {
        TemplatesCommand::List => {
            let v: Value = c.get(&path(&["sessiontemplates"])).await?;
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => {
                    let rows = as_array(&v).iter().map(template_row).collect();
                    println!(
                        "{}",
                        table(&["NAME", "TENANT", "DESCRIPTION", "CFS", "BOOT SETS"], rows)
                    );
                }
            }
        }
        TemplatesCommand::Get { name } => {
            let v: Value = c.get(&path(&["sessiontemplates", &name])).await?;
            print_template(format, &v);
        }
        TemplatesCommand::Create { name, file } => {
            let body = template_body(read_doc(&file)?);
            let v: Value = c
                .json(
                    Method::PUT,
                    &path(&["sessiontemplates", &name]),
                    Some(&body),
                )
                .await?;
            saved(format, &v, &format!("session template {name} saved"));
        }
        TemplatesCommand::Update { name, file } => {
            let body = template_body(read_doc(&file)?);
            let v: Value = c
                .json(
                    Method::PATCH,
                    &path(&["sessiontemplates", &name]),
                    Some(&body),
                )
                .await?;
            saved(format, &v, &format!("session template {name} updated"));
        }
        TemplatesCommand::Delete { name } => {
            delete(c, &path(&["sessiontemplates", &name])).await?;
            done(format, &format!("session template {name} deleted"));
        }
        TemplatesCommand::Validate { name } => {
            let v: Value = c.get(&path(&["sessiontemplatesvalid", &name])).await?;
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => println!("{}", v.as_str().unwrap_or(&v.to_string())),
            }
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

fn template_row(t: &Value) -> Vec<String> {
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

fn print_template(format: Format, t: &Value) {
    if format == Format::Json {
        println!("{}", to_json(t));
        return;
    }
    let row = template_row(t);
    let (name, tenant, description, cfs) = (&row[0], &row[1], &row[2], &row[3]);
    let mut head = format!("session template {name}");
    if !tenant.is_empty() {
        head.push_str(&format!(" (tenant {tenant})"));
    }
    if !description.is_empty() {
        head.push_str(&format!(": {description}"));
    }
    println!("{head}");
    if !cfs.is_empty() {
        println!("CFS configuration: {cfs}");
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
    println!(
        "{}",
        table(
            &[
                "BOOT SET",
                "TYPE",
                "PATH",
                "ARCH",
                "NODES",
                "KERNEL PARAMETERS",
                "ROOTFS",
                "CFS"
            ],
            rows
        )
    );
}

fn saved(format: Format, v: &Value, msg: &str) {
    match format {
        Format::Json => println!("{}", to_json(v)),
        Format::Table => println!("{msg}"),
    }
}

// ---------------------------------------------------------------------------------------
// Sessions

async fn sessions(c: &Client, format: Format, cmd: SessionsCommand) -> anyhow::Result<()> {
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
                saved(
                    format,
                    &s,
                    &format!(
                        "session {name} created: {} of template {template_name}{}",
                        operation.as_str(),
                        if stage { " (staged)" } else { "" }
                    ),
                );
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
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => {
                    let rows = as_array(&v)
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
                    println!(
                        "{}",
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
                                "ERROR"
                            ],
                            rows
                        )
                    );
                }
            }
            Ok(())
        }
        SessionsCommand::Get { name } => {
            let s: Value = c.get(&path(&["sessions", &name])).await?;
            match format {
                Format::Json => println!("{}", to_json(&s)),
                Format::Table => print_session(&s),
            }
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
            match format {
                Format::Json => println!("{}", to_json(&st)),
                Format::Table => print_status(&name, &st, None),
            }
            Ok(())
        }
    }
}

fn print_session(s: &Value) {
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
    println!("{}", table(&["FIELD", "VALUE"], rows));
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
        self.status == "complete"
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
async fn watch(c: &Client, format: Format, name: &str, interval: Duration) -> anyhow::Result<()> {
    let (last, session) = follow(c, format, name, interval).await?;
    match format {
        Format::Json => println!(
            "{}",
            to_json(&json!({ "session": session, "status": last }))
        ),
        Format::Table => print_status(name, &last, Some(&session)),
    }
    verdict(&last, &session).map_err(anyhow::Error::msg)
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
fn print_status(name: &str, st: &Value, session: Option<&Value>) {
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
    println!("session {name}");
    println!("{}", table(&["FIELD", "VALUE"], rows));
    let errors = st["error_summary"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(err, e)| vec![err.clone(), field(e, "count"), field(e, "list")])
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        println!("{}", table(&["ERROR", "NODES", "WHICH"], errors));
    }
    if let Some(s) = session {
        let e = field(&s["status"], "error");
        if !e.is_empty() {
            println!("session error: {e}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Components

async fn components(c: &Client, format: Format, cmd: ComponentsCommand) -> anyhow::Result<()> {
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
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => print_components(as_array(&v)),
            }
        }
        ComponentsCommand::Get { id } => {
            let v: Value = c.get(&path(&["components", &id])).await?;
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => print_component(&v),
            }
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
            match format {
                Format::Json => println!("{}", to_json(&v)),
                Format::Table => print_components(std::slice::from_ref(&v)),
            }
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
pub(super) fn last_action(c: &Value) -> String {
    let la = &c["last_action"];
    let a = field(la, "action");
    if la["failed"] == true {
        format!("{a} (failed)")
    } else {
        a
    }
}

fn print_components(list: &[Value]) {
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
    println!(
        "{}",
        table(
            &[
                "ID",
                "ENABLED",
                "PHASE",
                "STATUS",
                "SESSION",
                "LAST ACTION",
                "ERROR"
            ],
            rows
        )
    );
}

fn print_component(c: &Value) {
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
    println!("{}", table(&["FIELD", "VALUE"], rows));
}

// ---------------------------------------------------------------------------------------
// applystaged and options

async fn applystaged(c: &Client, format: Format, xnames: &[String]) -> anyhow::Result<()> {
    let v: Value = c
        .json(
            Method::POST,
            &path(&["applystaged"]),
            Some(&json!({ "xnames": xnames })),
        )
        .await?;
    let list = |k: &str| as_array(&v[k]).to_vec();
    match format {
        Format::Json => println!("{}", to_json(&v)),
        Format::Table => {
            let rows = ["succeeded", "failed", "ignored"]
                .iter()
                .map(|k| vec![k.to_string(), list(k).len().to_string(), field(&v, k)])
                .collect();
            println!("{}", table(&["RESULT", "COUNT", "NODES"], rows));
        }
    }
    let failed = list("failed").len();
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} nodes failed to apply their staged session (see `rackboot bos components get XNAME`)",
            xnames.len()
        );
    }
    Ok(())
}

async fn options(c: &Client, format: Format, cmd: OptionsCommand) -> anyhow::Result<()> {
    let v: Value = match cmd {
        OptionsCommand::Get => c.get(&path(&["options"])).await?,
        OptionsCommand::Set { values } => {
            let body = options_body(values)?;
            c.json(Method::PATCH, &path(&["options"]), Some(&body))
                .await?
        }
    };
    match format {
        Format::Json => println!("{}", to_json(&v)),
        Format::Table => {
            let mut rows: Vec<Vec<String>> = v
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, val)| {
                            let shown = match val {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            vec![k.clone(), shown]
                        })
                        .collect()
                })
                .unwrap_or_default();
            rows.sort();
            println!("{}", table(&["OPTION", "VALUE"], rows));
        }
    }
    Ok(())
}

/// `KEY=VALUE`: VALUE as JSON if it parses (numbers, booleans, quoted strings, …), as a
/// plain string otherwise.
pub fn parse_option(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got '{s}'"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("expected KEY=VALUE, got '{s}' (no key)"));
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

/// The PATCH body for `options set`; a key given twice is a mistake, not a last-one-wins.
fn options_body(values: Vec<(String, Value)>) -> anyhow::Result<Value> {
    let mut m = Map::new();
    for (k, v) in values {
        if m.insert(k.clone(), v).is_some() {
            anyhow::bail!("option {k} is given more than once");
        }
    }
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------------------
// Flag values and small helpers

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

/// Seconds (fractions allowed), from 0.1 to an hour.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.1..=3600.0).contains(&x) => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!(
            "'{s}' is not an interval: give seconds between 0.1 and 3600"
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::super::output::parse_doc;
    use clap::Parser;
    use std::path::Path;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<BosArgs, clap::Error> {
        let mut full = vec!["rackboot", "bos"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full)?.command {
            Command::Bos(a) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn cli_bos_parses_session_create_with_every_flag() {
        let a = parse(&[
            "--tenant",
            "t1",
            "sessions",
            "create",
            "--template-name",
            "compute",
            "--operation",
            "reboot",
            "--name",
            "s1",
            "--limit",
            "x3000c0s1b0n0,!x3000c0s2b0n0",
            "--stage",
            "--include-disabled",
            "--watch",
            "--interval",
            "0.5",
            "--format",
            "json",
            "--url",
            "http://h:1",
        ])
        .unwrap();
        assert_eq!(a.tenant.as_deref(), Some("t1"));
        assert_eq!(a.client.format, Format::Json);
        assert_eq!(a.client.url, "http://h:1");
        match a.client.command {
            BosCommand::Sessions(SessionsCommand::Create {
                template_name,
                operation,
                name,
                limit,
                stage,
                include_disabled,
                watch,
            }) => {
                assert_eq!(template_name, "compute");
                assert_eq!(operation, Operation::Reboot);
                assert_eq!(name.as_deref(), Some("s1"));
                assert_eq!(limit.as_deref(), Some("x3000c0s1b0n0,!x3000c0s2b0n0"));
                assert!(stage && include_disabled && watch.watch);
                assert_eq!(watch.interval, Duration::from_millis(500));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cli_bos_session_create_needs_template_and_a_known_operation() {
        assert!(parse(&["sessions", "create", "--operation", "boot"]).is_err());
        assert!(parse(&["sessions", "create", "--template-name", "t"]).is_err());
        assert!(
            parse(&[
                "sessions",
                "create",
                "--template-name",
                "t",
                "--operation",
                "configure"
            ])
            .is_err()
        );
        // --interval only means something with --watch.
        assert!(
            parse(&[
                "sessions",
                "create",
                "--template-name",
                "t",
                "--operation",
                "boot",
                "--interval",
                "2"
            ])
            .is_err()
        );
        let a = parse(&[
            "sessions",
            "create",
            "--template-name",
            "t",
            "--operation",
            "shutdown",
        ])
        .unwrap();
        assert!(a.tenant.is_none());
        match a.client.command {
            BosCommand::Sessions(SessionsCommand::Create {
                operation,
                stage,
                watch,
                ..
            }) => {
                assert_eq!(operation, Operation::Shutdown);
                assert!(!stage && !watch.watch);
                assert_eq!(watch.interval, Duration::from_secs(1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cli_bos_parses_session_list_filters_and_rejects_bad_ages() {
        let a = parse(&[
            "sessions",
            "list",
            "--status",
            "complete",
            "--min-age",
            "1d",
            "--max-age",
            "2w",
        ])
        .unwrap();
        match a.client.command {
            BosCommand::Sessions(SessionsCommand::List {
                status,
                min_age,
                max_age,
            }) => {
                assert_eq!(status, Some(SessionState::Complete));
                assert_eq!(min_age.as_deref(), Some("1d"));
                assert_eq!(max_age.as_deref(), Some("2w"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["sessions", "list", "--min-age", "1y"]).is_err());
        assert!(parse(&["sessions", "list", "--status", "done"]).is_err());
    }

    #[test]
    fn cli_bos_ages_follow_the_bos_pattern() {
        for ok in ["0", "0m", "30m", "2H", "1d", "52w", "1234567h"] {
            assert_eq!(parse_age(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["", "m", "01d", "1", "1s", "-1d", "1.5h", "12345678h", "d1"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_bos_parses_status_watch_and_the_tenant_after_the_subcommand() {
        let a = parse(&["sessions", "status", "s1", "--watch", "--tenant", "t2"]).unwrap();
        assert_eq!(a.tenant.as_deref(), Some("t2"));
        match a.client.command {
            BosCommand::Sessions(SessionsCommand::Status { name, watch }) => {
                assert_eq!(name, "s1");
                assert!(watch.watch);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["sessions", "status", "s1", "--watch", "--interval", "0"]).is_err());
    }

    #[test]
    fn cli_bos_parses_template_commands() {
        let a = parse(&["sessiontemplates", "create", "t", "--file", "t.yaml"]).unwrap();
        assert!(matches!(
            a.client.command,
            BosCommand::Sessiontemplates(TemplatesCommand::Create { ref name, ref file })
                if name == "t" && file == Path::new("t.yaml")
        ));
        assert!(parse(&["sessiontemplates", "create", "t"]).is_err());
        assert!(parse(&["sessiontemplates", "update", "t"]).is_err());
        for cmd in [
            &["sessiontemplates", "list"][..],
            &["sessiontemplates", "get", "t"],
            &["sessiontemplates", "delete", "t"],
            &["sessiontemplates", "validate", "t"],
            &["sessiontemplates", "skeleton"],
        ] {
            parse(cmd).unwrap();
        }
    }

    #[test]
    fn cli_bos_parses_component_commands() {
        let a = parse(&[
            "components",
            "list",
            "--ids",
            "x1,x2",
            "--ids",
            "x3",
            "--enabled",
            "false",
            "--phase",
            "powering_on",
            "--status",
            "failed,on_hold",
            "--session",
            "s",
        ])
        .unwrap();
        match a.client.command {
            BosCommand::Components(ComponentsCommand::List {
                ids,
                enabled,
                phase,
                status,
                session,
                staged_session,
            }) => {
                assert_eq!(split_list(&ids), ["x1", "x2", "x3"]);
                assert_eq!(enabled, Some(false));
                assert_eq!(phase.as_deref(), Some("powering_on"));
                assert_eq!(split_list(&status), ["failed", "on_hold"]);
                assert_eq!(session.as_deref(), Some("s"));
                assert_eq!(staged_session, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["components", "list", "--enabled", "maybe"]).is_err());
        let a = parse(&[
            "components",
            "update",
            "x1",
            "--enabled",
            "true",
            "--retry-policy",
            "5",
            "--clear-error",
        ])
        .unwrap();
        match a.client.command {
            BosCommand::Components(ComponentsCommand::Update {
                id,
                enabled,
                retry_policy,
                clear_error,
                file,
            }) => {
                assert_eq!(id, "x1");
                assert_eq!(enabled, Some(true));
                assert_eq!(retry_policy, Some(5));
                assert!(clear_error);
                assert!(file.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["components", "update", "x1", "--retry-policy", "-1"]).is_err());
    }

    #[test]
    fn cli_bos_parses_applystaged_and_options() {
        let a = parse(&["applystaged", "x1", "x2,x3"]).unwrap();
        match a.client.command {
            BosCommand::Applystaged { xnames } => {
                assert_eq!(split_list(&xnames), ["x1", "x2", "x3"])
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["applystaged"]).is_err());
        let a = parse(&[
            "options",
            "set",
            "polling_frequency=5",
            "logging_level=DEBUG",
        ])
        .unwrap();
        match a.client.command {
            BosCommand::Options(OptionsCommand::Set { values }) => assert_eq!(
                values,
                [
                    ("polling_frequency".to_string(), json!(5)),
                    ("logging_level".to_string(), json!("DEBUG"))
                ]
            ),
            other => panic!("{other:?}"),
        }
        assert!(parse(&["options", "set"]).is_err());
        assert!(parse(&["options", "set", "novalue"]).is_err());
        parse(&["options", "get"]).unwrap();
    }

    #[test]
    fn cli_bos_option_values_are_json_when_they_parse_else_strings() {
        let v = |s: &str| parse_option(s).unwrap();
        assert_eq!(
            v("polling_frequency=15"),
            ("polling_frequency".into(), json!(15))
        );
        assert_eq!(v("clear_stage=true"), ("clear_stage".into(), json!(true)));
        assert_eq!(v("reject_nids=false"), ("reject_nids".into(), json!(false)));
        assert_eq!(v("x=1.5"), ("x".into(), json!(1.5)));
        assert_eq!(
            v("cleanup_completed_session_ttl=7d"),
            ("cleanup_completed_session_ttl".into(), json!("7d"))
        );
        assert_eq!(
            v("logging_level=INFO"),
            ("logging_level".into(), json!("INFO"))
        );
        // Quoting forces a string; an empty value is the empty string; `=` in values stays.
        assert_eq!(v(r#"x="20""#), ("x".into(), json!("20")));
        assert_eq!(v("x="), ("x".into(), json!("")));
        assert_eq!(v("x=a=b"), ("x".into(), json!("a=b")));
        assert_eq!(v("x=True"), ("x".into(), json!("True")));
        assert!(parse_option("x").is_err());
        assert!(parse_option("=5").is_err());
        assert_eq!(
            options_body(vec![("a".into(), json!(1)), ("b".into(), json!("s"))]).unwrap(),
            json!({"a": 1, "b": "s"})
        );
        assert!(options_body(vec![("a".into(), json!(1)), ("a".into(), json!(2))]).is_err());
    }

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

    #[test]
    fn cli_bos_paths_encode_names_and_queries() {
        assert_eq!(
            path(&["sessions", "s1", "status"]),
            "/apis/bos/v2/sessions/s1/status"
        );
        assert_eq!(
            path(&["sessiontemplates", "a b/c?d"]),
            "/apis/bos/v2/sessiontemplates/a%20b%2Fc%3Fd"
        );
        assert_eq!(
            with_query::<&str>(path(&["sessions"]), &[]),
            "/apis/bos/v2/sessions"
        );
        assert_eq!(
            with_query(
                path(&["components"]),
                &[("ids", "x1,x2".into()), ("enabled", "true".into())]
            ),
            "/apis/bos/v2/components?ids=x1%2Cx2&enabled=true"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn cli_bos_tenant_must_be_a_header_value() {
        let c = Client::new("http://127.0.0.1:1");
        assert!(with_tenant(&c, Some("t1")).is_ok());
        assert!(with_tenant(&c, Some("")).is_ok());
        assert!(with_tenant(&c, Some("bad\nname")).is_err());
    }
}
