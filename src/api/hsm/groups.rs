//! `groups`, `partitions` and `memberships`: named sets of components.
//!
//! HSM gives groups and partitions the same API under different names (`/groups/{label}`
//! with `/groups/labels`, `/partitions/{name}` with `/partitions/names`, a `group` or
//! `partition` query filter) and one rule apart, which the app enforces per
//! [`GroupKind`]. So there is one set of handlers, generic over a [`Collection`] that
//! carries those names, the kind and the output shape, and [`routes`] mounts it once per
//! collection; route templates keep each collection's own parameter name, which `/metrics`
//! labels requests by.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use serde::Serialize;

use super::types::group::{
    GroupOut, GroupPatch, GroupWire, MemberId, MembersWire, MembershipOut, PartitionOut,
};
use super::types::{from_value, lookup_xname, xname};
use super::{S, created, deleted};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::{ApiResult, Problem};
use crate::app::App;
use crate::model::{Group, GroupKind};

/// What tells the groups and the partitions API apart.
pub(super) trait Collection: Send + Sync + 'static {
    const KIND: GroupKind;
    /// The collection's path segment under `/hsm/v2`.
    const PATH: &'static str;
    /// The path parameter naming one member set.
    const PARAM: &'static str;
    /// The sub-resource listing just the names.
    const NAMES: &'static str;
    /// The query parameter selecting by name.
    const FILTER: &'static str;
    /// The wire shape of one.
    type Out: Serialize + From<Group> + Send;
}

pub(super) enum Groups {}

impl Collection for Groups {
    const KIND: GroupKind = GroupKind::Group;
    const PATH: &'static str = "groups";
    const PARAM: &'static str = "label";
    const NAMES: &'static str = "labels";
    const FILTER: &'static str = "group";
    type Out = GroupOut;
}

pub(super) enum Partitions {}

impl Collection for Partitions {
    const KIND: GroupKind = GroupKind::Partition;
    const PATH: &'static str = "partitions";
    const PARAM: &'static str = "name";
    const NAMES: &'static str = "names";
    const FILTER: &'static str = "partition";
    type Out = PartitionOut;
}

pub(super) fn routes<K: Collection>() -> Router<Arc<App>> {
    let base = format!("/{}", K::PATH);
    let one = format!("{base}/{{{}}}", K::PARAM);
    Router::new()
        .route(&base, get(list::<K>).post(create::<K>))
        .route(&format!("{base}/{}", K::NAMES), get(names::<K>))
        .route(
            &one,
            get(get_one::<K>).patch(patch::<K>).delete(delete_one::<K>),
        )
        .route(
            &format!("{one}/members"),
            get(members::<K>).post(add_member::<K>),
        )
        .route(
            &format!("{one}/members/{{xname}}"),
            delete(remove_member::<K>),
        )
}

async fn list<K: Collection>(State(app): S, q: Pairs) -> ApiResult<Json<Vec<K::Out>>> {
    let gs = app
        .list_groups(K::KIND, &q.all(K::FILTER), &q.all("tag"))
        .await?;
    Ok(Json(gs.into_iter().map(K::Out::from).collect()))
}

async fn create<K: Collection>(
    State(app): S,
    Body(b): Body<serde_json::Value>,
) -> ApiResult<Response> {
    let g = from_value::<GroupWire>(b)?.into_group(K::KIND)?;
    let g = app.create_group(K::KIND, g).await?;
    Ok(created(vec![format!("/hsm/v2/{}/{}", K::PATH, g.label)]))
}

async fn names<K: Collection>(State(app): S) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(
        app.list_groups(K::KIND, &[], &[])
            .await?
            .into_iter()
            .map(|g| g.label)
            .collect(),
    ))
}

async fn get_one<K: Collection>(State(app): S, Path(l): Path<String>) -> ApiResult<Json<K::Out>> {
    Ok(Json(app.get_group(K::KIND, &l).await?.into()))
}

async fn patch<K: Collection>(
    State(app): S,
    Path(l): Path<String>,
    Body(b): Body<GroupPatch>,
) -> ApiResult<StatusCode> {
    app.patch_group(K::KIND, &l, b.description, b.tags).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_one<K: Collection>(State(app): S, Path(l): Path<String>) -> ApiResult<Response> {
    app.delete_group(K::KIND, &l).await?;
    Ok(deleted(1))
}

async fn members<K: Collection>(
    State(app): S,
    Path(l): Path<String>,
) -> ApiResult<Json<MembersWire>> {
    let g = app.get_group(K::KIND, &l).await?;
    Ok(Json(MembersWire::from(g.members.as_slice())))
}

async fn add_member<K: Collection>(
    State(app): S,
    Path(l): Path<String>,
    Body(b): Body<MemberId>,
) -> ApiResult<Response> {
    let x = xname(&b.id)?;
    app.add_group_member(K::KIND, &l, x.clone()).await?;
    Ok(created(vec![format!(
        "/hsm/v2/{}/{}/members/{x}",
        K::PATH,
        l.to_ascii_lowercase()
    )]))
}

async fn remove_member<K: Collection>(
    State(app): S,
    Path((l, x)): Path<(String, String)>,
) -> ApiResult<Response> {
    app.remove_group_member(K::KIND, &l, &lookup_xname(&x)?)
        .await?;
    Ok(deleted(1))
}

pub(super) async fn list_memberships(
    State(app): S,
    q: Pairs,
) -> ApiResult<Json<Vec<MembershipOut>>> {
    // The components filters, as HSM takes them here (a bad value is a 400, not ignored).
    let f = super::components::filter_from(&q)?;
    let ids: Option<Vec<_>> = if q.0.is_empty() {
        None
    } else {
        Some(
            app.list_components(&f)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect(),
        )
    };
    let m = app.memberships_of(ids.as_deref()).await?;
    Ok(Json(
        m.iter()
            .map(|(id, (g, p))| MembershipOut::new(id, g, p))
            .collect(),
    ))
}

pub(super) async fn get_membership(
    State(app): S,
    Path(x): Path<String>,
) -> ApiResult<Json<MembershipOut>> {
    let id = lookup_xname(&x)?;
    let m = app.memberships_of(Some(std::slice::from_ref(&id))).await?;
    let (g, p) = m
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no such component: {id}")))?;
    Ok(Json(MembershipOut::new(&id, g, p)))
}
