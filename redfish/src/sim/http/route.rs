//! Where each Redfish resource of SimBmc lives, and which methods it takes.
//!
//! SimBmc routes by hand over path segments instead of through axum's router: Redfish wants
//! its own error bodies for unknown URIs and wrong methods, and the fault knobs must apply
//! before routing, which axum's rejections would get in the way of. This module only maps a
//! path to a [`Route`]; it answers nothing.

use axum::http::Method;

use super::super::state::SimState;

pub(super) const ROOT: &str = "/redfish/v1";
pub(super) const SYSTEMS: &str = "/redfish/v1/Systems";
pub(super) const MANAGERS: &str = "/redfish/v1/Managers";
pub(super) const MANAGER: &str = "/redfish/v1/Managers/BMC";
pub(super) const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
pub(super) const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

pub(super) fn system_path(i: usize) -> String {
    format!("{SYSTEMS}/Node{i}")
}

pub(super) fn nic_path(i: usize, n: usize) -> String {
    format!("{SYSTEMS}/Node{i}/EthernetInterfaces/NIC{n}")
}

/// A resource this BMC serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Route {
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
    pub(super) fn parse(st: &SimState, path: &str) -> Option<Route> {
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

    pub(super) fn methods(&self) -> &'static [Method] {
        match self {
            Route::System(_) => &[Method::GET, Method::PATCH],
            Route::Reset(_) => &[Method::POST],
            Route::Sessions => &[Method::GET, Method::POST],
            Route::Session(_) => &[Method::GET, Method::DELETE],
            _ => &[Method::GET],
        }
    }
}
