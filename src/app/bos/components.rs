//! BOS components through the API: list filters and paging, PUT/PATCH with BOS's auto fields and
//! merge (docs/bos.md, "Component writes"), the 409 guard on actual state, and applystaged
//! (docs/bos.md, "applystaged").
//!
//! Writes from here use compare-and-set too: a PATCH reads, merges and writes back only if no
//! operator wrote the component in between (it retries a few times if one did).

use std::collections::HashMap;

use chrono::Utc;

use super::Scope;
use crate::app::{App, AppError, AppResult};
use crate::model::boot_component::{self, BootComponent, DesiredState, StagedState};
use crate::model::component_patch::ComponentPatch;
use crate::model::{Action, Operation, Phase, Status};
use crate::store::Versioned;

#[derive(Debug, Default, Clone)]
pub struct ComponentFilter {
    pub ids: Option<Vec<String>>,
    pub session: Option<String>,
    pub staged_session: Option<String>,
    pub enabled: Option<bool>,
    /// `Some(None)`: a phase BOS does not have (matches nothing).
    pub phase: Option<Option<Phase>>,
    pub status: Option<Vec<Status>>,
    pub start_after_id: Option<String>,
    pub page_size: usize,
}

/// How a bulk PATCH names its components.
pub enum BulkPatch {
    /// One patch per component, each naming its `id`.
    List(Vec<ComponentPatch>),
    /// One patch over the components with these ids, or of this session.
    Filter {
        patch: Box<ComponentPatch>,
        ids: Option<Vec<String>>,
        session: Option<String>,
    },
}

#[derive(Debug, Default)]
pub struct ApplyStaged {
    pub succeeded: Vec<String>,
    pub failed: Vec<String>,
    pub ignored: Vec<String>,
}

fn checked(c: BootComponent, what: &str) -> AppResult<BootComponent> {
    boot_component::check(&c).map_err(|e| AppError::bad(format!("{what}: {e}")))?;
    Ok(c)
}

impl App {
    /// The patch with BOS's auto fields applied (the reported token looked up).
    async fn with_auto_fields(&self, p: ComponentPatch) -> AppResult<ComponentPatch> {
        let known = match p.reported_token() {
            Some(tok) => self.store.get_boot_token(tok).await?,
            None => None,
        };
        Ok(p.with_auto_fields(known.as_ref()))
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
                || f.phase.is_some_and(|p| p != Some(c.status.phase))
                || f.status
                    .as_ref()
                    .is_some_and(|st| !st.contains(&c.derived_status()))
            {
                continue;
            }
            out.push(c);
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
            .map(|v| v.value)
            .ok_or_else(|| Self::not_found_component(id, scope))
    }

    /// PUT one or many: whole records (auto fields applied). Tenancy is ignored, as in BOS.
    pub async fn put_boot_components(
        &self,
        docs: Vec<ComponentPatch>,
    ) -> AppResult<Vec<BootComponent>> {
        let now = Utc::now();
        let mut out = Vec::new();
        for (i, d) in docs.into_iter().enumerate() {
            let Some(id) = d.id.clone().filter(|id| !id.is_empty()) else {
                return Err(AppError::bad(format!("component {i} has no id")));
            };
            let d = self.with_auto_fields(d).await?;
            out.push(checked(d.to_component(&id, now), "component")?);
        }
        self.store.put_boot_components(&out).await?;
        self.bos_pokes.all();
        Ok(out)
    }

    /// Merge `patch` into component `id`, retrying when an operator wrote it meanwhile.
    /// `guard` is the 409 check of single PATCHes.
    async fn patch_one(
        &self,
        id: &str,
        patch: &ComponentPatch,
        guard: bool,
    ) -> AppResult<Option<BootComponent>> {
        let p = self.with_auto_fields(patch.clone()).await?;
        for _ in 0..5 {
            let Some(Versioned { value, generation }) = self.store.get_boot_component(id).await?
            else {
                return Ok(None);
            };
            if guard
                && p.actual_state.is_some()
                && value.enabled
                && value.derived_status() != Status::Stable
                && !value.last_action.is(Action::PoweringOn)
            {
                return Err(AppError::Conflict(format!(
                    "Actual state can not be updated: component '{id}' is being acted on ({}); its actual state can be updated once it is powering on or stable",
                    value.derived_status()
                )));
            }
            let mut c = value;
            p.apply(&mut c, Utc::now());
            let c = checked(c, "component patch")?;
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
        p: ComponentPatch,
    ) -> AppResult<BootComponent> {
        if !scope.owns(id) {
            return Err(Self::not_found_component(id, scope));
        }
        let c = self
            .patch_one(id, &p, true)
            .await?
            .ok_or_else(|| Self::not_found_component(id, scope))?;
        // A node's own report (bos-reporter) belongs on its boot timeline.
        if let Some(tok) = p.actual_state.as_ref().and_then(|a| a.bss_token.as_deref())
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
        Ok(c)
    }

    pub async fn patch_boot_components(
        &self,
        scope: &Scope,
        bulk: BulkPatch,
        skip_bad_ids: bool,
    ) -> AppResult<Vec<BootComponent>> {
        let items: Vec<(String, ComponentPatch)> = match bulk {
            BulkPatch::List(list) => {
                let mut v = Vec::new();
                for (i, p) in list.into_iter().enumerate() {
                    let id =
                        p.id.clone()
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| AppError::bad(format!("component {i} has no id")))?;
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
                ids.into_iter().map(|id| (id, (*patch).clone())).collect()
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
                out.push(c);
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

    /// `POST /v2/applystaged` (docs/bos.md, "applystaged").
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
                Some(s) => match s.operation {
                    Operation::Shutdown if !staged.is_empty() => {
                        Err("a staged shutdown must have empty boot artifacts".into())
                    }
                    Operation::Boot | Operation::Reboot
                        if staged.kernel.is_empty()
                            || staged.initrd.is_empty()
                            || staged.kernel_parameters.is_empty() =>
                    {
                        Err("the staged boot artifacts are incomplete".into())
                    }
                    op => {
                        if op == Operation::Reboot {
                            c.actual_state = Default::default();
                        }
                        c.desired_state = DesiredState {
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
            c.act(Action::ApplyStaged, Utc::now());
            if opts.clear_stage {
                c.staged_state = StagedState::default();
            }
            c.set_override(Some(Status::OnHold));
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
