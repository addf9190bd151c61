//! The Redfish resources SimBmc serves, and the request pipeline in front of them.
//!
//! One axum fallback handler does its own routing: Redfish wants its own error bodies for
//! 404/405/401, and the fault knobs must apply before routing, so hand dispatch over path
//! segments is simpler than bending axum's router and extractor rejections into shape.
//!
//! Pipeline per request: count it, hold it while the unresponsive knob is on, sleep the
//! latency knob, fail it if `fail_next` has faults left (never the service root GET),
//! authenticate (except the service root GET and session creation), route, handle.
//!
//! Documents are built with `serde_json::json!`: the simulator shares no model types with the
//! client in this crate, so a misread field in one cannot hide in the other.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ALLOW, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::server::wait_until;
use super::state::{
    AtomicCounters, BOOT_ENABLED, BOOT_MODES, BOOT_TARGETS, SessionError, SimState,
};

const ROOT: &str = "/redfish/v1";
const SYSTEMS: &str = "/redfish/v1/Systems";
const MANAGER: &str = "/redfish/v1/Managers/BMC";
const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

/// Largest request body read (the biggest legitimate one is a few hundred bytes).
const BODY_LIMIT: usize = 64 * 1024;

pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// A resource this BMC serves.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Root,
    Systems,
    System(usize),
    ResetActionInfo(usize),
    Reset(usize),
    Nics(usize),
    Nic(usize, usize),
    Managers,
    Manager,
    SessionService,
    Sessions,
    Session(String),
}

impl Route {
    fn parse(st: &SimState, path: &str) -> Option<Route> {
        let rest = path.strip_prefix(ROOT)?.trim_end_matches('/');
        let segs: Vec<&str> = match rest {
            "" => Vec::new(),
            _ => rest.strip_prefix('/')?.split('/').collect(),
        };
        let sys = |id: &str| st.system_index(id);
        let sessions = st.fixed.sessions;
        Some(match segs.as_slice() {
            [] => Route::Root,
            ["Systems"] => Route::Systems,
            ["Systems", id] => Route::System(sys(id)?),
            ["Systems", id, "ResetActionInfo"] if st.fixed.action_info => {
                Route::ResetActionInfo(sys(id)?)
            }
            ["Systems", id, "Actions", "ComputerSystem.Reset"] => Route::Reset(sys(id)?),
            ["Systems", id, "EthernetInterfaces"] => Route::Nics(sys(id)?),
            ["Systems", id, "EthernetInterfaces", nic] => Route::Nic(sys(id)?, st.nic_index(nic)?),
            ["Managers"] => Route::Managers,
            ["Managers", "BMC"] => Route::Manager,
            ["SessionService"] if sessions => Route::SessionService,
            ["SessionService", "Sessions"] if sessions => Route::Sessions,
            ["SessionService", "Sessions", id] if sessions => Route::Session(id.to_string()),
            _ => return None,
        })
    }

    fn methods(&self) -> &'static [Method] {
        match self {
            Route::System(_) => &[Method::GET, Method::PATCH],
            Route::Reset(_) => &[Method::POST],
            Route::Sessions => &[Method::GET, Method::POST],
            Route::Session(_) => &[Method::GET, Method::DELETE],
            _ => &[Method::GET],
        }
    }
}

async fn handle(State(st): State<Arc<SimState>>, req: Request) -> Response {
    AtomicCounters::bump(&st.counters.requests);
    wait_while_unresponsive(&st).await;
    let latency = st.knobs().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut resp = respond(&st, req).await;
    resp.headers_mut()
        .insert("OData-Version", HeaderValue::from_static("4.0"));
    resp
}

/// Returns once the unresponsive knob is off; never returns if the BMC stops meanwhile (the
/// connection is then dropped under us).
async fn wait_while_unresponsive(st: &SimState) {
    let mut unresponsive = st.unresponsive.subscribe();
    if !*unresponsive.borrow_and_update() {
        return;
    }
    let mut stop = st.stop.subscribe();
    tokio::select! {
        () = wait_until(&mut unresponsive, false) => {}
        () = wait_until(&mut stop, true) => std::future::pending::<()>().await,
    }
}

