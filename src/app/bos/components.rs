//! BOS components through the API: list filters and paging, PUT/PATCH with BOS's auto
//! fields and merge (bos.md §4.4), the 409 guard on actual state, and applystaged (§4.5).
//!
//! Writes from here use compare-and-set too: a PATCH reads, merges and writes back only if
//! no operator wrote the component in between (it retries a few times if one did).

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Map, Value};

use super::Scope;
use crate::app::{App, AppError, AppResult};
use crate::model::boot_component::{self, BootArtifacts, BootComponent, StagedState};
use crate::store::Versioned;

#[derive(Debug, Default, Clone)]
pub struct ComponentFilter {
    pub ids: Option<Vec<String>>,
    pub session: Option<String>,
    pub staged_session: Option<String>,
    pub enabled: Option<bool>,
    pub phase: Option<String>,
    pub status: Option<Vec<String>>,
    pub start_after_id: Option<String>,
    pub page_size: usize,
}

/// How a bulk PATCH names its components.
pub enum BulkPatch {
    List(Vec<Map<String, Value>>),
    Filter {
        patch: Map<String, Value>,
        ids: Option<Vec<String>>,
        session: Option<String>,
    },
}

#[derive(Debug, Default, serde::Serialize)]
pub struct ApplyStaged {
    pub succeeded: Vec<String>,
    pub failed: Vec<String>,
    pub ignored: Vec<String>,
}

fn doc(c: &BootComponent) -> Map<String, Value> {
    match serde_json::to_value(c).expect("component serialises") {
        Value::Object(o) => o,
        _ => unreachable!("a component is an object"),
    }
}

fn from_doc(o: Map<String, Value>, what: &str) -> AppResult<BootComponent> {
    let mut o = o;
    // The derived status is computed on read; whatever a client sends is dropped.
    if let Some(Value::Object(s)) = o.get_mut("status") {
        s.remove("status");
    }
    let c: BootComponent = serde_json::from_value(Value::Object(o))
        .map_err(|e| AppError::bad(format!("{what}: {e}")))?;
    boot_component::check(&c).map_err(|e| AppError::bad(format!("{what}: {e}")))?;
    Ok(c)
}

impl App {
    async fn token_artifacts(
        &self,
        payload: &Map<String, Value>,
    ) -> AppResult<Option<(String, BootArtifacts)>> {
        let Some(tok) = payload
            .get("actual_state")
            .and_then(|a| a.get("bss_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        Ok(self
            .store
            .get_boot_token(tok)
            .await?
            .map(|a| (tok.to_string(), a)))
    }

    async fn with_auto_fields(&self, payload: &mut Map<String, Value>) -> AppResult<()> {
        let known = self.token_artifacts(payload).await?;
        boot_component::auto_fields(payload, Utc::now(), |t| {
            known
                .as_ref()
                .filter(|(k, _)| k == t)
                .map(|(_, a)| a.clone())
        });
        Ok(())
    }

    pub async fn list_boot_components(
        &self,
        scope: &Scope,
        f: &ComponentFilter,
    ) -> AppResult<Vec<BootComponent>> {
        let owned = scope.owned();
        let all = self.store.list_boot_components(false).await?;
        let mut out = Vec::new();
        for v in all {
            let c = v.value;
            if owned.as_ref().is_some_and(|o| !o.contains(c.id.as_str())) {
                continue;
            }
            if let Some(after) = &f.start_after_id
                && c.id.as_str() <= after.as_str()
            {
                continue;
            }
            if f.ids.as_ref().is_some_and(|ids| !ids.contains(&c.id))
                || f.session.as_ref().is_some_and(|s| &c.session != s)
                || f.staged_session
                    .as_ref()
                    .is_some_and(|s| &c.staged_state.session != s)
                || f.enabled.is_some_and(|e| c.enabled != e)
                || f.phase.as_ref().is_some_and(|p| &c.status.phase != p)
                || f.status
                    .as_ref()
                    .is_some_and(|st| !st.iter().any(|s| s == c.derived_status()))
            {
                continue;
            }
            out.push(c.with_derived_status());
            if f.page_size > 0 && out.len() >= f.page_size {
                break;
            }
        }
        Ok(out)
    }

    fn not_found_component(id: &str, scope: &Scope) -> AppError {
        AppError::not_found(format!("Component '{id}' does not exist{}", scope.suffix()))
    }

    pub async fn get_boot_component(&self, scope: &Scope, id: &str) -> AppResult<BootComponent> {
        if !scope.owns(id) {
            return Err(Self::not_found_component(id, scope));
        }
        self.store
            .get_boot_component(id)
            .await?
            .map(|v| v.value.with_derived_status())
            .ok_or_else(|| Self::not_found_component(id, scope))
    }

    /// PUT one or many: whole records (auto fields applied). Tenancy is ignored, as in BOS.
    pub async fn put_boot_components(
        &self,
        docs: Vec<Map<String, Value>>,
    ) -> AppResult<Vec<BootComponent>> {
        let mut out = Vec::new();
        for (i, mut d) in docs.into_iter().enumerate() {
            if d.get("id")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(AppError::bad(format!("component {i} has no id")));
            }
            self.with_auto_fields(&mut d).await?;
            out.push(from_doc(d, "component")?);
        }
        self.store.put_boot_components(&out).await?;
        self.bos_pokes.all();
        Ok(out
            .into_iter()
            .map(BootComponent::with_derived_status)
            .collect())
    }

