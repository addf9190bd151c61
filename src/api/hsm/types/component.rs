//! Wire types of `State/Components` and `locks/status`.
//!
//! A component is written with its State required and everything else optional; Flag
//! defaults to OK and Enabled to true, as HSM does. Errors in one component of a batch name
//! that component, so a 400 for a thousand-node POST says which entry was wrong. The
//! single-field PATCH bodies become an [`ComponentPatch`] here, one variant per route.

use serde::{Deserialize, Serialize};

use super::Vocabulary::{Closed, Open};
use super::{body_nid, canon, opt_canon, xname};
use crate::api::problem::{ApiResult, Problem};
use crate::api::wire::present;
use crate::app::inventory::{ComponentPatch, LockStatus};
use crate::model::Component;
use crate::model::component::{ARCHES, CLASSES, FLAGS, NET_TYPES, ROLES, STATES, SUBROLES};

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
pub enum Projection {
    Full,
    State,
    Flag,
    Role,
    Nid,
}

impl ComponentOut {
    pub fn project(self, p: Projection) -> ComponentOut {
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
pub struct ComponentArray {
    #[serde(rename = "Components")]
    pub components: Vec<ComponentOut>,
}

#[derive(Deserialize)]
pub struct ComponentIn {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "State")]
    state: String,
    #[serde(rename = "Flag", default, deserialize_with = "present")]
    flag: Option<String>,
    #[serde(rename = "Enabled", default, deserialize_with = "present")]
    enabled: Option<bool>,
    #[serde(rename = "SoftwareStatus", default, deserialize_with = "present")]
    software_status: Option<String>,
    #[serde(rename = "Role", default, deserialize_with = "present")]
    role: Option<String>,
    #[serde(rename = "SubRole", default, deserialize_with = "present")]
    subrole: Option<String>,
    #[serde(rename = "NID", default, deserialize_with = "present")]
    nid: Option<i64>,
    #[serde(rename = "Subtype", default, deserialize_with = "present")]
    subtype: Option<String>,
    #[serde(rename = "NetType", default, deserialize_with = "present")]
    net_type: Option<String>,
    #[serde(rename = "Arch", default, deserialize_with = "present")]
    arch: Option<String>,
    #[serde(rename = "Class", default, deserialize_with = "present")]
    class: Option<String>,
}

impl TryFrom<ComponentIn> for Component {
    type Error = Problem;

    fn try_from(w: ComponentIn) -> ApiResult<Component> {
        let id = xname(&w.id)
            .map_err(|p| Problem::bad_request(format!("component ID: {}", p.detail)))?;
        let ctx = |p: Problem| Problem::bad_request(format!("component {id}: {}", p.detail));
        let mut c = Component::new(id.clone());
        c.state = canon("State", &w.state, STATES, Closed).map_err(ctx)?;
        if let Some(f) = opt_canon("Flag", w.flag, FLAGS, Closed).map_err(ctx)? {
            c.flag = f;
        }
        c.enabled = w.enabled.unwrap_or(true);
        c.software_status = w.software_status.filter(|s| !s.is_empty());
        c.role = opt_canon("Role", w.role, ROLES, Open).map_err(ctx)?;
        c.subrole = opt_canon("SubRole", w.subrole, SUBROLES, Open).map_err(ctx)?;
        if let Some(n) = w.nid {
            c.nid = Some(body_nid(n).map_err(ctx)?);
        }
        c.subtype = w.subtype.filter(|s| !s.is_empty());
        c.net_type = opt_canon("NetType", w.net_type, NET_TYPES, Closed).map_err(ctx)?;
        c.arch = opt_canon("Arch", w.arch, ARCHES, Closed).map_err(ctx)?;
        c.class = opt_canon("Class", w.class, CLASSES, Closed).map_err(ctx)?;
        Ok(c)
    }
}

/// `POST /State/Components`.
#[derive(Deserialize)]
pub struct PostArray {
    #[serde(rename = "Components")]
    pub components: Vec<ComponentIn>,
    #[serde(rename = "Force", default)]
    pub force: bool,
}

/// `PUT /State/Components/{xname}`.
#[derive(Deserialize)]
pub struct PutOne {
    #[serde(rename = "Component")]
    pub component: ComponentIn,
    #[serde(rename = "Force", default)]
    pub force: bool,
}

/// Body of single and bulk PATCHes: each route reads the fields it needs.
#[derive(Deserialize, Default)]
pub struct PatchBody {
    #[serde(rename = "ComponentIDs", default)]
    pub ids: Vec<String>,
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

impl PatchBody {
    /// The change the `field` route (`StateData`, `FlagOnly`, …; any case) asks for.
    pub fn patch(&self, field: &str) -> ApiResult<ComponentPatch> {
        Ok(match field.to_ascii_lowercase().as_str() {
            "statedata" => ComponentPatch::StateData {
                state: canon(
                    "State",
                    &required(self.state.clone(), "State")?,
                    STATES,
                    Closed,
                )?,
                flag: opt_canon("Flag", self.flag.clone(), FLAGS, Closed)?,
                force: self.force,
            },
            "flagonly" => ComponentPatch::Flag(canon(
                "Flag",
                &required(self.flag.clone(), "Flag")?,
                FLAGS,
                Closed,
            )?),
            "enabled" => ComponentPatch::Enabled(required(self.enabled, "Enabled")?),
            "softwarestatus" => ComponentPatch::SoftwareStatus(required(
                self.software_status.clone(),
                "SoftwareStatus",
            )?),
            "role" => ComponentPatch::Role {
                role: canon("Role", &required(self.role.clone(), "Role")?, ROLES, Open)?,
                subrole: opt_canon("SubRole", self.subrole.clone(), SUBROLES, Open)?,
            },
            "nid" => ComponentPatch::Nid(body_nid(required(self.nid, "NID")?)?),
            other => {
                return Err(Problem::not_found(format!(
                    "no such component field '{other}': expected StateData, FlagOnly, Enabled, SoftwareStatus, Role or NID"
                )));
            }
        })
    }
}

#[derive(Deserialize)]
pub struct BulkNidItem {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "NID")]
    pub nid: i64,
}

/// `PATCH /State/Components/BulkNID`.
#[derive(Deserialize)]
pub struct BulkNidBody {
    #[serde(rename = "Components")]
    pub components: Vec<BulkNidItem>,
}

/// One component's lock state; fields in alphabetical order, as HSM has always listed them.
#[derive(Serialize)]
pub struct LockOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Locked")]
    locked: bool,
    #[serde(rename = "ReservationDisabled")]
    reservation_disabled: bool,
    #[serde(rename = "Reserved")]
    reserved: bool,
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

/// `GET /locks/status`.
#[derive(Serialize)]
pub struct LockList {
    #[serde(rename = "Components")]
    pub components: Vec<LockOut>,
}

/// `POST /locks/status`: the components found and the IDs that were not.
#[derive(Serialize)]
pub struct LockQueryOut {
    #[serde(rename = "Components")]
    pub components: Vec<LockOut>,
    #[serde(rename = "NotFound")]
    pub not_found: Vec<String>,
}

/// A body that names components: `{"ComponentIDs": […]}`.
#[derive(Deserialize)]
pub struct XnamesBody {
    #[serde(rename = "ComponentIDs", default)]
    pub ids: Vec<String>,
}
