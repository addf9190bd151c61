//! Bookkeeping operators (docs/bos.md, "Operators" and "Lifecycle"): session completion (a
//! running session with no enabled component and no staged component left is complete, and its
//! extended status is saved; a BOS v1 session with a stage left goes back to pending for it), session cleanup (completed sessions older than
//! `cleanup_completed_session_ttl` are deleted) and actual-state cleanup (actual state not
//! reported for `component_actual_state_ttl` is forgotten).

use std::collections::HashSet;

use async_trait::async_trait;

use super::BosContext;
use crate::model::Session;
use crate::model::boot_component::{ActualState, parse_timestamp, timestamp};
use crate::model::{Action, SessionStatus};
use crate::operators::{Operator, OperatorResult};

pub struct SessionCompletion(pub BosContext);

#[async_trait]
impl Operator for SessionCompletion {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let sessions = ctx.store.list_sessions().await?;
        let running: Vec<_> = sessions
            .into_iter()
            .filter(|s| s.is(SessionStatus::Running))
            .collect();
        if running.is_empty() {
            return Ok(serde_json::json!({"running": 0}));
        }
        let comps = ctx.store.list_boot_components(false).await?;
        let mut completed = Vec::new();
        for mut s in running {
            let owned: Option<HashSet<String>> = match &s.tenant {
                Some(t) => ctx
                    .store
                    .get_tenant(t)
                    .await?
                    .map(|t| t.xnames.into_iter().collect()),
                None => None,
            };
            let busy = comps.iter().any(|v| {
                let c = &v.value;
                owned.as_ref().is_none_or(|o| o.contains(&c.id))
                    && ((c.session == s.name && c.enabled) || c.staged_state.session == s.name)
            });
            if busy {
                continue;
            }
            let now = ctx.clock.now();
            if let Some(run) = &mut s.v1
                && let Some(st) = run.stages.get_mut(run.stage)
            {
                st.end = Some(timestamp(now));
            }
            // A v1 session runs its next stage rather than completing (docs/bos.md, "BOS v1").
            if let Some(run) = s.v1.as_mut().filter(|r| r.has_next()) {
                run.stage += 1;
                s.status.status = SessionStatus::Pending;
                if !ctx
                    .store
                    .update_session_if(&s, SessionStatus::Running)
                    .await?
                {
                    continue; // stopped meanwhile
                }
                ctx.pokes.setup.poke();
                tracing::info!(session = %s.name, stage = run_stage(&s), "v1 session: next stage");
                continue;
            }
            s.complete(now, None);
            if !ctx
                .store
                .update_session_if(&s, SessionStatus::Running)
                .await?
            {
                continue; // stopped (or deleted) meanwhile: its own end stands
            }
            if let Err(e) = ctx.sessions.save_session_status(&s).await {
                tracing::warn!(session = %s.name, error = %e, "cannot save the session status");
            }
            tracing::info!(session = %s.name, "session complete");
            completed.push(s.name);
        }
        Ok(serde_json::json!({ "completed": completed }))
    }
}

fn run_stage(s: &Session) -> usize {
    s.v1.as_ref().map_or(0, |r| r.stage)
}

pub struct SessionCleanup(pub BosContext);

#[async_trait]
impl Operator for SessionCleanup {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let ttl = ctx.options().await.cleanup_completed_session_ttl;
        if ttl.is_zero() {
            return Ok(serde_json::json!({"disabled": true}));
        }
        let cutoff = ctx.clock.now() - chrono::Duration::from_std(ttl).unwrap_or_default();
        let sessions = ctx.store.list_sessions().await?;
        let old: Vec<(String, String)> = sessions
            .into_iter()
            .filter(|s| s.is(SessionStatus::Complete) && s.started().is_some_and(|t| t <= cutoff))
            .map(|s| (s.tenant.unwrap_or_default(), s.name))
            .collect();
        let n = ctx.store.delete_sessions(&old).await?;
        Ok(serde_json::json!({"deleted": n}))
    }
}

pub struct ActualStateCleanup(pub BosContext);

#[async_trait]
impl Operator for ActualStateCleanup {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let ttl = ctx.options().await.component_actual_state_ttl;
        let now = ctx.clock.now();
        let cutoff = now - chrono::Duration::from_std(ttl).unwrap_or_default();
        let stale = |a: &ActualState| {
            !a.boot_artifacts.is_empty()
                && a.last_updated
                    .as_deref()
                    .and_then(parse_timestamp)
                    .is_none_or(|t| t < cutoff)
        };
        let comps = ctx.store.list_boot_components(false).await?;
        let ids: HashSet<String> = comps
            .iter()
            .filter(|v| stale(&v.value.actual_state))
            .map(|v| v.value.id.clone())
            .collect();
        if ids.is_empty() {
            return Ok(serde_json::json!({"cleared": 0}));
        }
        let written = ctx
            .update(&ids, |c| {
                if !stale(&c.actual_state) {
                    return false;
                }
                c.actual_state = ActualState::default();
                c.act(Action::ActualStateCleanup, now);
                true
            })
            .await?;
        Ok(serde_json::json!({"cleared": written.len()}))
    }
}