    /// Merge `patch` into component `id`, retrying when an operator wrote it meanwhile.
    /// `guard` is the 409 check of single PATCHes.
    async fn patch_one(
        &self,
        id: &str,
        patch: &Map<String, Value>,
        guard: bool,
    ) -> AppResult<Option<BootComponent>> {
        let mut p = patch.clone();
        p.remove("id");
        self.with_auto_fields(&mut p).await?;
        for _ in 0..5 {
            let Some(Versioned { value, generation }) = self.store.get_boot_component(id).await?
            else {
                return Ok(None);
            };
            if guard
                && p.contains_key("actual_state")
                && value.enabled
                && value.derived_status() != "stable"
                && value.last_action.action != "powering_on"
            {
                return Err(AppError::Conflict(format!(
                    "Actual state can not be updated: component '{id}' is being acted on ({}); its actual state can be updated once it is powering on or stable",
                    value.derived_status()
                )));
            }
            let mut d = doc(&value);
            boot_component::merge(&mut d, p.clone());
            let c = from_doc(d, "component patch")?;
            let conflicts = self
                .store
                .update_boot_components(&[Versioned {
                    value: c.clone(),
                    generation,
                }])
                .await?;
            if conflicts.is_empty() {
                return Ok(Some(c));
            }
        }
        Err(AppError::Conflict(format!(
            "Component '{id}' kept changing while it was patched; try again"
        )))
    }

    pub async fn patch_boot_component(
        &self,
        scope: &Scope,
        id: &str,
        patch: Value,
    ) -> AppResult<BootComponent> {
        let Value::Object(p) = patch else {
            return Err(AppError::bad("the component patch must be a JSON object"));
        };
        if !scope.owns(id) {
            return Err(Self::not_found_component(id, scope));
        }
        let c = self
            .patch_one(id, &p, true)
            .await?
            .ok_or_else(|| Self::not_found_component(id, scope))?;
        // A node's own report (bos-reporter) belongs on its boot timeline.
        if let Some(tok) = p
            .get("actual_state")
            .and_then(|a| a.get("bss_token"))
            .and_then(Value::as_str)
            && let Ok(x) = crate::model::Xname::parse(id)
        {
            self.record_boot_event(
                &x,
                crate::app::timeline::BootEvent {
                    time: Utc::now(),
                    what: "reported".into(),
                    bytes: 0,
                    duration_ms: 0,
                    client: None,
                    outcome: if c.actual_state.bss_token == tok
                        && !c.actual_state.boot_artifacts.is_empty()
                    {
                        "known token".into()
                    } else {
                        "unknown token".into()
                    },
                    token: Some(tok.to_string()),
                    file: None,
                    repeats: 0,
                    last_time: None,
                },
            );
        }
        self.bos_pokes.all();
        Ok(c.with_derived_status())
    }