async fn respond(st: &SimState, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method;
    let route = Route::parse(st, parts.uri.path());
    let root_get = route == Some(Route::Root) && method == Method::GET;

    if !root_get && let Some(status) = st.take_fault() {
        return injected_fault(status);
    }
    let login = route == Some(Route::Sessions) && method == Method::POST;
    if !root_get && !login && !authenticated(st, &parts.headers) {
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
    let Some(route) = route else {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceMissingAtURI",
            &format!(
                "The resource at the URI {} was not found.",
                parts.uri.path()
            ),
            "Place a valid resource at the URI or correct the URI and resubmit the request.",
        );
    };
    if !route.methods().contains(&method) {
        let allow = route
            .methods()
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mut resp = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "GeneralError",
            &format!(
                "The method {method} is not allowed on {}.",
                parts.uri.path()
            ),
            &format!("Use one of: {allow}."),
        );
        if let Ok(v) = HeaderValue::from_str(&allow) {
            resp.headers_mut().insert(ALLOW, v);
        }
        return resp;
    }
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return malformed_json(),
    };

    match route {
        Route::Root => ok(service_root(st)),
        Route::Systems => ok(collection(
            SYSTEMS,
            "#ComputerSystemCollection.ComputerSystemCollection",
            "Computer System Collection",
            (0..st.fixed.systems).map(system_path),
        )),
        Route::System(i) if method == Method::GET => get_system(st, i),
        Route::System(i) => patch_system(st, i, &parts.headers, &body),
        Route::ResetActionInfo(i) => ok(reset_action_info(st, i)),
        Route::Reset(i) => reset(st, i, &body),
        Route::Nics(i) => ok(collection(
            &format!("{}/EthernetInterfaces", system_path(i)),
            "#EthernetInterfaceCollection.EthernetInterfaceCollection",
            "Ethernet Network Interface Collection",
            (0..st.fixed.nics_per_system).map(|n| nic_path(i, n)),
        )),
        Route::Nic(i, n) => ok(nic(st, i, n)),
        Route::Managers => ok(collection(
            "/redfish/v1/Managers",
            "#ManagerCollection.ManagerCollection",
            "Manager Collection",
            std::iter::once(MANAGER.to_string()),
        )),
        Route::Manager => ok(manager(st)),
        Route::SessionService => ok(json!({
            "@odata.id": SESSION_SERVICE,
            "@odata.type": "#SessionService.v1_1_9.SessionService",
            "Id": "SessionService",
            "Name": "Session Service",
            "ServiceEnabled": true,
            "SessionTimeout": 1800,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Sessions": {"@odata.id": SESSIONS},
        })),
        Route::Sessions if method == Method::GET => {
            let ids: Vec<String> = st
                .sessions()
                .by_id
                .keys()
                .map(|id| format!("{SESSIONS}/{id}"))
                .collect();
            ok(collection(
                SESSIONS,
                "#SessionCollection.SessionCollection",
                "Session Collection",
                ids.into_iter(),
            ))
        }
        Route::Sessions => create_session(st, &body),
        Route::Session(id) => {
            let found = id.parse::<u64>().ok().and_then(|n| {
                let sessions = st.sessions();
                sessions.by_id.get(&n).map(|s| (n, s.user.clone()))
            });
            match found {
                None => error(
                    StatusCode::NOT_FOUND,
                    "ResourceMissingAtURI",
                    &format!("The resource at the URI {SESSIONS}/{id} was not found."),
                    "Place a valid resource at the URI or correct the URI and resubmit the request.",
                ),
                Some((n, _)) if method == Method::DELETE => {
                    st.delete_session(n);
                    StatusCode::NO_CONTENT.into_response()
                }
                Some((n, user)) => ok(session_doc(n, &user)),
            }
        }
    }
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

