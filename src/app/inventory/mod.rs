//! Inventory use cases (the HSM subset): components, Ethernet interfaces, groups,
//! partitions, Redfish endpoints and lock status.
//!
//! Rules kept from HSM: a POST of existing components keeps their State, Flag, Subtype,
//! NetType, Arch and Class unless `Force` is set; a MAC is registered once; a component is
//! in at most one partition and in at most one group per `exclusiveGroup`; group and
//! partition members must be known components. Added here: NIDs are unique, because BSS
//! resolves `nid=` to exactly one node. Every write that changes what a booting node
//! resolves to drops the boot read model (`App::changed`); a change to a BMC's endpoint
//! pokes discovery instead, which is the only thing that talks to BMCs. One file per
//! record family; the filters and patches the API builds are defined beside their use cases.

mod components;
mod endpoints;
mod groups;
mod interfaces;

pub use components::{ComponentFilter, ComponentPatch, LockStatus};
pub use endpoints::without_password;
pub use interfaces::{EthernetFilter, EthernetPatch};

use super::AppError;
use crate::store::StoreError;

/// Whether `v` is one of `wanted` (case-insensitive); an empty `wanted` matches anything.
fn any_eq(wanted: &[String], v: Option<&str>) -> bool {
    wanted.is_empty() || v.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
}

fn join_ids<T: std::fmt::Display>(ids: &[T]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A store conflict as a 409 whose message `why` builds from what clashed; any other store
/// error as it is.
fn conflict_as(e: StoreError, why: impl FnOnce(&str) -> String) -> AppError {
    match e {
        StoreError::Conflict { what } => AppError::Conflict(why(&what)),
        e => e.into(),
    }
}
