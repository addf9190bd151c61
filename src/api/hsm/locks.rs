//! `locks/status`: which components are locked or reserved.
//!
//! rackboot offers no lock or reservation operations, so this is a read-only view of the
//! components' `Locked` and `ReservationDisabled` flags, with `Reserved` always false;
//! clients that check before acting (and BOS, which skips locked nodes) see the same flags.

use axum::Json;
use axum::extract::State;

use super::S;
use super::types::Vocabulary::{Closed, Open};
use super::types::component::{LockList, LockOut, LockQueryOut, XnamesBody};
use super::types::{canon_all, xnames};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::ApiResult;
use crate::app::inventory::ComponentFilter;
use crate::model::component::{ROLES, STATES, SUBROLES, TYPES};

/// `GET /locks/status`: every component the filter selects.
pub(super) async fn status(State(app): S, q: Pairs) -> ApiResult<Json<LockList>> {
    let f = ComponentFilter {
        types: canon_all("type", q.all("type"), TYPES, Closed)?,
        states: canon_all("state", q.all("state"), STATES, Closed)?,
        roles: canon_all("role", q.all("role"), ROLES, Open)?,
        subroles: canon_all("subrole", q.all("subrole"), SUBROLES, Open)?,
        ..Default::default()
    };
    let locked = q.bool("locked")?;
    let reserved = q.bool("reserved")?;
    let disabled = q.bool("reservationDisabled")?;
    let components = app
        .lock_status(&f)
        .await?
        .into_iter()
        .filter(|l| locked.is_none_or(|v| l.locked == v))
        .filter(|l| reserved.is_none_or(|v| l.reserved == v))
        .filter(|l| disabled.is_none_or(|v| l.reservation_disabled == v))
        .map(LockOut::from)
        .collect();
    Ok(Json(LockList { components }))
}

/// `POST /locks/status`: the named components, and the names that are not components.
pub(super) async fn status_of(
    State(app): S,
    Body(b): Body<XnamesBody>,
) -> ApiResult<Json<LockQueryOut>> {
    // No ComponentIDs is no filter, as HSM accepts it: every component's status.
    let ids = xnames(&b.ids)?;
    let found = app
        .lock_status(&ComponentFilter {
            ids: ids.clone(),
            ..Default::default()
        })
        .await?;
    let not_found = ids
        .iter()
        .filter(|i| !found.iter().any(|l| &l.id == *i))
        .map(|i| i.to_string())
        .collect();
    Ok(Json(LockQueryOut {
        components: found.into_iter().map(LockOut::from).collect(),
        not_found,
    }))
}
