//! SimBmc's HTTP layer: the request pipeline in front of the Redfish resources.
//!
//! One axum fallback handler does its own routing ([`route`]): Redfish wants its own error
//! bodies for 404/405/401, and the fault knobs must apply before routing, so hand dispatch
//! over path segments is simpler than bending axum's router and extractor rejections into
//! shape.
//!
//! Pipeline per request: count it, hold it while the unresponsive knob is on, sleep the
//! latency knob, fail it if `fail_next` has faults left (never a GET of the public documents:
//! `/redfish`, the service root, `odata`, `$metadata`), authenticate (except those and
//! session creation), refuse what the protocol says to refuse (an OData-Version other than
//! 4.0, unsupported `$` query parameters), route, handle. Every answer carries
//! `OData-Version` and `Cache-Control`; every successful GET or HEAD its `Allow`, and every
//! JSON document a `Link: <schema>; rel=describedby` (DMTF's Redfish Protocol Validator
//! checks all of these). HEAD is a GET whose body hyper leaves out.
//!
//! Layout: `route` (paths and methods, both modes), `documents` (the synthetic JSON
//! resources), `replay` (the recorded ones, with the writable state laid over them),
//! `handlers` (PATCH, Reset, sessions), `events` (EventService, SSE), `protocol` (the
//! protocol documents and checks, AccountService), `reply` (bodies and Redfish errors). The
//! submodules depend on each other and on the BMC's state only, never on this one.

mod documents;
mod events;
mod handlers;
mod protocol;
mod replay;
mod reply;
mod route;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use tokio::sync::watch;

use self::reply::{error, injected_fault, malformed_json, ok};
use self::route::Route;
use super::state::{AtomicCounters, SimState};

/// Largest request body read (the biggest legitimate one is a few hundred bytes).
const BODY_LIMIT: usize = 64 * 1024;

/// Basic credentials as clients send them: the standard alphabet, padding optional, and
/// no check of the unused trailing bits.
const BASIC_CREDENTIALS: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(st): State<Arc<SimState>>, req: Request) -> Response {
    AtomicCounters::bump(&st.counters.requests);
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        AtomicCounters::bump(&st.counters.gets);
    }
    wait_while_unresponsive(&st).await;
    let latency = st.knobs().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut resp = respond(&st, req).await;
    let h = resp.headers_mut();
    h.insert("OData-Version", HeaderValue::from_static("4.0"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if st.knobs().cut_bodies {
        return cut(resp).await;
    }
    resp
}

/// The answer with its full `Content-Length` and half its body, then a failed body stream:
/// hyper drops the connection mid-body.
async fn cut(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(
        axum::http::header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len().max(2)),
    );
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut mid-body",
        )),
    ];
    Response::from_parts(
        parts,
        axum::body::Body::from_stream(futures::stream::iter(chunks)),
    )
}

/// Returns once the unresponsive knob is off; never returns if the BMC stops meanwhile (the
/// connection is then dropped under us).
async fn wait_while_unresponsive(st: &SimState) {
    let mut unresponsive = st.unresponsive.subscribe();
    if !*unresponsive.borrow_and_update() {
        return;
    }
    tokio::select! {
        () = wait_until(&mut unresponsive, false) => {}
        () = st.stop.cancelled() => std::future::pending::<()>().await,
    }
}

/// Resolves once the watched flag equals `value`, or its sender is gone. (Wrapping
/// `wait_for` keeps its non-`Send` borrow guard out of the caller's future.)
async fn wait_until(rx: &mut watch::Receiver<bool>, value: bool) {
    let _ = rx.wait_for(|v| *v == value).await;
}

async fn respond(st: &Arc<SimState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // The body is read before any answer, refusals included: hyper closes a connection whose
    // request body was left unread, and a client that reuses it before the close arrives
    // (urllib3 does, and does not retry a method it does not know) sees a reset instead of
    // the refusal (DMTF's validator flaked on it under load).
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return malformed_json(),
    };
    let method = parts.method;
    let path = parts.uri.path();
    let route = Route::parse(st, path);
    let read = method == Method::GET || method == Method::HEAD;
    let public = read && route.as_ref().is_some_and(Route::is_public);

    if !public && let Some(status) = st.take_fault() {
        return injected_fault(status);
    }
    let login = method == Method::POST && route.as_ref().is_some_and(Route::is_login);
    if !public && !login && !authenticated(st, &parts.headers) {
        AtomicCounters::bump(&st.counters.auth_failures);
        let mut resp = error(
            StatusCode::UNAUTHORIZED,
            "NoValidSession",
            "There is no valid session established with the implementation.",
            "Establish a session before attempting any operations, or send valid Basic credentials.",
        );
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"SimBmc\""),
        );
        return resp;
    }
    if let Some(refused) = protocol::check_request(&parts.headers, &parts.uri, route.as_ref()) {
        return refused;
    }
    let Some(route) = route else {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceMissingAtURI",
            &format!("The resource at the URI {path} was not found."),
            "Place a valid resource at the URI or correct the URI and resubmit the request.",
        );
    };
    if let Route::Doc(key) = &route
        && let Some(failure) = replay::recorded_failure(st, key)
    {
        return failure;
    }
    if !route.methods().contains(&method) {
        let mut resp = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "GeneralError",
            &format!("The method {method} is not allowed on {path}."),
            &format!("Use one of: {}.", allow(&route)),
        );
        if let Ok(v) = HeaderValue::from_str(&allow(&route)) {
            resp.headers_mut().insert(ALLOW, v);
        }
        return resp;
    }
    let mut resp = dispatch(st, &method, route.clone(), &parts.headers, &body);
    if read
        && resp.status().is_success()
        && let Ok(v) = HeaderValue::from_str(&allow(&route))
    {
        resp.headers_mut().insert(ALLOW, v);
    }
    resp
}