    pub async fn patch_boot_components(
        &self,
        scope: &Scope,
        bulk: BulkPatch,
        skip_bad_ids: bool,
    ) -> AppResult<Vec<BootComponent>> {
        let items: Vec<(String, Map<String, Value>)> = match bulk {
            BulkPatch::List(list) => {
                let mut v = Vec::new();
                for (i, p) in list.into_iter().enumerate() {
                    let id = p
                        .get("id")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| AppError::bad(format!("component {i} has no id")))?
                        .to_string();
                    v.push((id, p));
                }
                v
            }
            BulkPatch::Filter {
                patch,
                ids,
                session,
            } => {
                let ids: Vec<String> = match (ids, session) {
                    (Some(ids), None) => ids,
                    (None, Some(s)) => self
                        .store
                        .list_boot_components(false)
                        .await?
                        .into_iter()
                        .filter(|v| v.value.session == s)
                        .map(|v| v.value.id)
                        .collect(),
                    _ => {
                        return Err(AppError::bad(
                            "filters must have exactly one of ids and session",
                        ));
                    }
                };
                ids.into_iter().map(|id| (id, patch.clone())).collect()
            }
        };
        // Check every id first, so a bad one writes nothing.
        let named: Vec<String> = items.iter().map(|(id, _)| id.clone()).collect();
        let known: std::collections::HashSet<String> = self
            .store
            .get_boot_components(&named)
            .await?
            .into_iter()
            .map(|v| v.value.id)
            .collect();
        let mut todo = Vec::new();
        for (id, p) in items {
            if !known.contains(&id) || !scope.owns(&id) {
                if skip_bad_ids {
                    continue;
                }
                return Err(Self::not_found_component(&id, scope));
            }
            todo.push((id, p));
        }
        let mut out = Vec::new();
        for (id, p) in todo {
            if let Some(c) = self.patch_one(&id, &p, false).await? {
                out.push(c.with_derived_status());
            }
        }
        self.bos_pokes.all();
        Ok(out)
    }

    pub async fn delete_boot_component(&self, scope: &Scope, id: &str) -> AppResult<()> {
        if scope.owns(id) && self.store.delete_boot_component(id).await? {
            Ok(())
        } else {
            Err(Self::not_found_component(id, scope))
        }
    }

    /// `POST /v2/applystaged` (bos.md §4.5).
    pub async fn apply_staged(&self, scope: &Scope, xnames: Vec<String>) -> AppResult<ApplyStaged> {
        let opts = self.options().await?;
        let mut out = ApplyStaged::default();
        let mut sessions: HashMap<String, Option<crate::model::Session>> = HashMap::new();
        for x in xnames {
            if !scope.owns(&x) {
                out.ignored.push(x);
                continue;
            }
            let Some(Versioned {
                value: mut c,
                generation,
            }) = self.store.get_boot_component(&x).await?
            else {
                out.ignored.push(x);
                continue;
            };
            let staged_session = c.staged_state.session.clone();
            if staged_session.is_empty() {
                out.ignored.push(x);
                continue;
            }
            if !sessions.contains_key(&staged_session) {
                let s = self.store.get_session(scope.key(), &staged_session).await?;
                sessions.insert(staged_session.clone(), s);
            }
            let staged = c.staged_state.boot_artifacts.clone();
            let outcome: Result<(), String> = match sessions.get(&staged_session).cloned().flatten()
            {
                None => Err("Staged session no longer exists".into()),
                Some(s) => match s.operation.as_str() {
                    "shutdown" if !staged.is_empty() => {
                        Err("a staged shutdown must have empty boot artifacts".into())
                    }
                    "boot" | "reboot"
                        if staged.kernel.is_empty()
                            || staged.initrd.is_empty()
                            || staged.kernel_parameters.is_empty() =>
                    {
                        Err("the staged boot artifacts are incomplete".into())
                    }
                    op => {
                        if op == "reboot" {
                            c.actual_state = Default::default();
                        }
                        c.desired_state = crate::model::boot_component::DesiredState {
                            boot_artifacts: staged,
                            configuration: c.staged_state.configuration.clone(),
                            bss_token: String::new(),
                            last_updated: Some(boot_component::timestamp(Utc::now())),
                        };
                        c.enabled = true;
                        Ok(())
                    }
                },
            };
            c.session = staged_session;
            c.act("apply_staged", Utc::now());
            if opts.clear_stage {
                c.staged_state = StagedState::default();
            }
            c.status.status_override = "on_hold".into();
            c.event_stats = Default::default();
            let failed = outcome.is_err();
            if let Err(e) = outcome {
                c.error = e;
                c.enabled = false;
            } else {
                c.error.clear();
            }
            let conflicts = self
                .store
                .update_boot_components(&[Versioned {
                    value: c,
                    generation,
                }])
                .await?;
            if failed || !conflicts.is_empty() {
                out.failed.push(x);
            } else {
                out.succeeded.push(x);
            }
        }
        self.bos_pokes.all();
        Ok(out)
    }
}
