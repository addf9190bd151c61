//! Session setup (docs/bos.md, "Session setup"): turn each pending session into desired (or
//! staged) state on its components, then mark it running — or complete with an error that says
//! why no node could be acted on.
//!
//! Nodes come from the inventory: a boot set's `node_list`, the members of its `node_groups` and
//! the nodes with its `node_roles_groups`; then the session's limit, locks, the tenant's nodes,
//! the arch filter and (unless `include_disabled`) the enabled flag. Unlike BOS, a node the
//! inventory knows but BOS has no component for yet is given one here rather than dropped (BOS
//! waits for its discovery operator). Which nodes and what state: `session_plan`.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;

use super::BosContext;
use super::session_plan::{Inventory, Plan, plan};
use crate::model::Session;
use crate::model::boot_component::{BootComponent, DesiredState, StagedState, timestamp};
use crate::model::bos_v1::V1Operation;
use crate::model::{Action, Operation, SessionStatus, Status};
use crate::operators::{Operator, OperatorResult};

pub struct SessionSetup(pub BosContext);

/// Why a session could not be set up (its `status.error`).
type SetupError = String;

/// A v1 session with a stage still to run, or whose earlier stages found nodes.
fn more_stages_or_earlier_nodes(s: &Session) -> bool {
    s.v1.as_ref()
        .is_some_and(|r| r.has_next() || !s.components.is_empty())
}

impl SessionSetup {
    async fn setup(&self, s: &mut Session, inv: &Inventory) -> Result<Vec<String>, SetupError> {
        let ctx = &self.0;
        let t = match ctx
            .store
            .get_session_template(s.tenant.as_deref().unwrap_or(""), &s.template_name)
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(format!(
                    "Session template '{}' does not exist",
                    s.template_name
                ));
            }
            Err(e) => return Err(crate::errors::chain(&e)),
        };
        let Plan {
            nodes: mut plan,
            members,
        } = plan(
            &*ctx.store,
            &*ctx.boot,
            &ctx.options_doc().await,
            s,
            &t,
            inv,
        )
        .await?;
        if let Some(run) = &mut s.v1 {
            for (bs, nodes) in members {
                if let Some(b) = run.boot_sets.get_mut(&bs) {
                    b.nodes = Some(nodes);
                }
            }
        }
        let configure =
            s.v1.as_ref()
                .is_some_and(|r| r.operation == V1Operation::Configure);
        if configure {
            // Configuring without a power action needs a node that is known to run an image.
            let booted: HashSet<String> = ctx
                .store
                .list_boot_components(false)
                .await
                .map_err(|e| crate::errors::chain(&e))?
                .into_iter()
                .filter(|v| !v.value.actual_state.boot_artifacts.is_empty())
                .map(|v| v.value.id)
                .collect();
            plan.retain(|x, _| booted.contains(x));
            if plan.is_empty() && !more_stages_or_earlier_nodes(s) {
                return Err("No nodes were found to act upon: none of the nodes is known to run an image, and configure does not power nodes on.".into());
            }
        }
        if plan.is_empty() {
            // A v1 stage without nodes is skipped, unless the whole session has none.
            if more_stages_or_earlier_nodes(s) {
                return Ok(Vec::new());
            }
            return Err("No nodes were found to act upon.".into());
        }
        // Nodes the inventory knows but BOS does not yet: give them a component.
        let existing: HashSet<String> = ctx
            .store
            .list_boot_components(false)
            .await
            .map_err(|e| crate::errors::chain(&e))?
            .into_iter()
            .map(|v| v.value.id)
            .collect();
        let now = ctx.clock.now();
        let new: Vec<BootComponent> = plan
            .keys()
            .filter(|x| !existing.contains(*x))
            .map(|x| BootComponent::discovered(x, now))
            .collect();
        if !new.is_empty() {
            ctx.store
                .put_boot_components(&new)
                .await
                .map_err(|e| crate::errors::chain(&e))?;
        }
        let ids: HashSet<String> = plan.keys().cloned().collect();
        let ts = timestamp(now);
        ctx.update(&ids, |c| {
            let Some((arts, cfg)) = plan.get(&c.id) else {
                return false;
            };
            if s.stage {
                c.staged_state = StagedState {
                    boot_artifacts: arts.clone(),
                    configuration: cfg.clone(),
                    session: if s.operation == Operation::Shutdown {
                        String::new()
                    } else {
                        s.name.clone()
                    },
                    last_updated: Some(ts.clone()),
                };
                c.error.clear();
                return true;
            }
            let arts = if configure {
                c.actual_state.boot_artifacts.clone()
            } else {
                arts.clone()
            };
            c.desired_state = DesiredState {
                boot_artifacts: arts,
                configuration: cfg.clone(),
                bss_token: String::new(),
                last_updated: Some(ts.clone()),
            };
            if s.operation == Operation::Reboot {
                c.actual_state = Default::default();
            }
            c.session = s.name.clone();
            c.enabled = true;
            c.error.clear();
            c.event_stats = Default::default();
            c.set_override(Some(Status::OnHold));
            c.act(Action::SessionSetup, now);
            true
        })
        .await
        .map_err(|e| crate::errors::chain(&e))?;
        Ok(plan.into_keys().collect())
    }
}

