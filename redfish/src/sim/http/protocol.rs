//! The parts of the Redfish protocol that are about the service rather than a BMC's
//! resources: `/redfish`, the OData service document, `$metadata`, the request checks every
//! service must make (OData-Version, `$` query parameters), and a read-only AccountService with
//! the standard roles.
//!
//! They exist so that DMTF's Redfish Protocol Validator finds a service that behaves like a
//! conforming one (`redfish/tests/protocol_validator.rs`); rackboot's client reads none of
//! them. The AccountService is read-only on purpose: SimBmc has one user (the configured one),
//! so creating, changing or deleting accounts answers 405, which the validator reports as "not
//! tested" rather than as a failure. `$metadata` of a synthetic BMC references DMTF's published
//! CSDL files for the types it serves; a replayed tree serves its recorded one.

use axum::http::header::ETAG;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::state::SimState;
use super::documents::{collection, service_root};
use super::reply::{error, ok, xml_response};
use super::route::{ACCOUNT_SERVICE, ROOT, Route};

/// (namespace, version) of every resource type a synthetic SimBmc serves.
const TYPES: &[(&str, &str)] = &[
    ("ServiceRoot", "v1_15_0"),
    ("ComputerSystemCollection", ""),
    ("ComputerSystem", "v1_20_0"),
    ("ActionInfo", "v1_3_0"),
    ("EthernetInterfaceCollection", ""),
    ("EthernetInterface", "v1_12_0"),
    ("ManagerCollection", ""),
    ("Manager", "v1_19_0"),
    ("SessionService", "v1_1_9"),
    ("SessionCollection", ""),
    ("Session", "v1_6_0"),
    ("AccountService", "v1_15_0"),
    ("ManagerAccountCollection", ""),
    ("ManagerAccount", "v1_12_0"),
    ("RoleCollection", ""),
    ("Role", "v1_3_2"),
    ("EventService", "v1_10_0"),
    ("EventDestinationCollection", ""),
    ("EventDestination", "v1_13_0"),
    ("Event", "v1_7_0"),
    ("Message", "v1_1_1"),
];

/// Refuse what the protocol says to refuse before a request reaches its resource: an
/// `OData-Version` other than 4.0 (412), and a `$` query parameter (501: SimBmc supports
/// none, as its `ProtocolFeaturesSupported` says; the SSE URI takes `$filter` and ignores it).
pub(super) fn check_request(
    headers: &HeaderMap,
    uri: &Uri,
    route: Option<&Route>,
) -> Option<Response> {
    if let Some(v) = headers.get("OData-Version") {
        let v = v.to_str().unwrap_or("");
        if v.trim() != "4.0" {
            return Some(error(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                &format!("The OData-Version {v:?} is not supported; this service supports 4.0."),
                "Send OData-Version: 4.0, or leave the header out.",
            ));
        }
    }
    let route = route?;
    if *route == Route::Sse {
        return None;
    }
    let query = uri.query().unwrap_or("");
    let dollar = query
        .split('&')
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
        .find(|k| k.starts_with('$') || k.starts_with("%24"))?;
    Some(error(
        StatusCode::NOT_IMPLEMENTED,
        "QueryNotSupported",
        &format!("The query parameter {dollar} is not supported by this service."),
        "Remove the query parameter and resubmit the request.",
    ))
}

/// `/redfish`.
pub(super) fn versions() -> Value {
    json!({"v1": "/redfish/v1/"})
}

/// The OData service document: the service root and every resource it links.
pub(super) fn odata(st: &SimState) -> Value {
    let root = match &st.fixed.replay {
        Some(_) => super::replay::root_doc(st),
        None => service_root(st),
    };
    let mut value = vec![json!({"name": "Service", "kind": "Singleton", "url": "/redfish/v1/"})];
    if let Some(map) = root.as_object() {
        for (name, v) in map {
            if let Some(url) = v.get("@odata.id").and_then(Value::as_str) {
                value.push(json!({"name": name, "kind": "Singleton", "url": url}));
            }
        }
    }
    json!({"@odata.context": "/redfish/v1/$metadata", "value": value})
}