fn get_system(st: &SimState, i: usize) -> Response {
    let (doc, etag) = system_doc(st, i);
    let mut resp = ok(doc);
    if st.fixed.etag
        && let Ok(v) = HeaderValue::from_str(&etag)
    {
        resp.headers_mut().insert(ETAG, v);
    }
    resp
}

fn patch_system(st: &SimState, i: usize, headers: &HeaderMap, body: &[u8]) -> Response {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return malformed_json();
    };
    let Some(doc) = doc.as_object() else {
        return malformed_json();
    };
    // Validate everything before changing anything.
    let mut wanted: [Option<&'static str>; 3] = [None; 3];
    for (key, value) in doc {
        if key != "Boot" {
            return property_unknown(key);
        }
        let Some(boot) = value.as_object() else {
            return property_type_error("Boot", value);
        };
        for (prop, value) in boot {
            let (slot, allowed) = match prop.as_str() {
                "BootSourceOverrideEnabled" => (0, BOOT_ENABLED),
                "BootSourceOverrideTarget" => (1, BOOT_TARGETS),
                "BootSourceOverrideMode" => (2, BOOT_MODES),
                _ => return property_unknown(prop),
            };
            let Some(s) = value.as_str() else {
                return property_type_error(prop, value);
            };
            let Some(v) = allowed.iter().find(|a| **a == s) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "PropertyValueNotInList",
                    &format!(
                        "The value {s} for the property {prop} is not in the list of acceptable values."
                    ),
                    &format!(
                        "Choose a value from the enumeration list ({}) and resubmit the request.",
                        allowed.join(", ")
                    ),
                );
            };
            wanted[slot] = Some(v);
        }
    }
    let if_match = headers
        .get(IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let drop = st.knobs().drop_boot_override;
    let outcome = st.with_system(i, |sys| {
        if st.fixed.etag
            && let Some(want) = &if_match
            && !etag_matches(want, &sys.etag())
        {
            return Err(sys.etag());
        }
        if !drop {
            let b = &mut sys.boot;
            let before = (b.enabled, b.target, b.mode);
            b.enabled = wanted[0].unwrap_or(b.enabled);
            b.target = wanted[1].unwrap_or(b.target);
            b.mode = wanted[2].unwrap_or(b.mode);
            if (b.enabled, b.target, b.mode) != before {
                sys.touch();
            }
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            AtomicCounters::bump(&st.counters.patches);
            if wanted[2].is_some() {
                AtomicCounters::bump(&st.counters.mode_patches);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(current) => error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            &format!(
                "The ETag supplied did not match the ETag required to change this resource (current {current})."
            ),
            "Try the operation again using the appropriate ETag.",
        ),
    }
}

/// `If-Match` against the current weak ETag; tolerates `*`, lists and a missing `W/`.
fn etag_matches(if_match: &str, current: &str) -> bool {
    let bare = current.trim_start_matches("W/");
    if_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == current || t == bare)
}

fn reset(st: &SimState, i: usize, body: &[u8]) -> Response {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        return malformed_json();
    };
    let Some(value) = doc.get("ResetType") else {
        return error(
            StatusCode::BAD_REQUEST,
            "ActionParameterMissing",
            "The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.",
            "Supply the action with the required parameter in the request body when the request is resubmitted.",
        );
    };
    let Some(reset_type) = value.as_str() else {
        return error(
            StatusCode::BAD_REQUEST,
            "ActionParameterValueTypeError",
            &format!(
                "The value {value} for the parameter ResetType in the action ComputerSystem.Reset is of a different type than the parameter can accept."
            ),
            "Correct the value for the parameter in the request body and resubmit the request if the operation failed.",
        );
    };
    if !st.fixed.reset_types.iter().any(|t| t == reset_type) {
        return error(
            StatusCode::BAD_REQUEST,
            "ActionParameterNotSupported",
            &format!(
                "The parameter {reset_type} for the action ComputerSystem.Reset is not supported on the target resource; allowed values: {}.",
                st.fixed.reset_types.join(", ")
            ),
            "Remove the parameter supplied and resubmit the request if the operation failed.",
        );
    }
    st.reset(i, reset_type);
    AtomicCounters::bump(&st.counters.resets);
    StatusCode::NO_CONTENT.into_response()
}

