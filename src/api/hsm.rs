//! `/apis/smd/hsm/v2`: the HSM subset (contract: specs/hsm-smd-cray-hpe-swagger_v2.yaml).
//!
//! Wire types here use HSM's PascalCase (groups and partitions use camelCase, as upstream)
//! and convert to and from `model` types at this edge; every conversion validates and
//! canonicalises, so a bad xname, MAC, NID or enum value is a 400 naming the field.
//! Passwords of Redfish endpoints are accepted on input and never serialised.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::{Deserialize, Serialize};

use super::extract::{Body, Pairs, parse_bool};
use super::problem::{ApiResult, Problem};
use crate::app::App;
use crate::app::inventory::{
    ComponentFilter, ComponentPatch, EthernetFilter, EthernetPatch, LockStatus, without_password,
};
use crate::model::BmcTrust;
use crate::model::component::{
    ARCHES, CLASSES, FLAGS, NET_TYPES, ROLES, STATES, SUBROLES, TYPES, canonical, canonical_open,
};
use crate::model::redfish_endpoint::Secret;
use crate::model::{
    Component, EthernetInterface, Group, GroupKind, IpMapping, Mac, RedfishEndpoint, Xname,
};

type S = State<Arc<App>>;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/service/ready", get(ready))
        .route("/service/liveness", get(liveness))
        .route("/service/values", get(values_all))
        .route("/service/values/{kind}", get(values_one))
        .route(
            "/State/Components",
            get(list_components)
                .post(post_components)
                .delete(delete_all_components),
        )
        .route("/State/Components/Query", post(query_components))
        .route("/State/Components/ByNID/{nid}", get(get_component_by_nid))
        .route("/State/Components/BulkNID", patch(bulk_nid))
        .route("/State/Components/BulkStateData", bulk_route("StateData"))
        .route("/State/Components/BulkFlagOnly", bulk_route("FlagOnly"))
        .route("/State/Components/BulkEnabled", bulk_route("Enabled"))
        .route(
            "/State/Components/BulkSoftwareStatus",
            bulk_route("SoftwareStatus"),
        )
        .route("/State/Components/BulkRole", bulk_route("Role"))
        .route(
            "/State/Components/{xname}",
            get(get_component)
                .put(put_component)
                .delete(delete_component),
        )
        .route("/State/Components/{xname}/{field}", patch(patch_component))
        .route(
            "/Inventory/EthernetInterfaces",
            get(list_ifaces)
                .post(create_iface)
                .delete(delete_all_ifaces),
        )
        .route(
            "/Inventory/EthernetInterfaces/{id}",
            get(get_iface).patch(patch_iface).delete(delete_iface),
        )
        .route(
            "/Inventory/RedfishEndpoints",
            get(list_endpoints)
                .post(create_endpoints)
                .delete(delete_all_endpoints),
        )
        .route(
            "/Inventory/ComponentEndpoints",
            get(list_component_endpoints),
        )
        .route(
            "/Inventory/ComponentEndpoints/{xname}",
            get(get_component_endpoint),
        )
        .route("/Inventory/Discover", post(discover))
        .route(
            "/Inventory/RedfishEndpoints/{xname}",
            get(get_endpoint)
                .put(put_endpoint)
                .patch(patch_endpoint)
                .delete(delete_endpoint),
        )
        .route("/groups", get(list_groups).post(create_group))
        .route("/groups/labels", get(group_labels))
        .route(
            "/groups/{label}",
            get(get_group).patch(patch_group).delete(delete_group),
        )
        .route(
            "/groups/{label}/members",
            get(group_members).post(add_group_member),
        )
        .route(
            "/groups/{label}/members/{xname}",
            axum::routing::delete(remove_group_member),
        )
        .route("/partitions", get(list_partitions).post(create_partition))
        .route("/partitions/names", get(partition_names))
        .route(
            "/partitions/{name}",
            get(get_partition)
                .patch(patch_partition)
                .delete(delete_partition),
        )
        .route(
            "/partitions/{name}/members",
            get(partition_members).post(add_partition_member),
        )
        .route(
            "/partitions/{name}/members/{xname}",
            axum::routing::delete(remove_partition_member),
        )
        .route("/memberships", get(list_memberships))
        .route("/memberships/{xname}", get(get_membership))
        .route("/locks/status", get(lock_status).post(lock_status_post))
}

// ---------------------------------------------------------------- helpers

pub fn xname(s: &str) -> ApiResult<Xname> {
    Xname::parse(s).map_err(|e| Problem::bad_request(e.to_string()))
}

fn mac(s: &str) -> ApiResult<Mac> {
    Mac::parse(s).map_err(|e| Problem::bad_request(e.to_string()))
}

fn nid(s: &str) -> ApiResult<i64> {
    let n = s.trim().parse::<i64>().map_err(|_| {
        Problem::bad_request(format!(
            "invalid NID '{s}': expected a non-negative integer"
        ))
    })?;
    if n < 0 {
        return Err(Problem::bad_request(format!(
            "invalid NID '{s}': expected a non-negative integer"
        )));
    }
    Ok(n)
}

fn bad(e: impl std::fmt::Display) -> Problem {
    Problem::bad_request(e.to_string())
}

#[derive(Serialize)]
struct Message {
    code: i32,
    message: String,
}

fn deleted(n: u64) -> Response {
    let message = if n == 1 {
        "deleted 1 entry".to_string()
    } else {
        format!("deleted {n} entries")
    };
    Json(Message { code: 0, message }).into_response()
}

#[derive(Serialize)]
struct ResourceUri {
    #[serde(rename = "URI")]
    uri: String,
}

fn created(uris: Vec<String>) -> Response {
    (
        StatusCode::CREATED,
        Json(
            uris.into_iter()
                .map(|uri| ResourceUri { uri })
                .collect::<Vec<_>>(),
        ),
    )
        .into_response()
}

use axum::Json;

// ---------------------------------------------------------------- service

async fn ready(State(app): S) -> ApiResult<Response> {
    app.ready().await?;
    Ok(Json(Message {
        code: 0,
        message: "HSM is healthy".into(),
    })
    .into_response())
}

async fn liveness() -> StatusCode {
    StatusCode::NO_CONTENT
}

fn values_of(kind: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "arch" => ("Arch", ARCHES),
        "class" => ("Class", CLASSES),
        "flag" => ("Flag", FLAGS),
        "nettype" => ("NetType", NET_TYPES),
        "role" => ("Role", ROLES),
        "subrole" => ("SubRole", SUBROLES),
        "state" => ("State", STATES),
        "type" => ("Type", TYPES),
        _ => return None,
    })
}