/// `$metadata`: the recorded document of a replayed tree, else references to DMTF's CSDL for
/// the types served here and the entity container.
pub(super) fn metadata(st: &SimState) -> Response {
    if let Some(r) = &st.fixed.replay
        && let Some((_, super::super::mockup::Resource::Xml(text))) =
            r.mockup.tree.get(&format!("{ROOT}/$metadata"))
    {
        return xml_response(text.clone());
    }
    let mut refs = String::new();
    let mut all = TYPES.to_vec();
    all.extend([("Resource", "v1_14_0"), ("RedfishExtensions", "v1_0_0")]);
    for (ns, ver) in all {
        refs.push_str(&format!(
            "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/{ns}_v1.xml\">\n    <edmx:Include Namespace=\"{ns}\"/>\n"
        ));
        if !ver.is_empty() {
            refs.push_str(&format!("    <edmx:Include Namespace=\"{ns}.{ver}\"/>\n"));
        }
        refs.push_str("  </edmx:Reference>\n");
    }
    xml_response(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n\
         {refs}  <edmx:DataServices>\n    \
         <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n      \
         <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_15_0.ServiceContainer\"/>\n    \
         </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n"
    ))
}

/// The standard roles and their privileges.
const ROLES: &[(&str, &[&str])] = &[
    (
        "Administrator",
        &[
            "Login",
            "ConfigureManager",
            "ConfigureUsers",
            "ConfigureSelf",
            "ConfigureComponents",
        ],
    ),
    (
        "Operator",
        &["Login", "ConfigureSelf", "ConfigureComponents"],
    ),
    ("ReadOnly", &["Login", "ConfigureSelf"]),
];

pub(super) fn account_service() -> Value {
    json!({
        "@odata.id": ACCOUNT_SERVICE,
        "@odata.type": "#AccountService.v1_15_0.AccountService",
        "Id": "AccountService",
        "Name": "Account Service",
        "ServiceEnabled": true,
        "MinPasswordLength": 1,
        "Accounts": {"@odata.id": format!("{ACCOUNT_SERVICE}/Accounts")},
        "Roles": {"@odata.id": format!("{ACCOUNT_SERVICE}/Roles")},
        "Status": {"State": "Enabled", "Health": "OK"},
    })
}

pub(super) fn accounts(_st: &SimState) -> Value {
    collection(
        &format!("{ACCOUNT_SERVICE}/Accounts"),
        "#ManagerAccountCollection.ManagerAccountCollection",
        "Accounts Collection",
        std::iter::once(format!("{ACCOUNT_SERVICE}/Accounts/1")),
    )
}

pub(super) fn account(st: &SimState, id: &str) -> Response {
    if id != "1" {
        return missing(&format!("{ACCOUNT_SERVICE}/Accounts/{id}"));
    }
    // Read-only, so one version forever; the ETag is what clients use to write one.
    let mut resp = ok(json!({
        "@odata.id": format!("{ACCOUNT_SERVICE}/Accounts/1"),
        "@odata.etag": ACCOUNT_ETAG,
        "@odata.type": "#ManagerAccount.v1_12_0.ManagerAccount",
        "Id": "1",
        "Name": "User Account",
        "UserName": st.fixed.username,
        "Password": null,
        "RoleId": "Administrator",
        "Enabled": true,
        "Locked": false,
        "Links": {"Role": {"@odata.id": format!("{ACCOUNT_SERVICE}/Roles/Administrator")}},
    }));
    resp.headers_mut()
        .insert(ETAG, HeaderValue::from_static(ACCOUNT_ETAG));
    resp
}

const ACCOUNT_ETAG: &str = "W/\"1\"";

pub(super) fn roles() -> Value {
    collection(
        &format!("{ACCOUNT_SERVICE}/Roles"),
        "#RoleCollection.RoleCollection",
        "Roles Collection",
        ROLES
            .iter()
            .map(|(r, _)| format!("{ACCOUNT_SERVICE}/Roles/{r}")),
    )
}

pub(super) fn role(id: &str) -> Response {
    let Some((name, privileges)) = ROLES.iter().find(|(r, _)| *r == id) else {
        return missing(&format!("{ACCOUNT_SERVICE}/Roles/{id}"));
    };
    ok(json!({
        "@odata.id": format!("{ACCOUNT_SERVICE}/Roles/{name}"),
        "@odata.type": "#Role.v1_3_2.Role",
        "Id": name,
        "Name": format!("{name} Role"),
        "RoleId": name,
        "IsPredefined": true,
        "AssignedPrivileges": privileges,
        "OemPrivileges": [],
    }))
}

pub(super) fn missing(path: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceMissingAtURI",
        &format!("The resource at the URI {path} was not found."),
        "Place a valid resource at the URI or correct the URI and resubmit the request.",
    )
}
