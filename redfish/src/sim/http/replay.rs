//! The documents of a replaying SimBmc: the recorded tree, with this BMC's writable state laid
//! over it and its MACs and UUIDs rewritten by its seed.
//!
//! Only what the state owns is changed in a recorded document: a system's `PowerState`, the
//! Boot override properties it has (never ones it lacks), and its `@odata.etag` where it has
//! one. Everything else, links with their trailing slashes included, is served as recorded.
//! A resource recorded as `error.txt` answers with its recorded status, headers and body, for
//! every method.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::mockup::{Resource, rewrite::rewrite};
use super::super::state::{Replay, SimState};
use super::reply::ok;
use super::route::ROOT;

fn replay(st: &SimState) -> &Replay {
    st.fixed
        .replay
        .as_ref()
        .expect("replay routes exist only on a replaying BMC")
}

/// A recorded JSON document as this BMC serves it (MACs and UUIDs rewritten).
pub(super) fn recorded(st: &SimState, path: &str) -> Option<Value> {
    let r = replay(st);
    let mut doc = r.mockup.tree.json(path)?.clone();
    rewrite(&mut doc, r.seed);
    Some(doc)
}

pub(super) fn root_doc(st: &SimState) -> Value {
    recorded(st, ROOT).unwrap_or_else(|| json!({}))
}

pub(super) fn root(st: &SimState) -> Response {
    ok(root_doc(st))
}

pub(super) fn doc(st: &SimState, key: &str) -> Response {
    match recorded(st, key) {
        Some(v) => ok(v),
        None => super::protocol::missing(key),
    }
}

/// The recorded answer of a resource that did not answer (`error.txt`), if `key` is one.
pub(super) fn recorded_failure(st: &SimState, key: &str) -> Option<Response> {
    let (_, Resource::Failed(f)) = replay(st).mockup.tree.get(key)? else {
        return None;
    };
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, Body::from(f.body.clone())).into_response();
    for (name, value) in &f.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    Some(resp)
}

/// The recorded ComputerSystem with the live power state, override and ETag; and the ETag.
pub(super) fn system_doc(st: &SimState, i: usize) -> (Value, String) {
    let r = replay(st);
    let sys = &r.systems()[i];
    let mut doc = recorded(st, &sys.key).unwrap_or_else(|| json!({}));
    let (power, boot, etag) = st.with_system(i, |s| (s.visible(), s.boot.clone(), s.etag()));
    doc["PowerState"] = json!(power.as_str());
    if let Some(b) = doc.get_mut("Boot").and_then(Value::as_object_mut) {
        for (prop, value) in [
            ("BootSourceOverrideEnabled", &boot.enabled),
            ("BootSourceOverrideTarget", &boot.target),
            ("BootSourceOverrideMode", &boot.mode),
        ] {
            if let Some(v) = b.get_mut(prop) {
                *v = json!(value.as_ref());
            }
        }
    }
    if let Some(tag) = doc.get_mut("@odata.etag") {
        *tag = json!(etag);
    }
    (doc, etag)
}