async fn values_all() -> Json<serde_json::Value> {
    let mut m = serde_json::Map::new();
    for k in [
        "arch", "class", "flag", "nettype", "role", "subrole", "state", "type",
    ] {
        let (name, vals) = values_of(k).expect("known kind");
        m.insert(name.into(), serde_json::json!(vals));
    }
    Json(serde_json::Value::Object(m))
}

async fn values_one(Path(kind): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let (name, vals) = values_of(&kind).ok_or_else(|| {
        Problem::not_found(format!("no such value list '{kind}': expected arch, class, flag, nettype, role, subrole, state or type"))
    })?;
    Ok(Json(serde_json::json!({ name: vals })))
}

// ---------------------------------------------------------------- components

#[derive(Serialize, Clone)]
pub struct ComponentOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "State", skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(rename = "Flag", skip_serializing_if = "Option::is_none")]
    flag: Option<String>,
    #[serde(rename = "Enabled", skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(rename = "SoftwareStatus", skip_serializing_if = "Option::is_none")]
    software_status: Option<String>,
    #[serde(rename = "Role", skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(rename = "SubRole", skip_serializing_if = "Option::is_none")]
    subrole: Option<String>,
    #[serde(rename = "NID", skip_serializing_if = "Option::is_none")]
    nid: Option<i64>,
    #[serde(rename = "Subtype", skip_serializing_if = "Option::is_none")]
    subtype: Option<String>,
    #[serde(rename = "NetType", skip_serializing_if = "Option::is_none")]
    net_type: Option<String>,
    #[serde(rename = "Arch", skip_serializing_if = "Option::is_none")]
    arch: Option<String>,
    #[serde(rename = "Class", skip_serializing_if = "Option::is_none")]
    class: Option<String>,
    #[serde(
        rename = "ReservationDisabled",
        skip_serializing_if = "Option::is_none"
    )]
    reservation_disabled: Option<bool>,
    #[serde(rename = "Locked", skip_serializing_if = "Option::is_none")]
    locked: Option<bool>,
}

impl From<Component> for ComponentOut {
    fn from(c: Component) -> Self {
        ComponentOut {
            id: c.id.to_string(),
            kind: c.kind,
            state: Some(c.state),
            flag: Some(c.flag),
            enabled: Some(c.enabled),
            software_status: c.software_status,
            role: c.role,
            subrole: c.subrole,
            nid: c.nid,
            subtype: c.subtype,
            net_type: c.net_type,
            arch: c.arch,
            class: c.class,
            reservation_disabled: Some(c.reservation_disabled),
            locked: Some(c.locked),
        }
    }
}

/// The `stateonly` / `flagonly` / `roleonly` / `nidonly` projections.
#[derive(Clone, Copy, PartialEq)]
enum Projection {
    Full,
    State,
    Flag,
    Role,
    Nid,
}

impl ComponentOut {
    fn project(self, p: Projection) -> ComponentOut {
        let bare = ComponentOut {
            id: self.id.clone(),
            kind: self.kind.clone(),
            state: None,
            flag: None,
            enabled: None,
            software_status: None,
            role: None,
            subrole: None,
            nid: None,
            subtype: None,
            net_type: None,
            arch: None,
            class: None,
            reservation_disabled: None,
            locked: None,
        };
        match p {
            Projection::Full => self,
            Projection::State => ComponentOut {
                state: self.state,
                flag: self.flag,
                ..bare
            },
            Projection::Flag => ComponentOut {
                flag: self.flag,
                ..bare
            },
            Projection::Role => ComponentOut {
                role: self.role,
                subrole: self.subrole,
                ..bare
            },
            Projection::Nid => ComponentOut {
                nid: self.nid,
                ..bare
            },
        }
    }
}

#[derive(Serialize)]
struct ComponentArray {
    #[serde(rename = "Components")]
    components: Vec<ComponentOut>,
}

#[derive(Deserialize)]
pub struct ComponentIn {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "State")]
    state: String,
    #[serde(rename = "Flag")]
    flag: Option<String>,
    #[serde(rename = "Enabled")]
    enabled: Option<bool>,
    #[serde(rename = "SoftwareStatus")]
    software_status: Option<String>,
    #[serde(rename = "Role")]
    role: Option<String>,
    #[serde(rename = "SubRole")]
    subrole: Option<String>,
    #[serde(rename = "NID")]
    nid: Option<i64>,
    #[serde(rename = "Subtype")]
    subtype: Option<String>,
    #[serde(rename = "NetType")]
    net_type: Option<String>,
    #[serde(rename = "Arch")]
    arch: Option<String>,
    #[serde(rename = "Class")]
    class: Option<String>,
}

fn opt_canon(
    field: &'static str,
    v: Option<String>,
    allowed: &'static [&'static str],
) -> ApiResult<Option<String>> {
    v.filter(|s| !s.is_empty())
        .map(|s| canonical(field, &s, allowed))
        .transpose()
        .map_err(bad)
}

impl ComponentIn {
    fn into_model(self) -> ApiResult<Component> {
        let id = xname(&self.id)
            .map_err(|p| Problem::bad_request(format!("component ID: {}", p.detail)))?;
        let ctx = |p: Problem| Problem::bad_request(format!("component {id}: {}", p.detail));
        let mut c = Component::new(id.clone());
        c.state = canonical("State", &self.state, STATES)
            .map_err(bad)
            .map_err(ctx)?;
        if let Some(f) = opt_canon("Flag", self.flag, FLAGS).map_err(ctx)? {
            c.flag = f;
        }
        c.enabled = self.enabled.unwrap_or(true);
        c.software_status = self.software_status.filter(|s| !s.is_empty());
        c.role = self
            .role
            .filter(|s| !s.is_empty())
            .map(|r| canonical_open("Role", &r, ROLES))
            .transpose()
            .map_err(bad)
            .map_err(ctx)?;
        c.subrole = self
            .subrole
            .filter(|s| !s.is_empty())
            .map(|r| canonical_open("SubRole", &r, SUBROLES))
            .transpose()
            .map_err(bad)
            .map_err(ctx)?;
        if let Some(n) = self.nid {
            if n < 0 {
                return Err(ctx(Problem::bad_request(format!(
                    "invalid NID {n}: NIDs are non-negative integers"
                ))));
            }
            c.nid = Some(n);
        }
        c.subtype = self.subtype.filter(|s| !s.is_empty());
        c.net_type = opt_canon("NetType", self.net_type, NET_TYPES).map_err(ctx)?;
        c.arch = opt_canon("Arch", self.arch, ARCHES).map_err(ctx)?;
        c.class = opt_canon("Class", self.class, CLASSES).map_err(ctx)?;
        Ok(c)
    }
}

