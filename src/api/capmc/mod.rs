//! CAPMC (`/apis/capmc/capmc/v1`, contract `specs/capmc-swagger.yaml`): the power calls BOS
//! v1 (BOA) and `cray capmc …` make, as PCS transitions on the one power operator.
//!
//! `xname_on` → On, `xname_off` → Soft-Off (graceful only, as CAPMC's off; `force` →
//! Force-Off), `xname_reinit` → Soft-Restart (`force` → CAPMC's forced restart:
//! `ForceRestart`/`PowerCycle`, or a forced off and on). A call validates its xnames as CAPMC
//! does (unknown, malformed, duplicate or disabled xnames refuse the whole call with a 400 and
//! nothing recorded), reports nodes whose BMC cannot do the action per xname (`e: -1`, HTTP
//! 200) and waits for the transition to finish, so `get_xname_status` right after it reads
//! the new state (docs/pcs.md, "CAPMC"). Power capping is not something rackboot does: those
//! calls answer 501 saying so. Answers are CAPMC's `e`/`err_msg` JSON, never problem+json.

pub mod types;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::de::DeserializeOwned;

use self::types::{
    Answer, ControlResponse, Filter, Source, StatusResponse, XnameControl, XnameError,
    XnameStatusRequest,
};
use super::extract::parse_json;
use crate::app::App;
use crate::app::capmc::{CAPMC_DEADLINE_MINUTES, CapmcTargets};
use crate::model::Xname;
use crate::model::power::{PowerOperation, PowerState, TaskStatus};

type S = State<Arc<App>>;
type RawBody = Result<Bytes, BytesRejection>;

/// CAPMC's errno for invalid arguments (`EINVAL`), used for bad xnames.
const EINVAL: i32 = 22;

/// The most a call waits for its transition: every step's deadline, the forced step after
/// a graceful one, and a margin. The transition itself never outlives its deadlines.
const WAIT_LIMIT: Duration = Duration::from_secs(2 * CAPMC_DEADLINE_MINUTES as u64 * 60 + 120);

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/xname_on", call(post(xname_on)))
        .route("/xname_off", call(post(xname_off)))
        .route("/xname_reinit", call(post(xname_reinit)))
        .route("/get_xname_status", call(post(get_xname_status)))
        .route("/get_power_cap", call(post(power_cap)))
        .route("/get_power_cap_capabilities", call(post(power_cap)))
        .route("/set_power_cap", call(post(power_cap)))
        .route("/health", get_only(get(health)))
        .route(
            "/liveness",
            get_only(get(|| async { StatusCode::NO_CONTENT })),
        )
        .route("/readiness", get_only(get(readiness)))
        .fallback(unknown_call)
}

fn call(m: MethodRouter<Arc<App>>) -> MethodRouter<Arc<App>> {
    m.fallback(|method: Method| async move { not_allowed(method, "POST") })
}

fn get_only(m: MethodRouter<Arc<App>>) -> MethodRouter<Arc<App>> {
    m.fallback(|method: Method| async move { not_allowed(method, "GET") })
}

/// CAPMC's 405: `{"e":405,"err_msg":"(PATCH) Not Allowed"}` with `Allow`.
fn not_allowed(method: Method, allow: &'static str) -> Response {
    let mut r = Answer::error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("({method}) Not Allowed"),
    )
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

async fn unknown_call(uri: Uri) -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        format!(
            "no such CAPMC call: {}; rackboot serves xname_on, xname_off, xname_reinit, get_xname_status, health, liveness and readiness (the deprecated node_*, group_* and energy calls are not served)",
            uri.path()
        ),
    )
}

fn decode<T: DeserializeOwned>(body: RawBody) -> Result<T, Answer> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Answer::error(
                e.status(),
                "request body is larger than the configured limit (max_body_bytes)",
            )
        } else {
            Answer::error(e.status(), format!("Bad Request: {e}"))
        }
    })?;
    parse_json(&bytes).map_err(|p| Answer::error(StatusCode::BAD_REQUEST, p.detail))
}

