//! Where each Redfish resource of SimBmc lives, and which methods it takes.
//!
//! SimBmc routes by hand over path segments instead of through axum's router: Redfish wants
//! its own error bodies for unknown URIs and wrong methods, and the fault knobs must apply
//! before routing, which axum's rejections would get in the way of. This module only maps a
//! path to a [`Route`]; it answers nothing. A synthetic BMC has fixed paths
//! ([`Route::parse`]); a replaying one has its tree's ([`Route::parse_replay`]): the
//! resources with a writable state (systems, their reset targets, sessions, the event
//! service) get their own routes, everything else is a recorded document ([`Route::Doc`]).

use axum::http::Method;

use super::super::events::EVENT_SERVICE;
use super::super::mockup::{self, Resource};
use super::super::state::SimState;

pub(super) const ROOT: &str = "/redfish/v1";
pub(super) const SYSTEMS: &str = "/redfish/v1/Systems";
pub(super) const MANAGERS: &str = "/redfish/v1/Managers";
pub(super) const MANAGER: &str = "/redfish/v1/Managers/BMC";
pub(super) const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
pub(super) const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
pub(super) const ACCOUNT_SERVICE: &str = "/redfish/v1/AccountService";

pub(super) fn system_path(i: usize) -> String {
    format!("{SYSTEMS}/Node{i}")
}

pub(super) fn nic_path(i: usize, n: usize) -> String {
    format!("{SYSTEMS}/Node{i}/EthernetInterfaces/NIC{n}")
}

/// A resource this BMC serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// `/redfish`: the protocol version document.
    Versions,
    Root,
    /// `/redfish/v1/odata`, the OData service document.
    OData,
    /// `/redfish/v1/$metadata`.
    Metadata,
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
    /// `Sessions/Members`: POST there is a POST to the collection.
    SessionMembers,
    Session(String),
    AccountService,
    Accounts,
    Account(String),
    Roles,
    Role(String),
    EventService,
    Sse,
    Subscriptions,
    /// An SSE stream's EventDestination (`SSE-<n>`), or a recorded one.
    Subscription(String),
    /// A recorded resource of a replayed tree, by its key in the tree.
    Doc(String),
}

/// The path below `/redfish/v1` as segments; `None` outside it.
fn segments(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix(ROOT)?.trim_end_matches('/');
    Some(match rest {
        "" => Vec::new(),
        _ => rest.strip_prefix('/')?.split('/').collect(),
    })
}

impl Route {
    /// `/redfish` (with or without a slash), the same for both modes.
    fn versions(path: &str) -> bool {
        path.trim_end_matches('/') == "/redfish"
    }

    pub(super) fn parse(st: &SimState, path: &str) -> Option<Route> {
        if st.fixed.replay.is_some() {
            return Route::parse_replay(st, path);
        }
        if Route::versions(path) {
            return Some(Route::Versions);
        }
        let segs = segments(path)?;
        let sys = |id: &str| st.system_index(id);
        let sessions = st.fixed.sessions;
        let events = st.fixed.events;
        Some(match segs.as_slice() {
            [] => Route::Root,
            ["odata"] => Route::OData,
            ["$metadata"] => Route::Metadata,
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
            ["SessionService", "Sessions", "Members"] if sessions => Route::SessionMembers,
            ["SessionService", "Sessions", id] if sessions => Route::Session(id.to_string()),
            ["AccountService"] => Route::AccountService,
            ["AccountService", "Accounts"] => Route::Accounts,
            ["AccountService", "Accounts", id] => Route::Account(id.to_string()),
            ["AccountService", "Roles"] => Route::Roles,
            ["AccountService", "Roles", id] => Route::Role(id.to_string()),
            ["EventService"] if events => Route::EventService,
            ["EventService", "SSE"] if events => Route::Sse,
            ["EventService", "Subscriptions"] if events => Route::Subscriptions,
            ["EventService", "Subscriptions", id] if events => Route::Subscription(id.to_string()),
            _ => return None,
        })
    }

    /// A replayed tree: live routes first, then the recorded documents.
    fn parse_replay(st: &SimState, path: &str) -> Option<Route> {
        let replay = st.fixed.replay.as_ref()?;
        let tree = &replay.mockup.tree;
        let p = mockup::normalize(path);
        if Route::versions(p) {
            return Some(Route::Versions);
        }
        for (i, s) in replay.systems().iter().enumerate() {
            if p == s.path || p == s.key {
                return Some(Route::System(i));
            }
            if s.reset_target.as_deref() == Some(p) {
                return Some(Route::Reset(i));
            }
        }
        let segs = segments(p)?;
        let events = st.fixed.events;
        let live = match segs.as_slice() {
            [] => Some(Route::Root),
            ["odata"] if tree.get(p).is_none() => Some(Route::OData),
            ["$metadata"] => Some(Route::Metadata),
            ["SessionService", "Sessions"] => Some(Route::Sessions),
            ["SessionService", "Sessions", "Members"] => Some(Route::SessionMembers),
            ["SessionService", "Sessions", id] => Some(Route::Session(id.to_string())),
            ["EventService"] if tree.get(EVENT_SERVICE).is_some() => Some(Route::EventService),
            ["EventService", "SSE"] if events => Some(Route::Sse),
            ["EventService", "Subscriptions"] if events => Some(Route::Subscriptions),
            ["EventService", "Subscriptions", id] if events && tree.get(p).is_none() => {
                Some(Route::Subscription(id.to_string()))
            }
            _ => None,
        };
        if live.is_some() {
            return live;
        }
        let (key, res) = tree.get(p)?;
        Some(match res {
            Resource::Xml(_) => Route::Metadata,
            _ => Route::Doc(key.to_string()),
        })
    }

    /// Answered without credentials: what a client reads to find out what the service is.
    pub(super) fn is_public(&self) -> bool {
        matches!(
            self,
            Route::Versions | Route::Root | Route::OData | Route::Metadata
        )
    }

    pub(super) fn is_login(&self) -> bool {
        matches!(self, Route::Sessions | Route::SessionMembers)
    }

    pub(super) fn methods(&self) -> &'static [Method] {
        const GET: &[Method] = &[Method::GET, Method::HEAD];
        match self {
            Route::System(_) => &[Method::GET, Method::HEAD, Method::PATCH],
            Route::Reset(_) => &[Method::POST],
            Route::Sessions => &[Method::GET, Method::HEAD, Method::POST],
            Route::SessionMembers => &[Method::POST],
            Route::Session(_) | Route::Subscription(_) => {
                &[Method::GET, Method::HEAD, Method::DELETE]
            }
            Route::Sse => &[Method::GET],
            _ => GET,
        }
    }
}
