//! Component handlers: list (filters, paging), get, PUT one or many, PATCH one or many (a
//! list of patches, or one patch over `filters`), delete, and applystaged.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::types::{self, ApplyStagedBody, ApplyStagedResult, BootComponent};
use super::{BosError, R, S, Tenant, no_content};
use crate::api::extract::{Body, Pairs};
use crate::app::bos::components::{BulkPatch, ComponentFilter};
use crate::model::component_patch::ComponentPatch;
use crate::model::{Phase, Status};

fn shown(list: Vec<crate::model::BootComponent>) -> Json<Vec<BootComponent>> {
    Json(list.iter().map(BootComponent::from).collect())
}

fn filter(q: &Pairs) -> R<ComponentFilter> {
    let page_size = match q.first("page_size") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 1_048_576)
            .ok_or_else(|| {
                BosError::bad(format!(
                    "page_size '{v}' is not an integer from 0 to 1048576"
                ))
            })?,
    };
    // The contract's bounds on the filters (BOS's request validation refuses the rest).
    if let Some(st) = q.all("status").iter().find(|s| s.chars().count() > 512) {
        return Err(BosError::bad(format!(
            "status filter '{st}' is longer than 512 characters"
        )));
    }
    // `ids` is one string in the contract (V2ComponentId, at most 127 characters), commas and all.
    if let Some((_, v)) =
        q.0.iter()
            .find(|(k, v)| k == "ids" && (v.is_empty() || v.chars().count() > 127))
    {
        return Err(BosError::bad(format!(
            "ids '{v}' is not 1 to 127 characters"
        )));
    }
    if let Some(id) =
        q.0.iter()
            .find(|(k, _)| k == "start_after_id")
            .map(|(_, v)| v)
        && (id.is_empty() || id.chars().count() > 127)
    {
        return Err(BosError::bad(format!(
            "start_after_id '{id}' is not a component id (1 to 127 characters)"
        )));
    }
    for k in ["session", "staged_session"] {
        if let Some(v) = q.first(k)
            && !crate::model::template::valid_name(&v)
        {
            return Err(BosError::bad(format!(
                "{k} filter '{v}' is not a session name"
            )));
        }
    }
    let list = |k: &str| {
        let v = q.all(k);
        (!v.is_empty() || q.first(k).is_some()).then_some(v)
    };
    Ok(ComponentFilter {
        ids: list("ids"),
        session: q.first("session"),
        staged_session: q.first("staged_session"),
        enabled: q.bool("enabled")?,
        // The phase is an enum in the contract (another value is a 400, as BOS validates it);
        // status is free text there, and one BOS does not have matches no component.
        phase: match q.first("phase") {
            None => None,
            Some(p) => Some(Some(Phase::parse(&p).ok_or_else(|| {
                BosError::bad(format!(
                    "phase '{p}' is not one of configuring, powering_off, powering_on or empty"
                ))
            })?)),
        },
        status: list("status").map(|l| l.iter().filter_map(|s| Status::parse(s)).collect()),
        start_after_id: q.first("start_after_id"),
        page_size,
    })
}