fn create_session(st: &SimState, body: &[u8]) -> Response {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        return malformed_json();
    };
    let field = |name: &str| doc.get(name).and_then(Value::as_str);
    let (Some(user), Some(password)) = (field("UserName"), field("Password")) else {
        let missing = if field("UserName").is_none() {
            "UserName"
        } else {
            "Password"
        };
        return error(
            StatusCode::BAD_REQUEST,
            "PropertyMissing",
            &format!(
                "The property {missing} is a required property and must be included in the request."
            ),
            "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
        );
    };
    match st.create_session(user, password) {
        Ok((id, token)) => {
            let mut resp = (StatusCode::CREATED, json_body(&session_doc(id, user))).into_response();
            let h = resp.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Ok(v) = HeaderValue::from_str(&token) {
                h.insert("X-Auth-Token", v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("{SESSIONS}/{id}")) {
                h.insert(LOCATION, v);
            }
            resp
        }
        Err(SessionError::BadCredentials) => {
            AtomicCounters::bump(&st.counters.auth_failures);
            error(
                StatusCode::UNAUTHORIZED,
                "ResourceAtUriUnauthorized",
                &format!(
                    "While accessing the resource at {SESSIONS}, the service received an authorization error: invalid credentials."
                ),
                "Ensure that the appropriate access is provided for the service in order for it to access the URI.",
            )
        }
        Err(SessionError::LimitReached(limit)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SessionLimitExceeded",
            &format!(
                "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation ({limit})."
            ),
            "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions (if supported).",
        ),
    }
}

fn injected_fault(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let id = match code.as_u16() {
        401 => "NoValidSession",
        403 => "InsufficientPrivilege",
        404 => "ResourceMissingAtURI",
        409 => "ResourceInUse",
        429 | 503 => "ServiceTemporarilyUnavailable",
        500 => "InternalError",
        _ => "GeneralError",
    };
    let mut resp = error(
        code,
        id,
        &format!("Injected fault: the service answered {code}."),
        "Retry the request; SimBmc was told to fail it (fail_next).",
    );
    if code == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if code == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"SimBmc\""),
        );
    }
    resp
}

// ---- documents ----

fn system_path(i: usize) -> String {
    format!("{SYSTEMS}/Node{i}")
}

fn nic_path(i: usize, n: usize) -> String {
    format!("{SYSTEMS}/Node{i}/EthernetInterfaces/NIC{n}")
}