fn canon_all(
    field: &'static str,
    vals: Vec<String>,
    allowed: &'static [&'static str],
    open: bool,
) -> ApiResult<Vec<String>> {
    vals.into_iter()
        .map(|v| {
            if open {
                canonical_open(field, &v, allowed)
            } else {
                canonical(field, &v, allowed)
            }
        })
        .collect::<Result<_, _>>()
        .map_err(bad)
}

fn filter_from(q: &Pairs) -> ApiResult<ComponentFilter> {
    let ids = q
        .all("id")
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ComponentFilter {
        ids,
        types: canon_all("type", q.all("type"), TYPES, false)?,
        states: canon_all("state", q.all("state"), STATES, false)?,
        flags: canon_all("flag", q.all("flag"), FLAGS, false)?,
        roles: canon_all("role", q.all("role"), ROLES, true)?,
        subroles: canon_all("subrole", q.all("subrole"), SUBROLES, true)?,
        enabled: q
            .all("enabled")
            .iter()
            .map(|v| parse_bool("enabled", v))
            .collect::<ApiResult<_>>()?,
        software_status: q.all("softwarestatus"),
        subtypes: q.all("subtype"),
        arches: canon_all("arch", q.all("arch"), ARCHES, false)?,
        classes: canon_all("class", q.all("class"), CLASSES, false)?,
        nids: q
            .all("nid")
            .iter()
            .map(|s| nid(s))
            .collect::<ApiResult<_>>()?,
        nid_start: q.first("nid_start").map(|s| nid(&s)).transpose()?,
        nid_end: q.first("nid_end").map(|s| nid(&s)).transpose()?,
        groups: q.all("group"),
        partitions: q.all("partition"),
    })
}

async fn list_components(State(app): S, q: Pairs) -> ApiResult<Json<ComponentArray>> {
    let f = filter_from(&q)?;
    let proj = if q.bool("stateonly")?.unwrap_or(false) {
        Projection::State
    } else if q.bool("flagonly")?.unwrap_or(false) {
        Projection::Flag
    } else if q.bool("roleonly")?.unwrap_or(false) {
        Projection::Role
    } else if q.bool("nidonly")?.unwrap_or(false) {
        Projection::Nid
    } else {
        Projection::Full
    };
    let cs = app.list_components(&f).await?;
    Ok(Json(ComponentArray {
        components: cs
            .into_iter()
            .map(|c| ComponentOut::from(c).project(proj))
            .collect(),
    }))
}

#[derive(Deserialize)]
struct PostArray {
    #[serde(rename = "Components")]
    components: Vec<ComponentIn>,
    #[serde(rename = "Force", default)]
    force: bool,
}