/// The Allow header of a route: its methods.
fn allow(route: &Route) -> String {
    route
        .methods()
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn dispatch(
    st: &Arc<SimState>,
    method: &Method,
    route: Route,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let read = *method == Method::GET || *method == Method::HEAD;
    let replaying = st.fixed.replay.is_some();
    match route {
        Route::Versions => ok(protocol::versions()),
        Route::Root if replaying => replay::root(st),
        Route::Root => ok(documents::service_root(st)),
        Route::OData => ok(protocol::odata(st)),
        Route::Metadata => protocol::metadata(st),
        Route::Doc(key) => replay::doc(st, &key),
        Route::Systems => ok(documents::systems(st)),
        Route::System(i) if read => handlers::get_system(st, i),
        Route::System(i) => handlers::patch_system(st, i, headers, body),
        Route::ResetActionInfo(i) => ok(documents::reset_action_info(st, i)),
        Route::Reset(i) => handlers::reset(st, i, body),
        Route::Nics(i) => ok(documents::nics(st, i)),
        Route::Nic(i, n) => ok(documents::nic(st, i, n)),
        Route::Managers => ok(documents::managers()),
        Route::Manager => ok(documents::manager(st)),
        Route::SessionService => ok(documents::session_service()),
        Route::Sessions if read => handlers::list_sessions(st),
        Route::Sessions | Route::SessionMembers => handlers::create_session(st, body),
        Route::Session(id) => handlers::session(st, method, &id),
        Route::AccountService => ok(protocol::account_service()),
        Route::Accounts => ok(protocol::accounts(st)),
        Route::Account(id) => protocol::account(st, &id),
        Route::Roles => ok(protocol::roles()),
        Route::Role(id) => protocol::role(&id),
        Route::EventService => events::event_service(st),
        Route::Sse => events::sse(st, headers),
        Route::Subscriptions => events::subscriptions(st),
        Route::Subscription(id) => events::subscription(st, method, &id),
    }
}

/// Replaying: the document at `path` as served now (see [`super::SimBmc::document`]).
pub(crate) fn replayed_document(st: &SimState, path: &str) -> Option<serde_json::Value> {
    st.fixed.replay.as_ref()?;
    match Route::parse(st, path)? {
        Route::System(i) => Some(replay::system_doc(st, i).0),
        Route::Doc(key) => replay::recorded(st, &key),
        Route::Root => Some(replay::root_doc(st)),
        _ => replay::recorded(st, path),
    }
}

/// Replaying: the MACs of a system's NICs (see [`super::SimBmc::macs`]).
pub(crate) fn replayed_macs(st: &SimState, system: usize) -> Vec<String> {
    let (doc, _) = replay::system_doc(st, system);
    let Some(nics) = doc["EthernetInterfaces"]["@odata.id"].as_str() else {
        return Vec::new();
    };
    let members = replay::recorded(st, nics)
        .and_then(|c| c["Members"].as_array().cloned())
        .unwrap_or_default();
    members
        .iter()
        .filter_map(|m| replay::recorded(st, m["@odata.id"].as_str()?))
        .filter_map(|nic| {
            let mac = nic["MACAddress"].as_str()?;
            super::mockup::rewrite::is_mac(mac).then(|| mac.to_ascii_lowercase().replace('-', ":"))
        })
        .collect()
}

/// Basic credentials, or the token of a live session.
fn authenticated(st: &SimState, headers: &HeaderMap) -> bool {
    if let Some(token) = headers.get("X-Auth-Token").and_then(|v| v.to_str().ok())
        && st.token_valid(token)
    {
        return true;
    }
    let Some(auth) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, b64)) = auth.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("Basic") {
        return false;
    }
    let Some(decoded) = base64_decode(b64.trim()).and_then(|b| String::from_utf8(b).ok()) else {
        return false;
    };
    decoded
        .split_once(':')
        .is_some_and(|(user, password)| st.check_password(user, password))
}

/// Standard base64 (padding optional); `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    BASIC_CREDENTIALS.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_what_clients_send() {
        assert_eq!(
            base64_decode("YWRtaW46cGFzc3dvcmQ=").unwrap(),
            b"admin:password"
        );
        assert_eq!(base64_decode("YTpi").unwrap(), b"a:b");
        assert_eq!(base64_decode("YTpiYw").unwrap(), b"a:bc");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("Y").is_none());
        assert!(base64_decode("YT!i").is_none());
    }
}