fn collection(
    id: &str,
    odata_type: &str,
    name: &str,
    members: impl Iterator<Item = String>,
) -> Value {
    let members: Vec<Value> = members.map(|m| json!({ "@odata.id": m })).collect();
    json!({
        "@odata.id": id,
        "@odata.type": odata_type,
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

fn service_root(st: &SimState) -> Value {
    let mut root = json!({
        "@odata.id": ROOT,
        "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
        "@odata.context": "/redfish/v1/$metadata#ServiceRoot.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.15.0",
        "UUID": st.uuid("service", None),
        "Vendor": "SimBmc",
        "Product": "SimBmc simulated BMC",
        "Systems": {"@odata.id": SYSTEMS},
        "Managers": {"@odata.id": "/redfish/v1/Managers"},
        "ProtocolFeaturesSupported": {
            "ExpandQuery": {"ExpandAll": false, "Levels": false, "Links": false, "NoLinks": false},
            "FilterQuery": false,
            "SelectQuery": false,
        },
        "Links": {},
        "Oem": {
            "SimVendor": {
                "@odata.type": "#SimVendorServiceRoot.v1_0_0.ServiceRoot",
                "BuildDate": "",
                "Features": ["FakeFeature", 42, null],
                "Nested": {"Empty": "", "Null": null, "Deep": {"Deeper": [{}]}},
            }
        },
    });
    if st.fixed.sessions {
        root["SessionService"] = json!({"@odata.id": SESSION_SERVICE});
        root["Links"]["Sessions"] = json!({"@odata.id": SESSIONS});
    }
    root
}

/// The ComputerSystem document and its current ETag.
fn system_doc(st: &SimState, i: usize) -> (Value, String) {
    let (power, boot, etag) = st.with_system(i, |s| (s.visible(), s.boot, s.etag()));
    let path = system_path(i);
    let mut reset = Map::new();
    reset.insert(
        "target".into(),
        json!(format!("{path}/Actions/ComputerSystem.Reset")),
    );
    if st.fixed.action_info {
        reset.insert(
            "@Redfish.ActionInfo".into(),
            json!(format!("{path}/ResetActionInfo")),
        );
    } else {
        reset.insert(
            "ResetType@Redfish.AllowableValues".into(),
            json!(st.fixed.reset_types),
        );
    }
    let mut doc = json!({
        "@odata.id": path,
        "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "Id": format!("Node{i}"),
        "Name": format!("Simulated Node {i}"),
        "SystemType": "Physical",
        "Manufacturer": "SimBmc",
        "Model": "",
        "SerialNumber": null,
        "UUID": st.uuid("system", Some(i)),
        "HostName": "",
        "IndicatorLED": "",
        "PowerState": power.as_str(),
        "PowerRestorePolicy": "AlwaysOff",
        "BiosVersion": "SIM.1.0.0",
        "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": "OK"},
        "ProcessorSummary": {"Count": 2, "Model": null, "Status": {"State": "Enabled"}},
        "MemorySummary": {"TotalSystemMemoryGiB": 512, "Status": {}},
        "Boot": {
            "BootSourceOverrideEnabled": boot.enabled,
            "BootSourceOverrideTarget": boot.target,
            "BootSourceOverrideMode": boot.mode,
            "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
            "BootSourceOverrideEnabled@Redfish.AllowableValues": BOOT_ENABLED,
            "BootSourceOverrideMode@Redfish.AllowableValues": BOOT_MODES,
            "UefiTargetBootSourceOverride": null,
            "BootOrder": [],
        },
        "EthernetInterfaces": {"@odata.id": format!("{path}/EthernetInterfaces")},
        "Actions": {
            "#ComputerSystem.Reset": Value::Object(reset),
            "Oem": {},
        },
        "Links": {
            "ManagedBy": [{"@odata.id": MANAGER}],
            "Chassis": [],
        },
        "Oem": {
            "SimVendor": {
                "@odata.type": "#SimVendorComputerSystem.v1_0_0.ComputerSystem",
                "PostCode": "0x00",
                "FanMode": "Quiet",
                "Weird": [1, "two", {"three": null}],
            }
        },
    });
    if st.fixed.etag {
        doc["@odata.etag"] = json!(etag);
    }
    if st.knobs().hide_boot_mode
        && let Some(b) = doc["Boot"].as_object_mut()
    {
        b.remove("BootSourceOverrideMode");
        b.remove("BootSourceOverrideMode@Redfish.AllowableValues");
    }
    (doc, etag)
}

fn reset_action_info(st: &SimState, i: usize) -> Value {
    json!({
        "@odata.id": format!("{}/ResetActionInfo", system_path(i)),
        "@odata.type": "#ActionInfo.v1_3_0.ActionInfo",
        "Id": "ResetActionInfo",
        "Name": "Reset Action Info",
        "Parameters": [{
            "Name": "ResetType",
            "Required": true,
            "DataType": "String",
            "AllowableValues": st.fixed.reset_types,
        }],
        "Oem": {},
    })
}

fn nic(st: &SimState, i: usize, n: usize) -> Value {
    let mac = st.mac(i, n);
    json!({
        "@odata.id": nic_path(i, n),
        "@odata.type": "#EthernetInterface.v1_12_0.EthernetInterface",
        "Id": format!("NIC{n}"),
        "Name": format!("Ethernet Interface {n}"),
        "Description": "Simulated NIC",
        "MACAddress": mac,
        "PermanentMACAddress": mac,
        "LinkStatus": "LinkUp",
        "SpeedMbps": 25000,
        "FullDuplex": true,
        "InterfaceEnabled": true,
        "Status": {"State": "Enabled", "Health": "OK"},
        "IPv4Addresses": [],
        "IPv6Addresses": [],
        "VLAN": null,
    })
}

fn manager(st: &SimState) -> Value {
    let servers: Vec<Value> = (0..st.fixed.systems)
        .map(|i| json!({"@odata.id": system_path(i)}))
        .collect();
    json!({
        "@odata.id": MANAGER,
        "@odata.type": "#Manager.v1_19_0.Manager",
        "Id": "BMC",
        "Name": "Simulated BMC",
        "ManagerType": "BMC",
        "Model": "SimBmc",
        "FirmwareVersion": concat!("SimBmc ", env!("CARGO_PKG_VERSION")),
        "UUID": st.uuid("manager", None),
        "Status": {"State": "Enabled", "Health": "OK"},
        "PowerState": "On",
        "Links": {"ManagerForServers": servers},
    })
}

fn session_doc(id: u64, user: &str) -> Value {
    json!({
        "@odata.id": format!("{SESSIONS}/{id}"),
        "@odata.type": "#Session.v1_6_0.Session",
        "Id": id.to_string(),
        "Name": "User Session",
        "UserName": user,
    })
}

// ---- responses ----

fn json_body(v: &Value) -> Body {
    Body::from(serde_json::to_vec(v).expect("a serde_json::Value always serialises"))
}

fn ok(v: Value) -> Response {
    json_response(StatusCode::OK, &v)
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        json_body(v),
    )
        .into_response()
}

/// A Redfish error body with one `@Message.ExtendedInfo` entry for `Base.1.8.<id>`.
fn error(status: StatusCode, id: &str, message: &str, resolution: &str) -> Response {
    json_response(
        status,
        &json!({
            "error": {
                "code": "Base.1.8.GeneralError",
                "message": "A general error has occurred. See ExtendedInfo for more information.",
                "@Message.ExtendedInfo": [{
                    "@odata.type": "#Message.v1_1_1.Message",
                    "MessageId": format!("Base.1.8.{id}"),
                    "Message": message,
                    "MessageArgs": [],
                    "Severity": "Warning",
                    "Resolution": resolution,
                }],
            }
        }),
    )
}

fn malformed_json() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
        "Ensure that the request body is valid JSON and resubmit the request.",
    )
}

fn property_unknown(prop: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "PropertyUnknown",
        &format!("The property {prop} is not in the list of valid properties for the resource."),
        "Remove the unknown property from the request body and resubmit the request if the operation failed.",
    )
}

fn property_type_error(prop: &str, value: &Value) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "PropertyValueTypeError",
        &format!(
            "The value {value} for the property {prop} is of a different type than the property can accept."
        ),
        "Correct the value for the property in the request body and resubmit the request if the operation failed.",
    )
}

/// Standard base64 (padding optional); `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | val(c)?;
        }
        acc <<= 6 * (4 - chunk.len() as u32);
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
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

    #[test]
    fn if_match_accepts_weak_strong_star_and_lists() {
        assert!(etag_matches("W/\"3\"", "W/\"3\""));
        assert!(etag_matches("\"3\"", "W/\"3\""));
        assert!(etag_matches("*", "W/\"3\""));
        assert!(etag_matches("W/\"1\", W/\"3\"", "W/\"3\""));
        assert!(!etag_matches("W/\"2\"", "W/\"3\""));
    }
}