/// Which CAPMC power call.
#[derive(Debug, Clone, Copy)]
enum Call {
    On,
    Off,
    Reinit,
}

impl Call {
    /// The transition it records, and CAPMC's name for the command (for messages).
    fn operation(self, force: bool) -> (PowerOperation, &'static str) {
        match (self, force) {
            // CAPMC's ForceOn is our On: its reset types already fall back to ForceOn.
            (Call::On, false) => (PowerOperation::On, "On"),
            (Call::On, true) => (PowerOperation::On, "ForceOn"),
            (Call::Off, false) => (PowerOperation::SoftOff, "Off"),
            (Call::Off, true) => (PowerOperation::ForceOff, "ForceOff"),
            (Call::Reinit, false) => (PowerOperation::SoftRestart, "Restart"),
            (Call::Reinit, true) => (PowerOperation::ForceRestart, "ForceRestart"),
        }
    }
}

async fn xname_on(State(app): S, body: RawBody) -> Answer {
    control(&app, Call::On, body).await
}

async fn xname_off(State(app): S, body: RawBody) -> Answer {
    control(&app, Call::Off, body).await
}

async fn xname_reinit(State(app): S, body: RawBody) -> Answer {
    control(&app, Call::Reinit, body).await
}

fn bad(msg: impl Into<String>) -> Answer {
    Answer::error(StatusCode::BAD_REQUEST, msg)
}

fn xname_errors(xnames: &[String], e: i32, msg: &str) -> Vec<XnameError> {
    xnames
        .iter()
        .map(|x| XnameError {
            xname: x.clone(),
            e,
            err_msg: msg.to_string(),
        })
        .collect()
}

/// CAPMC's answer to bad xnames: 400, `e: 22`, one entry per xname.
fn invalid(xnames: Vec<XnameError>) -> Answer {
    Answer::with(
        StatusCode::BAD_REQUEST,
        ControlResponse {
            e: EINVAL,
            err_msg: "invalid argument".into(),
            xnames,
        },
    )
}

/// Split raw xnames into valid ones and the malformed/duplicate ones (as given); `all`/`s0`
/// set the wildcard.
fn validate(raw: &[String], duplicates_ok: bool) -> (Vec<Xname>, Vec<String>, bool) {
    let (mut ok, mut bad, mut all) = (Vec::new(), Vec::new(), false);
    for r in raw {
        let t = r.trim();
        if t.eq_ignore_ascii_case("all") || t.eq_ignore_ascii_case("s0") {
            all = true;
            continue;
        }
        match Xname::parse(t) {
            Ok(x) if ok.contains(&x) => {
                if !duplicates_ok {
                    bad.push(r.clone());
                }
            }
            Ok(x) => ok.push(x),
            Err(_) => bad.push(r.clone()),
        }
    }
    (ok, bad, all)
}