async fn post_components(State(app): S, Body(body): Body<PostArray>) -> ApiResult<StatusCode> {
    if body.components.is_empty() {
        return Err(Problem::bad_request(
            "Components must list at least one component",
        ));
    }
    let cs = body
        .components
        .into_iter()
        .map(ComponentIn::into_model)
        .collect::<ApiResult<Vec<_>>>()?;
    app.upsert_components(cs, body.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_all_components(State(app): S) -> ApiResult<Response> {
    Ok(deleted(app.delete_all_components().await?))
}

async fn get_component(State(app): S, Path(x): Path<String>) -> ApiResult<Json<ComponentOut>> {
    Ok(Json(app.get_component(&xname(&x)?).await?.into()))
}

async fn get_component_by_nid(
    State(app): S,
    Path(n): Path<String>,
) -> ApiResult<Json<ComponentOut>> {
    Ok(Json(app.get_component_by_nid(nid(&n)?).await?.into()))
}

#[derive(Deserialize)]
struct PutOne {
    #[serde(rename = "Component")]
    component: ComponentIn,
    #[serde(rename = "Force", default)]
    force: bool,
}

async fn put_component(
    State(app): S,
    Path(x): Path<String>,
    Body(body): Body<PutOne>,
) -> ApiResult<StatusCode> {
    let id = xname(&x)?;
    let c = body.component.into_model()?;
    if c.id != id {
        return Err(Problem::bad_request(format!(
            "the path names {id} but the body's Component.ID is {}",
            c.id
        )));
    }
    app.upsert_components(vec![c], body.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_component(State(app): S, Path(x): Path<String>) -> ApiResult<Response> {
    app.delete_component(&xname(&x)?).await?;
    Ok(deleted(1))
}

/// Body of single and bulk PATCHes: each route reads the fields it needs.
#[derive(Deserialize, Default)]
struct PatchBody {
    #[serde(rename = "ComponentIDs", default)]
    ids: Vec<String>,
    #[serde(rename = "State")]
    state: Option<String>,
    #[serde(rename = "Flag")]
    flag: Option<String>,
    #[serde(rename = "Force", default)]
    force: bool,
    #[serde(rename = "Enabled")]
    enabled: Option<bool>,
    #[serde(rename = "SoftwareStatus")]
    software_status: Option<String>,
    #[serde(rename = "Role")]
    role: Option<String>,
    #[serde(rename = "SubRole")]
    subrole: Option<String>,
    #[serde(rename = "NID")]
    nid: Option<i64>,
}

fn required<T>(v: Option<T>, field: &str) -> ApiResult<T> {
    v.ok_or_else(|| Problem::bad_request(format!("missing required field {field}")))
}

fn patch_of(field: &str, b: &PatchBody) -> ApiResult<ComponentPatch> {
    Ok(match field.to_ascii_lowercase().as_str() {
        "statedata" => ComponentPatch::StateData {
            state: canonical("State", &required(b.state.clone(), "State")?, STATES).map_err(bad)?,
            flag: opt_canon("Flag", b.flag.clone(), FLAGS)?,
            force: b.force,
        },
        "flagonly" => ComponentPatch::Flag(
            canonical("Flag", &required(b.flag.clone(), "Flag")?, FLAGS).map_err(bad)?,
        ),
        "enabled" => ComponentPatch::Enabled(required(b.enabled, "Enabled")?),
        "softwarestatus" => {
            ComponentPatch::SoftwareStatus(required(b.software_status.clone(), "SoftwareStatus")?)
        }
        "role" => ComponentPatch::Role {
            role: canonical_open("Role", &required(b.role.clone(), "Role")?, ROLES).map_err(bad)?,
            subrole: b
                .subrole
                .clone()
                .filter(|s| !s.is_empty())
                .map(|s| canonical_open("SubRole", &s, SUBROLES))
                .transpose()
                .map_err(bad)?,
        },
        "nid" => {
            let n = required(b.nid, "NID")?;
            if n < 0 {
                return Err(Problem::bad_request(format!(
                    "invalid NID {n}: NIDs are non-negative integers"
                )));
            }
            ComponentPatch::Nid(n)
        }
        other => {
            return Err(Problem::not_found(format!(
                "no such component field '{other}': expected StateData, FlagOnly, Enabled, SoftwareStatus, Role or NID"
            )));
        }
    })
}

async fn patch_component(
    State(app): S,
    Path((x, field)): Path<(String, String)>,
    Body(b): Body<PatchBody>,
) -> ApiResult<StatusCode> {
    let id = xname(&x)?;
    let p = patch_of(&field, &b)?;
    app.patch_components(&[id], &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn bulk_route(field: &'static str) -> axum::routing::MethodRouter<Arc<App>> {
    patch(move |app: S, body: Body<PatchBody>| bulk_patch(app, field, body))
}

async fn bulk_patch(
    State(app): S,
    field: &'static str,
    Body(b): Body<PatchBody>,
) -> ApiResult<StatusCode> {
    let ids = b
        .ids
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    let p = patch_of(field, &b)?;
    app.patch_components(&ids, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct BulkNidItem {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "NID")]
    nid: i64,
}

#[derive(Deserialize)]
struct BulkNidBody {
    #[serde(rename = "Components")]
    components: Vec<BulkNidItem>,
}

async fn bulk_nid(State(app): S, Body(b): Body<BulkNidBody>) -> ApiResult<StatusCode> {
    let mut cs = Vec::new();
    for item in b.components {
        let mut c = app.get_component(&xname(&item.id)?).await?;
        if item.nid < 0 {
            return Err(Problem::bad_request(format!(
                "invalid NID {}: NIDs are non-negative integers",
                item.nid
            )));
        }
        c.nid = Some(item.nid);
        cs.push(c);
    }
    app.upsert_components(cs, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /State/Components/Query`: ComponentIDs plus any filter as string arrays.
async fn query_components(
    State(app): S,
    Body(b): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<ComponentArray>> {
    let mut pairs = Vec::new();
    for (k, v) in b {
        let key = if k == "ComponentIDs" {
            "id".to_string()
        } else {
            k.to_ascii_lowercase()
        };
        let vals: Vec<String> = match v {
            serde_json::Value::Array(a) => a
                .into_iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => Ok(s),
                    other => Ok(other.to_string()),
                })
                .collect::<ApiResult<_>>()?,
            serde_json::Value::String(s) => vec![s],
            serde_json::Value::Bool(b) => vec![b.to_string()],
            other => {
                return Err(Problem::bad_request(format!(
                    "{k}: expected an array of strings, got {other}"
                )));
            }
        };
        pairs.extend(vals.into_iter().map(|v| (key.clone(), v)));
    }
    let q = Pairs(pairs);
    let f = filter_from(&q)?;
    let cs = app.query_components(&f).await?;
    Ok(Json(ComponentArray {
        components: cs.into_iter().map(ComponentOut::from).collect(),
    }))
}

// ---------------------------------------------------------------- locks

#[derive(Serialize)]
struct LockOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Locked")]
    locked: bool,
    #[serde(rename = "Reserved")]
    reserved: bool,
    #[serde(rename = "ReservationDisabled")]
    reservation_disabled: bool,
}

impl From<LockStatus> for LockOut {
    fn from(l: LockStatus) -> Self {
        LockOut {
            id: l.id.to_string(),
            locked: l.locked,
            reserved: l.reserved,
            reservation_disabled: l.reservation_disabled,
        }
    }
}

async fn lock_status(State(app): S, q: Pairs) -> ApiResult<Json<serde_json::Value>> {
    let f = ComponentFilter {
        types: canon_all("type", q.all("type"), TYPES, false)?,
        states: canon_all("state", q.all("state"), STATES, false)?,
        roles: canon_all("role", q.all("role"), ROLES, true)?,
        subroles: canon_all("subrole", q.all("subrole"), SUBROLES, true)?,
        ..Default::default()
    };
    let locked = q.bool("locked")?;
    let reserved = q.bool("reserved")?;
    let disabled = q.bool("reservationDisabled")?;
    let out: Vec<LockOut> = app
        .lock_status(&f)
        .await?
        .into_iter()
        .filter(|l| locked.is_none_or(|v| l.locked == v))
        .filter(|l| reserved.is_none_or(|v| l.reserved == v))
        .filter(|l| disabled.is_none_or(|v| l.reservation_disabled == v))
        .map(LockOut::from)
        .collect();
    Ok(Json(serde_json::json!({ "Components": out })))
}

#[derive(Deserialize)]
struct XnamesBody {
    #[serde(rename = "ComponentIDs")]
    ids: Vec<String>,
}

async fn lock_status_post(
    State(app): S,
    Body(b): Body<XnamesBody>,
) -> ApiResult<Json<serde_json::Value>> {
    if b.ids.is_empty() {
        return Err(Problem::bad_request(
            "Missing IDs: ComponentIDs must name at least one component",
        ));
    }
    let ids = b
        .ids
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    let found = app
        .lock_status(&ComponentFilter {
            ids: ids.clone(),
            ..Default::default()
        })
        .await?;
    let not_found: Vec<String> = ids
        .iter()
        .filter(|i| !found.iter().any(|l| &l.id == *i))
        .map(|i| i.to_string())
        .collect();
    let out: Vec<LockOut> = found.into_iter().map(LockOut::from).collect();
    Ok(Json(
        serde_json::json!({ "Components": out, "NotFound": not_found }),
    ))
}

// ---------------------------------------------------------------- Ethernet interfaces

#[derive(Serialize, Deserialize, Clone)]
struct IpOut {
    #[serde(rename = "IPAddress")]
    ip_address: String,
    #[serde(rename = "Network", default, skip_serializing_if = "String::is_empty")]
    network: String,
}

fn ips_in(v: Vec<IpOut>) -> ApiResult<Vec<IpMapping>> {
    v.into_iter()
        .map(|i| {
            i.ip_address.parse::<std::net::IpAddr>().map_err(|_| {
                Problem::bad_request(format!("invalid IPAddress '{}'", i.ip_address))
            })?;
            Ok(IpMapping {
                ip_address: i.ip_address,
                network: Some(i.network).filter(|n| !n.is_empty()),
            })
        })
        .collect()
}

#[derive(Serialize)]
struct IfaceOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "MACAddress")]
    mac: String,
    #[serde(rename = "IPAddresses")]
    ips: Vec<IpOut>,
    #[serde(rename = "LastUpdate")]
    last_update: String,
    #[serde(rename = "ComponentID")]
    component_id: String,
    #[serde(rename = "Type")]
    kind: String,
}

impl From<EthernetInterface> for IfaceOut {
    fn from(i: EthernetInterface) -> Self {
        IfaceOut {
            id: i.id(),
            kind: i.component_type().unwrap_or("").to_string(),
            description: i.description,
            mac: i.mac.to_string(),
            ips: i
                .ip_addresses
                .into_iter()
                .map(|a| IpOut {
                    ip_address: a.ip_address,
                    network: a.network.unwrap_or_default(),
                })
                .collect(),
            last_update: i
                .last_update
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            component_id: i.component_id.map(|x| x.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct IfaceIn {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "Description", default)]
    description: String,
    #[serde(rename = "MACAddress")]
    mac: String,
    #[serde(rename = "IPAddresses", default)]
    ips: Vec<IpOut>,
    #[serde(rename = "ComponentID")]
    component_id: Option<String>,
}

async fn list_ifaces(State(app): S, q: Pairs) -> ApiResult<Json<Vec<IfaceOut>>> {
    let f = EthernetFilter {
        macs: q
            .all("MACAddress")
            .iter()
            .map(|s| mac(s))
            .collect::<ApiResult<_>>()?,
        ips: q.all("IPAddress"),
        networks: q.all("Network"),
        component_ids: q
            .all("ComponentID")
            .iter()
            .map(|s| {
                xname(s)
                    .map_err(|p| Problem::bad_request(format!("ComponentID filter: {}", p.detail)))
            })
            .collect::<ApiResult<_>>()?,
        types: canon_all("Type", q.all("Type"), TYPES, false)?,
    };
    Ok(Json(
        app.list_ethernet_interfaces(&f)
            .await?
            .into_iter()
            .map(IfaceOut::from)
            .collect(),
    ))
}

async fn create_iface(State(app): S, Body(b): Body<IfaceIn>) -> ApiResult<Response> {
    let m = mac(&b.mac)?;
    if let Some(id) = b.id.as_deref().filter(|s| !s.is_empty())
        && mac(id).map(|x| x != m).unwrap_or(true)
    {
        return Err(Problem::bad_request(format!(
            "ID '{id}' does not match MACAddress {m}; leave ID out and it is derived"
        )));
    }
    let component_id = b
        .component_id
        .filter(|s| !s.is_empty())
        .map(|s| xname(&s))
        .transpose()?;
    let iface = EthernetInterface {
        mac: m,
        description: b.description,
        ip_addresses: ips_in(b.ips)?,
        last_update: chrono::Utc::now(),
        component_id,
    };
    app.create_ethernet_interfaces(vec![iface]).await?;
    Ok(created(vec![format!(
        "/hsm/v2/Inventory/EthernetInterfaces/{}",
        m.id()
    )]))
}

async fn get_iface(State(app): S, Path(id): Path<String>) -> ApiResult<Json<IfaceOut>> {
    Ok(Json(app.get_ethernet_interface(&mac(&id)?).await?.into()))
}

#[derive(Deserialize)]
struct IfacePatch {
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "IPAddresses")]
    ips: Option<Vec<IpOut>>,
    #[serde(rename = "ComponentID")]
    component_id: Option<String>,
}

async fn patch_iface(
    State(app): S,
    Path(id): Path<String>,
    Body(b): Body<IfacePatch>,
) -> ApiResult<Json<IfaceOut>> {
    let p = EthernetPatch {
        description: b.description,
        ip_addresses: b.ips.map(ips_in).transpose()?,
        component_id: b
            .component_id
            .map(|s| {
                if s.is_empty() {
                    Ok(None)
                } else {
                    xname(&s).map(Some)
                }
            })
            .transpose()?,
    };
    Ok(Json(
        app.patch_ethernet_interface(&mac(&id)?, p).await?.into(),
    ))
}

async fn delete_iface(State(app): S, Path(id): Path<String>) -> ApiResult<Response> {
    app.delete_ethernet_interface(&mac(&id)?).await?;
    Ok(deleted(1))
}

async fn delete_all_ifaces(State(app): S) -> ApiResult<Response> {
    Ok(deleted(app.delete_all_ethernet_interfaces().await?))
}

// ---------------------------------------------------------------- Redfish endpoints

#[derive(Serialize, Deserialize, Default)]
struct DiscoveryInfoOut {
    #[serde(
        rename = "LastDiscoveryAttempt",
        skip_serializing_if = "Option::is_none"
    )]
    last_attempt: Option<String>,
    #[serde(rename = "LastDiscoveryStatus")]
    last_status: String,
    #[serde(rename = "RedfishVersion", skip_serializing_if = "Option::is_none")]
    redfish_version: Option<String>,
    /// rackboot extension: why the last discovery failed.
    #[serde(rename = "LastDiscoveryError", skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Output shape: every field but `Password`, which is never serialised.
#[derive(Serialize)]
struct EndpointOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Hostname")]
    hostname: String,
    #[serde(rename = "Domain")]
    domain: String,
    #[serde(rename = "FQDN")]
    fqdn: String,
    #[serde(rename = "Enabled")]
    enabled: bool,
    #[serde(rename = "UUID")]
    uuid: String,
    #[serde(rename = "User")]
    user: String,
    #[serde(rename = "UseSSDP")]
    use_ssdp: bool,
    #[serde(rename = "MACRequired")]
    mac_required: bool,
    #[serde(rename = "MACAddr")]
    mac_addr: String,
    #[serde(rename = "IPAddress")]
    ip_address: String,
    #[serde(rename = "RediscoverOnUpdate")]
    rediscover_on_update: bool,
    #[serde(rename = "TemplateID")]
    template_id: String,
    #[serde(rename = "DiscoveryInfo")]
    discovery_info: DiscoveryInfoOut,
    // rackboot extensions
    #[serde(rename = "Scheme")]
    scheme: String,
    /// How the BMC's certificate is trusted: `system`, `ca`, `pin:<sha256>` or `insecure`.
    #[serde(rename = "TLS")]
    tls: String,
    #[serde(rename = "NodeXnames", skip_serializing_if = "Vec::is_empty")]
    node_xnames: Vec<String>,
}

impl From<RedfishEndpoint> for EndpointOut {
    fn from(e: RedfishEndpoint) -> Self {
        let e = without_password(e);
        EndpointOut {
            id: e.id.to_string(),
            kind: e.kind,
            name: e.name,
            hostname: e.hostname,
            domain: e.domain,
            fqdn: e.fqdn,
            enabled: e.enabled,
            uuid: e.uuid,
            user: e.user,
            use_ssdp: e.use_ssdp,
            mac_required: e.mac_required,
            mac_addr: e.mac_addr,
            ip_address: e.ip_address,
            rediscover_on_update: e.rediscover_on_update,
            template_id: e.template_id,
            discovery_info: DiscoveryInfoOut {
                last_attempt: e.discovery_info.last_attempt.map(|t| t.to_rfc3339()),
                last_status: e.discovery_info.last_status,
                redfish_version: e.discovery_info.redfish_version,
                error: e.discovery_info.error,
            },
            scheme: e.scheme,
            tls: e.trust.describe(),
            node_xnames: e.node_xnames.iter().map(|x| x.to_string()).collect(),
        }
    }
}

#[derive(Deserialize, Default)]
struct EndpointIn {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "Hostname")]
    hostname: Option<String>,
    #[serde(rename = "Domain")]
    domain: Option<String>,
    #[serde(rename = "FQDN")]
    fqdn: Option<String>,
    #[serde(rename = "Enabled")]
    enabled: Option<bool>,
    #[serde(rename = "UUID")]
    uuid: Option<String>,
    #[serde(rename = "User")]
    user: Option<String>,
    #[serde(rename = "Password")]
    password: Option<String>,
    #[serde(rename = "UseSSDP")]
    use_ssdp: Option<bool>,
    #[serde(rename = "MACRequired", alias = "MacRequired")]
    mac_required: Option<bool>,
    #[serde(rename = "MACAddr")]
    mac_addr: Option<String>,
    #[serde(rename = "IPAddress")]
    ip_address: Option<String>,
    #[serde(rename = "RediscoverOnUpdate")]
    rediscover_on_update: Option<bool>,
    #[serde(rename = "TemplateID")]
    template_id: Option<String>,
    // rackboot extensions
    /// `https` (default) or `http` (simulators).
    #[serde(rename = "Scheme")]
    scheme: Option<String>,
    /// PEM of the CA (or the BMC's own certificate) to trust.
    #[serde(rename = "CACert")]
    ca_cert: Option<String>,
    /// SHA-256 of the BMC's certificate to pin.
    #[serde(rename = "CertSHA256")]
    cert_sha256: Option<String>,
    /// Skip certificate verification.
    #[serde(rename = "Insecure")]
    insecure: Option<bool>,
    /// Names for the BMC's systems, in collection order.
    #[serde(rename = "NodeXnames")]
    node_xnames: Option<Vec<String>>,
}

impl EndpointIn {
    /// Apply the fields that were given onto `ep`.
    fn apply(self, ep: &mut RedfishEndpoint) -> ApiResult<()> {
        if let Some(t) = self.kind.filter(|s| !s.is_empty()) {
            ep.kind = canonical("Type", &t, TYPES).map_err(bad)?;
        }
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { ep.$f = v; } )* };
        }
        set!(
            name,
            hostname,
            domain,
            fqdn,
            enabled,
            uuid,
            user,
            use_ssdp,
            mac_required,
            ip_address,
            rediscover_on_update,
            template_id
        );
        if let Some(m) = self.mac_addr.filter(|s| !s.is_empty()) {
            ep.mac_addr = mac(&m)?.to_string();
        }
        if let Some(p) = self.password {
            ep.password = Secret(p);
        }
        if let Some(scheme) = self.scheme.filter(|s| !s.is_empty()) {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "https" && scheme != "http" {
                return Err(Problem::bad_request(format!(
                    "invalid Scheme '{scheme}': use https (or http for simulators)"
                )));
            }
            ep.scheme = scheme;
        }
        let trust_fields = [
            self.ca_cert.is_some(),
            self.cert_sha256.is_some(),
            self.insecure == Some(true),
        ];
        if trust_fields.iter().filter(|b| **b).count() > 1 {
            return Err(Problem::bad_request(
                "give at most one of CACert, CertSHA256 and Insecure",
            ));
        }
        if let Some(pem) = self.ca_cert {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(Problem::bad_request(
                    "invalid CACert: expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
                ));
            }
            ep.trust = BmcTrust::Ca { pem };
        } else if let Some(pin) = self.cert_sha256 {
            let sha256 = redfish::tls::normalise_pin(&pin).ok_or_else(|| {
                Problem::bad_request(format!(
                    "invalid CertSHA256 '{pin}': expected a SHA-256 fingerprint (64 hex digits, colons allowed)"
                ))
            })?;
            ep.trust = BmcTrust::Pin { sha256 };
        } else if let Some(insecure) = self.insecure {
            if insecure {
                ep.trust = BmcTrust::Insecure;
            } else if ep.trust == BmcTrust::Insecure {
                ep.trust = BmcTrust::System;
            }
        }
        if let Some(names) = self.node_xnames {
            ep.node_xnames = names
                .iter()
                .map(|n| {
                    let x = xname(n)?;
                    if x.kind() != crate::model::XnameKind::Node {
                        return Err(Problem::bad_request(format!(
                            "NodeXnames entry {n} is a {}, not a Node",
                            x.kind().hms_type()
                        )));
                    }
                    Ok(x)
                })
                .collect::<ApiResult<Vec<_>>>()?;
        }
        for (field, v) in [
            ("Hostname", &ep.hostname),
            ("FQDN", &ep.fqdn),
            ("Domain", &ep.domain),
        ] {
            if v.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
            {
                return Err(Problem::bad_request(format!(
                    "invalid {field} '{v}': a host name has no spaces or '/'"
                )));
            }
        }
        Ok(())
    }

    fn into_new(self) -> ApiResult<RedfishEndpoint> {
        let id = self
            .id
            .as_deref()
            .ok_or_else(|| Problem::bad_request("missing required field ID (the BMC's xname)"))?;
        let id = xname(id)?;
        let mut ep = RedfishEndpoint {
            id,
            kind: String::new(),
            name: String::new(),
            hostname: String::new(),
            domain: String::new(),
            fqdn: String::new(),
            enabled: true,
            uuid: String::new(),
            user: String::new(),
            password: Secret::default(),
            use_ssdp: false,
            mac_required: false,
            mac_addr: String::new(),
            ip_address: String::new(),
            rediscover_on_update: false,
            template_id: String::new(),
            discovery_info: Default::default(),
            scheme: "https".into(),
            trust: Default::default(),
            node_xnames: vec![],
        };
        self.apply(&mut ep)?;
        Ok(ep)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EndpointsPost {
    Many {
        #[serde(rename = "RedfishEndpoints")]
        endpoints: Vec<serde_json::Value>,
    },
    One(serde_json::Value),
}

async fn list_endpoints(State(app): S, q: Pairs) -> ApiResult<Json<serde_json::Value>> {
    let ids = q
        .all("id")
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    let fqdns = q.all("fqdn");
    let types = canon_all("type", q.all("type"), TYPES, false)?;
    let statuses = q.all("laststatus");
    let out: Vec<EndpointOut> = app
        .list_redfish_endpoints()
        .await?
        .into_iter()
        .filter(|e| ids.is_empty() || ids.contains(&e.id))
        .filter(|e| fqdns.is_empty() || fqdns.contains(&e.fqdn))
        .filter(|e| types.is_empty() || types.contains(&e.kind))
        .filter(|e| statuses.is_empty() || statuses.contains(&e.discovery_info.last_status))
        .map(EndpointOut::from)
        .collect();
    Ok(Json(serde_json::json!({ "RedfishEndpoints": out })))
}

async fn create_endpoints(State(app): S, Body(b): Body<EndpointsPost>) -> ApiResult<Response> {
    let raw = match b {
        EndpointsPost::Many { endpoints } => endpoints,
        EndpointsPost::One(v) => vec![v],
    };
    let eps = raw
        .into_iter()
        .map(|v| {
            serde_json::from_value::<EndpointIn>(v)
                .map_err(|e| Problem::bad_request(format!("Bad Request: {e}")))?
                .into_new()
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let eps = app.create_redfish_endpoints(eps).await?;
    Ok(created(
        eps.iter()
            .map(|e| format!("/hsm/v2/Inventory/RedfishEndpoints/{}", e.id))
            .collect(),
    ))
}

async fn get_endpoint(State(app): S, Path(x): Path<String>) -> ApiResult<Json<EndpointOut>> {
    Ok(Json(app.get_redfish_endpoint(&xname(&x)?).await?.into()))
}

async fn put_endpoint(
    State(app): S,
    Path(x): Path<String>,
    Body(b): Body<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    let id = xname(&x)?;
    if let Some(bid) = b.id.as_deref()
        && xname(bid)? != id
    {
        return Err(Problem::bad_request(format!(
            "the path names {id} but the body's ID is {bid}"
        )));
    }
    let ep = EndpointIn {
        id: Some(id.to_string()),
        ..b
    }
    .into_new()?;
    Ok(Json(app.replace_redfish_endpoint(ep).await?.into()))
}

async fn patch_endpoint(
    State(app): S,
    Path(x): Path<String>,
    Body(b): Body<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    let id = xname(&x)?;
    let mut err = None;
    let ep = app
        .update_redfish_endpoint_with(&id, |ep| {
            if let Err(e) = b.apply(ep) {
                err = Some(e);
            }
        })
        .await;
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Json(ep?.into()))
}

async fn delete_endpoint(State(app): S, Path(x): Path<String>) -> ApiResult<Response> {
    app.delete_redfish_endpoint(&xname(&x)?).await?;
    Ok(deleted(1))
}

async fn delete_all_endpoints(State(app): S) -> ApiResult<Response> {
    Ok(deleted(app.delete_all_redfish_endpoints().await?))
}

// ---------------------------------------------------------------- groups and partitions

#[derive(Serialize, Deserialize, Default)]
struct MembersWire {
    #[serde(default)]
    ids: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct GroupWire {
    #[serde(alias = "name")]
    label: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(
        rename = "exclusiveGroup",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    exclusive_group: Option<String>,
    #[serde(default)]
    members: MembersWire,
}

fn group_out(kind: GroupKind, g: Group) -> serde_json::Value {
    let members =
        serde_json::json!({ "ids": g.members.iter().map(|m| m.to_string()).collect::<Vec<_>>() });
    match kind {
        GroupKind::Group => {
            let mut v = serde_json::json!({ "label": g.label, "description": g.description, "tags": g.tags, "members": members });
            if let Some(e) = g.exclusive_group {
                v["exclusiveGroup"] = e.into();
            }
            v
        }
        GroupKind::Partition => {
            serde_json::json!({ "name": g.label, "description": g.description, "tags": g.tags, "members": members })
        }
    }
}

fn group_in(kind: GroupKind, w: GroupWire) -> ApiResult<Group> {
    if kind == GroupKind::Partition && w.exclusive_group.is_some() {
        return Err(Problem::bad_request("partitions have no exclusiveGroup"));
    }
    Ok(Group {
        label: w.label,
        description: w.description,
        tags: w.tags,
        exclusive_group: w.exclusive_group.filter(|s| !s.is_empty()),
        members: w
            .members
            .ids
            .iter()
            .map(|s| xname(s))
            .collect::<ApiResult<_>>()?,
    })
}

fn base(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Group => "/hsm/v2/groups",
        GroupKind::Partition => "/hsm/v2/partitions",
    }
}

async fn list_g(app: &App, kind: GroupKind, q: &Pairs) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let key = if kind == GroupKind::Group {
        "group"
    } else {
        "partition"
    };
    let gs = app.list_groups(kind, &q.all(key), &q.all("tag")).await?;
    Ok(Json(gs.into_iter().map(|g| group_out(kind, g)).collect()))
}

async fn create_g(app: &App, kind: GroupKind, raw: serde_json::Value) -> ApiResult<Response> {
    let w: GroupWire = serde_json::from_value(raw)
        .map_err(|e| Problem::bad_request(format!("Bad Request: {e}")))?;
    let g = app.create_group(kind, group_in(kind, w)?).await?;
    Ok(created(vec![format!("{}/{}", base(kind), g.label)]))
}

#[derive(Deserialize)]
struct GroupPatch {
    description: Option<String>,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct MemberId {
    id: String,
}

async fn list_groups(State(app): S, q: Pairs) -> ApiResult<Json<Vec<serde_json::Value>>> {
    list_g(&app, GroupKind::Group, &q).await
}
async fn list_partitions(State(app): S, q: Pairs) -> ApiResult<Json<Vec<serde_json::Value>>> {
    list_g(&app, GroupKind::Partition, &q).await
}
async fn create_group(State(app): S, Body(b): Body<serde_json::Value>) -> ApiResult<Response> {
    create_g(&app, GroupKind::Group, b).await
}
async fn create_partition(State(app): S, Body(b): Body<serde_json::Value>) -> ApiResult<Response> {
    create_g(&app, GroupKind::Partition, b).await
}
async fn group_labels(State(app): S) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(
        app.list_groups(GroupKind::Group, &[], &[])
            .await?
            .into_iter()
            .map(|g| g.label)
            .collect(),
    ))
}
async fn partition_names(State(app): S) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(
        app.list_groups(GroupKind::Partition, &[], &[])
            .await?
            .into_iter()
            .map(|g| g.label)
            .collect(),
    ))
}
async fn get_group(State(app): S, Path(l): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(group_out(
        GroupKind::Group,
        app.get_group(GroupKind::Group, &l).await?,
    )))
}
async fn get_partition(State(app): S, Path(l): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(group_out(
        GroupKind::Partition,
        app.get_group(GroupKind::Partition, &l).await?,
    )))
}
async fn patch_group(
    State(app): S,
    Path(l): Path<String>,
    Body(b): Body<GroupPatch>,
) -> ApiResult<StatusCode> {
    app.patch_group(GroupKind::Group, &l, b.description, b.tags)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
async fn patch_partition(
    State(app): S,
    Path(l): Path<String>,
    Body(b): Body<GroupPatch>,
) -> ApiResult<StatusCode> {
    app.patch_group(GroupKind::Partition, &l, b.description, b.tags)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
async fn delete_group(State(app): S, Path(l): Path<String>) -> ApiResult<Response> {
    app.delete_group(GroupKind::Group, &l).await?;
    Ok(deleted(1))
}
async fn delete_partition(State(app): S, Path(l): Path<String>) -> ApiResult<Response> {
    app.delete_group(GroupKind::Partition, &l).await?;
    Ok(deleted(1))
}
async fn members(app: &App, kind: GroupKind, l: &str) -> ApiResult<Json<MembersWire>> {
    let g = app.get_group(kind, l).await?;
    Ok(Json(MembersWire {
        ids: g.members.iter().map(|m| m.to_string()).collect(),
    }))
}
async fn group_members(State(app): S, Path(l): Path<String>) -> ApiResult<Json<MembersWire>> {
    members(&app, GroupKind::Group, &l).await
}
async fn partition_members(State(app): S, Path(l): Path<String>) -> ApiResult<Json<MembersWire>> {
    members(&app, GroupKind::Partition, &l).await
}
async fn add_member(app: &App, kind: GroupKind, l: &str, b: MemberId) -> ApiResult<Response> {
    let x = xname(&b.id)?;
    app.add_group_member(kind, l, x.clone()).await?;
    Ok(created(vec![format!(
        "{}/{}/members/{x}",
        base(kind),
        l.to_ascii_lowercase()
    )]))
}
async fn add_group_member(
    State(app): S,
    Path(l): Path<String>,
    Body(b): Body<MemberId>,
) -> ApiResult<Response> {
    add_member(&app, GroupKind::Group, &l, b).await
}
async fn add_partition_member(
    State(app): S,
    Path(l): Path<String>,
    Body(b): Body<MemberId>,
) -> ApiResult<Response> {
    add_member(&app, GroupKind::Partition, &l, b).await
}
async fn remove_group_member(
    State(app): S,
    Path((l, x)): Path<(String, String)>,
) -> ApiResult<Response> {
    app.remove_group_member(GroupKind::Group, &l, &xname(&x)?)
        .await?;
    Ok(deleted(1))
}
async fn remove_partition_member(
    State(app): S,
    Path((l, x)): Path<(String, String)>,
) -> ApiResult<Response> {
    app.remove_group_member(GroupKind::Partition, &l, &xname(&x)?)
        .await?;
    Ok(deleted(1))
}

fn membership_out(id: &Xname, groups: &[String], partition: &Option<String>) -> serde_json::Value {
    serde_json::json!({ "id": id.to_string(), "groupLabels": groups, "partitionName": partition.clone().unwrap_or_default() })
}

async fn list_memberships(State(app): S, q: Pairs) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let ids = q
        .all("id")
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    let m = app
        .memberships_of((!ids.is_empty()).then_some(ids.as_slice()))
        .await?;
    Ok(Json(
        m.iter()
            .map(|(id, (g, p))| membership_out(id, g, p))
            .collect(),
    ))
}

async fn get_membership(
    State(app): S,
    Path(x): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = xname(&x)?;
    let m = app.memberships_of(Some(std::slice::from_ref(&id))).await?;
    let (g, p) = m
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no such component: {id}")))?;
    Ok(Json(membership_out(&id, g, p)))
}

// ---------------------------------------------------------------- Component endpoints

/// HSM's ComponentEndpoint shape (the parts discovery fills).
fn component_endpoint_out(
    ce: crate::model::ComponentEndpoint,
    fqdn: Option<&str>,
) -> serde_json::Value {
    let fqdn = fqdn.unwrap_or("");
    let nics: Vec<serde_json::Value> = ce
        .macs
        .iter()
        .map(|m| serde_json::json!({"MACAddress": m}))
        .collect();
    serde_json::json!({
        "ID": ce.id.to_string(),
        "Type": ce.id.kind().hms_type(),
        "RedfishType": "ComputerSystem",
        "RedfishSubtype": "Physical",
        "UUID": ce.uuid,
        "OdataID": ce.odata_id,
        "RedfishEndpointID": ce.redfish_endpoint_id.to_string(),
        "RedfishEndpointFQDN": fqdn,
        "RedfishURL": format!("{fqdn}{}", ce.odata_id),
        "ComponentEndpointType": "ComponentEndpointComputerSystem",
        "Enabled": true,
        "RedfishSystemInfo": {
            "Name": ce.name,
            "Actions": {
                "#ComputerSystem.Reset": {
                    "ResetType@Redfish.AllowableValues": ce.reset_types,
                    "target": ce.reset_target,
                }
            },
            "BootSourceOverrideTarget@Redfish.AllowableValues": ce.boot_targets,
            "EthernetNICInfo": nics,
        }
    })
}

async fn list_component_endpoints(State(app): S, q: Pairs) -> ApiResult<Json<serde_json::Value>> {
    let ids = q
        .all("id")
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    let eps = q
        .all("redfish_ep_id")
        .iter()
        .map(|s| xname(s))
        .collect::<ApiResult<Vec<_>>>()?;
    let fqdns: std::collections::HashMap<Xname, String> = app
        .list_redfish_endpoints()
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e.fqdn))
        .collect();
    let out: Vec<serde_json::Value> = app
        .list_component_endpoints()
        .await?
        .into_iter()
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .filter(|c| eps.is_empty() || eps.contains(&c.redfish_endpoint_id))
        .map(|c| {
            let f = fqdns.get(&c.redfish_endpoint_id).cloned();
            component_endpoint_out(c, f.as_deref())
        })
        .collect();
    Ok(Json(serde_json::json!({ "ComponentEndpoints": out })))
}

async fn get_component_endpoint(
    State(app): S,
    Path(x): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let ce = app.get_component_endpoint(&xname(&x)?).await?;
    let ep = app.get_redfish_endpoint(&ce.redfish_endpoint_id).await.ok();
    Ok(Json(component_endpoint_out(
        ce,
        ep.as_ref().map(|e| e.fqdn.as_str()),
    )))
}

#[derive(Deserialize, Default)]
struct DiscoverIn {
    #[serde(default)]
    xnames: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    force: bool,
}

/// `POST /Inventory/Discover`: queue rediscovery of the named BMCs (all when empty).
async fn discover(State(app): S, Body(b): Body<DiscoverIn>) -> ApiResult<Response> {
    let mut ids = Vec::new();
    for raw in &b.xnames {
        let x = xname(raw)?;
        if ids.contains(&x) {
            return Err(Problem::bad_request(format!(
                "{x} appears more than once in xnames"
            )));
        }
        ids.push(x);
    }
    let queued = app.request_discovery(&ids).await?;
    Ok(Json(
        queued
            .into_iter()
            .map(|x| ResourceUri {
                uri: format!("/hsm/v2/Inventory/RedfishEndpoints/{x}"),
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}
