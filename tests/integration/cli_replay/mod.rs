//! The real client, replayed: every request the `cray` CLI sent for 78 common commands
//! (`tests/fixtures/clients/cray-cli-requests.json`, see its README), in the capture's order,
//! against an appliance with four simulated netbooting nodes behind SimBmcs, each answer
//! checked for its status and against the upstream spec of its path; and the seed's BOS v2
//! workflows (boot, reboot, power off) each through exactly the CLI's requests, end to end.
//!
//! What this owns: reading the capture, substituting its placeholders with what exists in the
//! test's appliance (a local git repository for `file:///srv/git/site-config.git`, a spare
//! SimBmc for `BMC_HOST:PORT`, the transition IDs this appliance returned), sending a request
//! exactly as recorded (a GET or DELETE with a JSON body included), and checking an answer
//! against the contract for its prefix. What it must not do: bend a request to make it pass,
//! or skip one silently. An entry that is expected to fail, or not to be served yet, is listed
//! in `expect.rs` with the reason, and the replay fails when the listing stops being true.
//!
//! Waiting follows the CLI: an admin reruns `sessions describe` or `transition describe` until
//! the session or transition is done, so those entries are repeated (each answer checked) until
//! they say so; a BOS v1 session create is followed by the v1 CLI's `session describe` until
//! the session is complete, since the capture has no describe of its own for it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{Server, poll};
use crate::openapi::Spec;

mod expect;
mod replay;
mod workflows;

/// One recorded command and the requests it sent.
#[derive(Clone, Debug)]
pub struct Entry {
    pub cli: String,
    pub command: String,
    pub requests: Vec<Request>,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub body: Option<Value>,
}

/// An answer: status, media type (without parameters), body (JSON, a string, or null).
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub media: String,
    pub body: Value,
}

/// The capture, as vendored.
pub fn capture() -> &'static [Entry] {
    static CAPTURE: OnceLock<Vec<Entry>> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/clients/cray-cli-requests.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let all: Value = serde_json::from_str(&text).unwrap();
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k}: {v}")).into();
        all.as_array()
            .expect("the capture is an array of entries")
            .iter()
            .map(|e| Entry {
                cli: text(e, "cli"),
                command: text(e, "command"),
                requests: e["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| Request {
                        method: text(r, "method"),
                        path: text(r, "path"),
                        body: Some(r["body"].clone()).filter(|b| !b.is_null()),
                    })
                    .collect(),
            })
            .collect()
    })
}

/// The recorded entry for a command line (panics naming it when the capture has none).
pub fn entry(command: &str) -> &'static Entry {
    capture()
        .iter()
        .find(|e| e.command == command)
        .unwrap_or_else(|| panic!("the capture has no command {command:?}"))
}

/// The upstream contracts by gateway prefix: the specs an answer under it must satisfy. BOS
/// v1 answers are held to the last BOS spec that still had v1; BOS v2 answers to the current
/// one, which craycli 0.99.0 is written against. The with-v1 spec's v2 half is BOS's of that
/// time (~2.16): its `V2SessionName` allowed only Kubernetes names (lower case), so the
/// capture's own `--name T-boot` breaks it, where the current spec allows upper case.
pub const CONTRACTS: &[(&str, &[&str])] = &[
    ("/apis/bos/v1/", &["bos-openapi-with-v1.yaml"]),
    ("/apis/bos/v2/", &["bos-openapi.yaml"]),
    ("/apis/bss/", &["bss-cray-hpe-swagger.yaml"]),
    ("/apis/smd/hsm/v2/", &["hsm-smd-cray-hpe-swagger_v2.yaml"]),
    ("/apis/power-control/v1/", &["pcs-swagger.yaml"]),
    ("/apis/capmc/capmc/v1/", &["capmc-swagger.yaml"]),
    ("/apis/cfs/", &["cfs-openapi.yaml"]),
];

/// A vendored spec with its errata ([`expect::ERRATA`]) applied, loaded once per test binary.
pub fn spec(file: &str) -> &'static Spec {
    static SPECS: OnceLock<Mutex<HashMap<String, &'static Spec>>> = OnceLock::new();
    let mut specs = SPECS.get_or_init(Default::default).lock().unwrap();
    specs.entry(file.to_string()).or_insert_with(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/specs")
            .join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut doc: Value =
            yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{file}: not YAML: {e}"));
        for (f, at, value, why) in expect::ERRATA {
            if *f != file {
                continue;
            }
            let value: Value = serde_json::from_str(value).unwrap();
            let old = doc
                .pointer_mut(at)
                .unwrap_or_else(|| panic!("{file}: erratum for {at} ({why}): no such location"));
            assert_ne!(
                *old, value,
                "{file}: erratum for {at} is in the spec now: remove it from cli_replay/expect.rs"
            );
            *old = value;
        }
        // JSON is YAML: the patched document goes through the one loader.
        Box::leak(Box::new(Spec::from_yaml(file, &doc.to_string())))
    })
}

/// The spec files for a request path, or `None` when no contract covers it.
pub fn contract(path: &str) -> Option<&'static [&'static str]> {
    CONTRACTS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, specs)| *specs)
}