#[async_trait]
impl Operator for SessionSetup {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let sessions = ctx.store.list_sessions().await?;
        let pending: Vec<Session> = sessions
            .into_iter()
            .filter(|s| s.is(SessionStatus::Pending))
            .collect();
        if pending.is_empty() {
            return Ok(serde_json::json!({"pending": 0}));
        }
        let inv = Inventory::load(&*ctx.store).await?;
        let mut report = Vec::new();
        for mut s in pending {
            let now = ctx.clock.now();
            if let Some(run) = &mut s.v1
                && let Some(st) = run.stages.get_mut(run.stage)
            {
                st.start = Some(timestamp(now));
            }
            let outcome = self.setup(&mut s, &inv).await;
            crate::faults::crash_point("bos.session_setup.components");
            match &outcome {
                Ok(nodes) => {
                    s.status.status = SessionStatus::Running;
                    // A later v1 stage adds its nodes to the earlier ones'.
                    let mut all: BTreeSet<&str> =
                        s.components.split(',').filter(|x| !x.is_empty()).collect();
                    all.extend(nodes.iter().map(String::as_str));
                    s.components = all.into_iter().collect::<Vec<_>>().join(",");
                }
                Err(e) => {
                    if let Some(run) = &mut s.v1
                        && let Some(st) = run.stages.get_mut(run.stage)
                    {
                        st.end = Some(timestamp(now));
                    }
                    s.complete(now, Some(e.clone()))
                }
            }
            match ctx
                .store
                .update_session_if(&s, SessionStatus::Pending)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    // Stopped or deleted while it was being set up: its nodes are not
                    // driven by it.
                    if let Ok(nodes) = &outcome {
                        let ids: HashSet<String> = nodes.iter().cloned().collect();
                        let name = s.name.clone();
                        let undone = ctx
                            .update(&ids, |c| {
                                let mine = c.session == name && c.enabled;
                                if mine {
                                    c.enabled = false;
                                }
                                mine
                            })
                            .await;
                        if let Err(e) = undone {
                            tracing::warn!(session = %s.name, error = %crate::errors::chain(&e), "cannot release the nodes of a session stopped during its setup");
                        }
                    }
                    report.push(serde_json::json!({"session": s.name, "stopped": true}));
                    continue;
                }
                Err(e) => {
                    report.push(
                        serde_json::json!({"session": s.name, "error": crate::errors::chain(&e)}),
                    );
                    continue;
                }
            }
            if outcome.is_err() {
                let _ = ctx.sessions.save_session_status(&s).await;
            }
            report.push(match outcome {
                Ok(n) => serde_json::json!({"session": s.name, "nodes": n.len()}),
                Err(e) => serde_json::json!({"session": s.name, "error": e}),
            });
        }
        ctx.pokes.all();
        Ok(serde_json::json!({ "sessions": report }))
    }
}