/// A JSON array of component documents, each decoded (`what` names them in messages).
fn documents(v: Value, what: &str) -> R<Vec<ComponentPatch>> {
    let Value::Array(items) = v else {
        return Err(BosError::bad(
            "components: expected a JSON array of components",
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::Object(_) => types::component_in(x, what).map_err(BosError::bad),
            _ => Err(BosError::bad(format!(
                "components: item {i} is not an object"
            ))),
        })
        .collect()
}

pub async fn list(State(app): S, Tenant(s): Tenant, q: Pairs) -> R<Json<Vec<BootComponent>>> {
    Ok(shown(app.list_boot_components(&s, &filter(&q)?).await?))
}

pub async fn get(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
) -> R<Json<BootComponent>> {
    Ok(Json((&app.get_boot_component(&s, &id).await?).into()))
}

// A PUT acts on the components as given; its tenant is checked like any other (an unknown
// one is a 400, as BOS answers it) but scopes nothing.
pub async fn put_many(
    State(app): S,
    Tenant(_): Tenant,
    Body(body): Body<Value>,
) -> R<Json<Vec<BootComponent>>> {
    let docs = documents(body, "component")?;
    Ok(shown(app.put_boot_components(docs).await?))
}

pub async fn put(
    State(app): S,
    Tenant(_): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<BootComponent>> {
    if !body.is_object() {
        return Err(BosError::bad("the component must be a JSON object"));
    }
    let mut doc = types::component_in(body, "component").map_err(BosError::bad)?;
    doc.id = Some(id);
    let mut out = app.put_boot_components(vec![doc]).await?;
    Ok(Json((&out.remove(0)).into()))
}

pub async fn patch_many(
    State(app): S,
    Tenant(s): Tenant,
    q: Pairs,
    Body(body): Body<Value>,
) -> R<Json<Vec<BootComponent>>> {
    let skip = q.bool("skip_bad_ids")?.unwrap_or(false);
    let bulk = match body {
        Value::Array(_) => BulkPatch::List(documents(body, "component patch")?),
        Value::Object(mut o) => {
            let patch = match o.remove("patch") {
                Some(p @ Value::Object(_)) => {
                    types::component_in(p, "component patch").map_err(BosError::bad)?
                }
                _ => {
                    return Err(BosError::bad(
                        "expected an array of components or {\"patch\": {...}, \"filters\": {...}}",
                    ));
                }
            };
            let filters = o.remove("filters").unwrap_or(Value::Null);
            // V2ComponentsUpdate: patch and filters only; filters: ids and session only.
            if let Some(k) = o.keys().next() {
                return Err(BosError::bad(format!(
                    "unknown field '{k}': expected patch and filters"
                )));
            }
            if let Some((k, _)) = filters.as_object().and_then(|f| {
                f.iter()
                    .find(|(k, v)| !matches!(k.as_str(), "ids" | "session") || !v.is_string())
            }) {
                return Err(BosError::bad(format!(
                    "filters: '{k}' is not ids or session given as a string"
                )));
            }
            // V2ComponentsFilterByIds: ids is at most 65535 characters (BOS validates it).
            if let Some(n) = filters
                .get("ids")
                .and_then(Value::as_str)
                .map(|s| s.chars().count())
                .filter(|n| *n > 65535)
            {
                return Err(BosError::bad(format!(
                    "filters.ids is {n} characters; at most 65535"
                )));
            }
            // An empty filter is no filter, as BOS reads it ("" is falsy there).
            let ids = filters
                .get("ids")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                });
            let session = filters
                .get("session")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            if let Some(s) = session
                .as_deref()
                .filter(|s| !crate::model::template::valid_name(s))
            {
                return Err(BosError::bad(format!(
                    "filters.session '{s}' is not a session name"
                )));
            }
            BulkPatch::Filter {
                patch: Box::new(patch),
                ids,
                session,
            }
        }
        _ => return Err(BosError::bad("the body must be a JSON array or object")),
    };
    Ok(shown(app.patch_boot_components(&s, bulk, skip).await?))
}

pub async fn patch(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<BootComponent>> {
    if !body.is_object() {
        return Err(BosError::bad("the component patch must be a JSON object"));
    }
    let p = types::component_in(body, "component patch").map_err(BosError::bad)?;
    Ok(Json((&app.patch_boot_component(&s, &id, p).await?).into()))
}

/// The boot plane's PATCH: a node's own report (see `app::bos::reports`).
pub async fn boot_report(
    State(app): S,
    Path(id): Path<String>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Body(body): Body<Value>,
) -> R<Json<BootComponent>> {
    let client = connect.map(|c| c.0.0.ip().to_string());
    if !body.is_object() {
        return Err(BosError::bad("the component patch must be a JSON object"));
    }
    let p = types::component_in(body, "component patch").map_err(BosError::bad)?;
    Ok(Json(
        (&app.accept_boot_report(&id, p, client.as_deref()).await?).into(),
    ))
}

pub async fn delete(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Response> {
    app.delete_boot_component(&s, &id).await?;
    Ok(no_content())
}

pub async fn apply_staged(
    State(app): S,
    Tenant(s): Tenant,
    Body(body): Body<ApplyStagedBody>,
) -> R<Json<ApplyStagedResult>> {
    body.check().map_err(BosError::bad)?;
    let r = app.apply_staged(&s, body.xnames).await?;
    Ok(Json(ApplyStagedResult {
        succeeded: r.succeeded,
        failed: r.failed,
        ignored: r.ignored,
    }))
}