/// Every way `answer` to `req` departs from the upstream contract for its path.
pub fn violations(req: &Request, a: &Answer) -> Vec<String> {
    let Some(files) = contract(&req.path) else {
        return vec![format!("no upstream contract covers {}", req.path)];
    };
    let mut out = Vec::new();
    for file in files {
        let s = spec(file);
        let r = if !is_json(&a.media) && !a.body.is_null() {
            s.documents_media(&req.method, &req.path, a.status, &a.media)
                .map_err(|e| vec![e])
        } else if let Some(component) = expect::checked_as_component(req, a) {
            s.check_schema(component, &a.body)
        } else {
            s.check(&req.method, &req.path, a.status, &a.body)
        };
        if let Err(errs) = r {
            out.extend(errs.into_iter().map(|e| format!("{file}: {e}")));
        }
    }
    out
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// Sends requests as the CLI did, with the capture's placeholders substituted.
pub struct Replayer<'a> {
    pub s: &'a Server,
    /// (recorded text, text in this appliance), applied to paths and bodies.
    pub names: Vec<(String, String)>,
}

impl<'a> Replayer<'a> {
    pub fn new(s: &'a Server) -> Replayer<'a> {
        Replayer {
            s,
            names: Vec::new(),
        }
    }

    /// Substitute `recorded` with `actual` from now on.
    pub fn name(&mut self, recorded: &str, actual: &str) {
        self.names.push((recorded.to_string(), actual.to_string()));
    }

    /// The request with this appliance's names in place of the capture's.
    pub fn substituted(&self, r: &Request) -> Request {
        let sub = |mut t: String| {
            for (from, to) in &self.names {
                t = t.replace(from, to);
            }
            t
        };
        Request {
            method: r.method.clone(),
            path: sub(r.path.clone()),
            body: r
                .body
                .as_ref()
                .map(|b| serde_json::from_str(&sub(b.to_string())).unwrap()),
        }
    }

    /// Send one (substituted) request as recorded: method, path with query, JSON body.
    pub async fn send(&self, r: &Request) -> Answer {
        let method = Method::from_bytes(r.method.as_bytes()).unwrap();
        let mut req = self.s.http.request(method, self.s.url(&r.path));
        if let Some(b) = &r.body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let media = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_string();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else if is_json(&media) {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        Answer {
            status,
            media,
            body,
        }
    }

    /// Run one entry: each request substituted, sent, its answer checked (status and
    /// contract); a describe the CLI user would repeat is repeated until it says done.
    /// Returns the last answer of each request; every problem found is pushed on `problems`.
    pub async fn run(&self, e: &Entry, problems: &mut Vec<String>) -> Vec<Answer> {
        let mut answers = Vec::new();
        for r in &e.requests {
            let r = self.substituted(r);
            if let Some(reason) = expect::unserved(&r.path) {
                let a = self.send(&r).await;
                if a.status != 404 {
                    problems.push(format!(
                        "`{}`: listed as not served ({reason}) but {} {} answered {}: update the list in cli_replay/expect.rs",
                        e.command, r.method, r.path, a.status
                    ));
                }
                answers.push(a);
                continue;
            }
            let done = expect::settled(&e.command).unwrap_or(|_| true);
            let a = self.until(&e.command, &r, done, problems).await;
            check_status(e, &r, &a, problems);
            if let Some((describe, done)) = expect::wait_after(&e.command, &a) {
                let d = self.until(&e.command, &describe, done, problems).await;
                if d.status != 200 {
                    problems.push(format!(
                        "`{}`: waiting with {} {} answered {}: {}",
                        e.command, describe.method, describe.path, d.status, d.body
                    ));
                }
            }
            answers.push(a);
        }
        answers
    }

    /// Send `r` until `done` says its answer is final (at most a minute), checking every
    /// answer against the contract; the last answer.
    async fn until(
        &self,
        command: &str,
        r: &Request,
        done: expect::Done,
        problems: &mut Vec<String>,
    ) -> Answer {
        let mut seen = Vec::new();
        let last = poll(Duration::from_secs(60), async || {
            let a = self.send(r).await;
            for v in violations(r, &a) {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            if done(&a) { Ok(a) } else { Err(a) }
        })
        .await;
        problems.extend(seen.into_iter().map(|v| format!("`{command}`: {v}")));
        last.unwrap_or_else(|a| {
            problems.push(format!(
                "`{command}`: {} {} never said done: {}",
                r.method, r.path, a.body
            ));
            a
        })
    }

    /// Run an entry that must pass; panics with everything found otherwise.
    pub async fn ok(&self, command: &str) -> Vec<Answer> {
        let mut problems = Vec::new();
        let answers = self.run(entry(command), &mut problems).await;
        let (problems, _) = expect::triage(problems);
        assert!(
            problems.is_empty(),
            "{command}:\n  - {}",
            problems.join("\n  - ")
        );
        answers
    }
}

/// A success, unless the entry is listed as expected to fail with this status.
fn check_status(e: &Entry, r: &Request, a: &Answer, problems: &mut Vec<String>) {
    match expect::failure(&e.command) {
        Some((status, reason)) if a.status != status => problems.push(format!(
            "`{}`: expected to fail with {status} ({reason}), {} {} answered {}: {}",
            e.command, r.method, r.path, a.status, a.body
        )),
        Some(_) => {}
        None if !StatusCode::from_u16(a.status).unwrap().is_success() => problems.push(format!(
            "`{}`: {} {} answered {}: {}",
            e.command, r.method, r.path, a.status, a.body
        )),
        None => {}
    }
}