fn strings(xs: &[Xname]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

async fn control(app: &App, which: Call, body: RawBody) -> Answer {
    let req: XnameControl = match decode(body) {
        Ok(r) => r,
        Err(a) => return a,
    };
    if req.recursive && req.prereq {
        return bad("Bad Request: recursive and prereq options are mutually exclusive");
    }
    if req.prereq {
        return bad(
            "Bad Request: prereq is not supported: rackboot powers nodes only, and a node's ancestors (slot, chassis, cabinet) have no power control of their own here",
        );
    }
    let Some(raw) = req.xnames else {
        return bad("Bad Request: Missing required xnames parameter");
    };
    if raw.is_empty() {
        return bad("Bad Request: Required xnames list is empty");
    }
    let (op, command) = which.operation(req.force);
    let (xnames, malformed, all) = validate(&raw, req.force || req.continue_);
    let mut errors = xname_errors(&malformed, EINVAL, "invalid/duplicate xname");
    if !errors.is_empty() && !req.continue_ {
        return invalid(errors);
    }
    let targets = match app
        .capmc_targets(&xnames, all, req.recursive, Some(op))
        .await
    {
        Ok(t) => t,
        Err(e) => return Answer::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let CapmcTargets {
        nodes,
        not_found,
        disabled,
        not_nodes,
        refused,
    } = targets;
    errors.extend(xname_errors(
        &strings(&not_found),
        EINVAL,
        "xname not found",
    ));
    if !errors.is_empty() && !req.continue_ {
        return invalid(errors);
    }
    if !disabled.is_empty() {
        return bad(format!(
            "components disabled: [{}]",
            strings(&disabled).join(" ")
        ));
    }
    if !not_nodes.is_empty() {
        // CAPMC refuses the whole call before any BMC is asked.
        let xnames: Vec<XnameError> = not_nodes
            .iter()
            .map(|(x, kind)| XnameError {
                xname: x.to_string(),
                e: -1,
                err_msg: format!(
                    "Skipping {x}: Type, '{kind}', not defined in power sequence for '{command}' (rackboot powers nodes only)"
                ),
            })
            .collect();
        return Answer::ok(ControlResponse {
            e: -1,
            err_msg: format!(
                "Errors encountered with {} components for {command}",
                xnames.len()
            ),
            xnames,
        });
    }
    if nodes.is_empty() && refused.is_empty() && errors.is_empty() {
        return Answer::error(StatusCode::NOT_FOUND, "No nodes in machine");
    }
    tracing::info!(
        command,
        nodes = nodes.len(),
        reason = req.reason.as_deref().unwrap_or(""),
        "CAPMC power call"
    );
    let total = nodes.len() + refused.len();
    let mut failed: Vec<XnameError> = refused
        .into_iter()
        .map(|(x, why)| XnameError {
            xname: x.to_string(),
            e: -1,
            err_msg: why,
        })
        .collect();
    if !nodes.is_empty() {
        let (t, tasks) = match app.capmc_power(op, &nodes, WAIT_LIMIT).await {
            Ok(done) => done,
            Err(e) => return Answer::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
        for task in tasks {
            let err_msg = match task.status {
                TaskStatus::Succeeded => continue,
                TaskStatus::Failed | TaskStatus::Unsupported => {
                    task.error.unwrap_or(task.description)
                }
                TaskStatus::New | TaskStatus::InProgress => format!(
                    "{command} still in progress after {} s ({}): follow transition {} with `cray power transition describe {}` and get_xname_status",
                    WAIT_LIMIT.as_secs(),
                    task.description,
                    t.id,
                    t.id
                ),
            };
            failed.push(XnameError {
                xname: task.xname,
                e: -1,
                err_msg,
            });
        }
    }
    let mut err_msg = String::new();
    if !failed.is_empty() {
        err_msg = format!(
            "Errors encountered with {}/{total} Xnames issued {command}",
            failed.len()
        );
    }
    if !errors.is_empty() {
        // `continue`: the invalid xnames were skipped; say so after the power errors.
        if !err_msg.is_empty() {
            err_msg.push_str("; ");
        }
        err_msg.push_str(&format!(
            "Errors encountered with {}/{} Xnames for {command}",
            errors.len(),
            raw.len()
        ));
    }
    failed.extend(errors);
    Answer::ok(ControlResponse {
        e: if failed.is_empty() { 0 } else { -1 },
        err_msg,
        xnames: failed,
    })
}

async fn get_xname_status(State(app): S, body: RawBody) -> Answer {
    let req: XnameStatusRequest = match decode(body) {
        Ok(r) => r,
        Err(a) => return a,
    };
    let mut filter = match Filter::parse(req.filter.as_deref()) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let source = match Source::parse(req.source.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let (xnames, malformed, all) = validate(&req.xnames, false);
    if !malformed.is_empty() {
        return bad(format!(
            "invalid/duplicate xnames: [{}]",
            malformed.join(" ")
        ));
    }
    let every = all || xnames.is_empty();
    let targets = match app.capmc_targets(&xnames, every, false, None).await {
        Ok(t) => t,
        Err(e) => return Answer::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    // Only nodes have a power state here (HSM's NodeBMC, chassis, … are "not found" as in
    // CAPMC, whose status covers the types it can power).
    let mut missing = strings(&targets.not_found);
    missing.extend(targets.not_nodes.iter().map(|(x, _)| x.to_string()));
    if !missing.is_empty() {
        return bad(format!("xnames not found: [{}]", missing.join(" ")));
    }
    let mut nodes = targets.nodes;
    nodes.extend(targets.disabled);
    let status = match app.capmc_status(&nodes).await {
        Ok(s) => s,
        Err(e) => return Answer::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if source == Source::Redfish && !filter.on && !filter.off && !filter.flags_only {
        // A BMC can only say on or off: ask for both, as CAPMC does.
        filter.on = true;
        filter.off = true;
    }
    let mut out = StatusResponse::default();
    let mut unreadable = 0;
    let counted = status.len();
    for s in status {
        // An explicit filter shows disabled nodes only when it asks for them (CAPMC queries
        // HSM with `enabled=true` otherwise).
        if !filter.all && s.enabled == filter.disabled {
            continue;
        }
        if filter.flags_only {
            continue;
        }
        let x = s.xname.to_string();
        if !s.enabled && filter.disabled {
            out.disabled.push(x.clone());
        }
        match source {
            Source::Redfish => match s.power {
                Some(PowerState::On) if filter.on => out.on.push(x),
                Some(PowerState::Off) if filter.off => out.off.push(x),
                Some(PowerState::On | PowerState::Off) => {}
                Some(PowerState::Transition | PowerState::Undefined) => out.undefined.push(x),
                None => {
                    unreadable += 1;
                    out.undefined.push(x);
                }
            },
            Source::Hsm => {
                let list = match s.hsm_state.as_str() {
                    "On" if filter.on => &mut out.on,
                    "Off" if filter.off => &mut out.off,
                    "Halt" if filter.halt => &mut out.halt,
                    "Standby" if filter.standby => &mut out.standby,
                    "Ready" if filter.ready => &mut out.ready,
                    "Populated" if filter.populated => &mut out.populated,
                    "Unknown" if filter.unknown => &mut out.unknown,
                    // Empty components are never reported.
                    _ => continue,
                };
                list.push(x);
            }
        }
    }
    if unreadable > 0 {
        out.e = -1;
        out.err_msg = format!(
            "Errors encountered with {unreadable}/{counted} Xnames for status: their BMC's power state could not be read (see cray power status describe)"
        );
    }
    for list in [
        &mut out.on,
        &mut out.off,
        &mut out.halt,
        &mut out.standby,
        &mut out.ready,
        &mut out.populated,
        &mut out.unknown,
        &mut out.undefined,
        &mut out.disabled,
    ] {
        list.sort();
    }
    Answer::ok(out)
}

/// Power capping: rackboot does not cap power. Bad JSON is still a 400, as CAPMC decodes
/// first; anything else is a 501 that says what to use instead.
async fn power_cap(uri: Uri, body: RawBody) -> Answer {
    if let Err(a) = decode::<serde_json::Value>(body) {
        return a;
    }
    let call = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    Answer::error(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "{call}: power capping is not supported: rackboot controls node power (xname_on, xname_off, xname_reinit, get_xname_status) and sets no power limits; set them on the BMC (Redfish Power/PowerControl PowerLimit)"
        ),
    )
}

/// CAPMC's health document; rackboot keeps BMC credentials itself (no vault) and is its
/// own HSM, so both depend only on the store.
async fn health(State(app): S) -> Answer {
    let (readiness, hsm) = match app.ready().await {
        Ok(()) => ("Ready", "HSM Ready".to_string()),
        Err(e) => ("Not Ready", format!("HSM not ready: {e}")),
    };
    Answer::ok(serde_json::json!({
        "readiness": readiness,
        "vault": "Not used: BMC credentials are kept in rackboot's own store",
        "hsm": hsm,
    }))
}

async fn readiness(State(app): S) -> Response {
    match app.ready().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Answer::error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: store: {e}"),
        )
        .into_response(),
    }
}
