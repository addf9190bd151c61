//! Power use cases: record transitions, read their progress, and read power status.
//!
//! A transition is recorded here and carried out by `operators::power`; nothing here
//! talks to a BMC. Power status is served from [`PowerCache`](crate::power::PowerCache), which the power monitor
//! and the transition runner keep fresh, so any number of status calls costs the BMCs
//! nothing.

use chrono::{Duration, Utc};

use super::{App, AppError, AppResult};
use crate::model::power::{
    PowerOperation, PowerSample, PowerTask, TaskCounts, Transition, TransitionStatus,
};
use crate::model::{ComponentEndpoint, Xname};
pub use crate::power::PowerCache;

/// How long a transition record is kept (PCS: 24 h).
pub const TRANSITION_TTL_HOURS: i64 = 24;

/// A power transition request, already decoded from the wire.
#[derive(Debug, Clone)]
pub struct TransitionRequest {
    pub operation: PowerOperation,
    /// PCS `taskDeadlineMinutes`: 0 = do not confirm, negative = wait forever.
    pub deadline_minutes: i64,
    /// rackboot extension: a finer deadline, for graceful steps that should escalate fast.
    pub deadline_seconds: Option<u64>,
    /// Raw xnames as given (invalid ones become failed tasks, as in PCS).
    pub xnames: Vec<String>,
    /// rackboot extension: set this one-time boot override before powering on.
    pub boot_target: Option<String>,
}

/// One node's power status for the API.
#[derive(Debug, Clone)]
pub enum StatusEntry {
    Known(PowerSample),
    /// Valid xname but no component / not power-controllable / not yet sampled.
    Missing {
        xname: Xname,
        error: String,
    },
}

pub const BOOT_TARGETS: &[&str] = &["Pxe", "UefiHttp", "Hdd", "Cd", "None", "BiosSetup"];

impl App {
    pub async fn request_transition(&self, req: TransitionRequest) -> AppResult<Transition> {
        if let Some(t) = &req.boot_target {
            if !BOOT_TARGETS.contains(&t.as_str()) {
                return Err(AppError::bad(format!(
                    "unknown boot target '{t}': use one of {}",
                    BOOT_TARGETS.join(", ")
                )));
            }
            if matches!(
                req.operation,
                PowerOperation::Off | PowerOperation::SoftOff | PowerOperation::ForceOff
            ) {
                return Err(AppError::bad(format!(
                    "a boot target only applies to operations that power nodes on, not {}",
                    req.operation
                )));
            }
        }
        self.check_supported(req.operation, req.boot_target.as_deref(), &req.xnames)
            .await?;
        let now = Utc::now();
        let mut seen = std::collections::HashSet::new();
        let tasks: Vec<PowerTask> = req
            .xnames
            .into_iter()
            .filter(|x| seen.insert(x.clone()))
            .map(PowerTask::new)
            .collect();
        let t = Transition {
            id: uuid::Uuid::new_v4(),
            operation: req.operation,
            deadline_minutes: req.deadline_minutes,
            deadline_seconds: req.deadline_seconds,
            boot_target: req.boot_target,
            created: now,
            expires: now + Duration::hours(TRANSITION_TTL_HOURS),
            status: TransitionStatus::New,
            counts: TaskCounts::of(&tasks),
        };
        self.store.insert_transition(&t, &tasks).await?;
        self.pokes.power.poke();
        Ok(t)
    }

    /// Refuse up front an operation, or a boot target, that a known node's BMC cannot do (as
    /// discovered), naming what it allows; unknown nodes are left to fail as tasks, as PCS
    /// does. What discovery could not know (a system without Boot override properties) is
    /// refused per task, from the system's document, before anything is sent.
    async fn check_supported(
        &self,
        op: PowerOperation,
        boot_target: Option<&str>,
        xnames: &[String],
    ) -> AppResult<()> {
        let wanted: std::collections::HashSet<Xname> =
            xnames.iter().filter_map(|x| Xname::parse(x).ok()).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut refused = Vec::new();
        for ce in self.store.list_component_endpoints().await? {
            if !wanted.contains(&ce.id) {
                continue;
            }
            if let Some(t) = boot_target
                && !ce.boot_targets.is_empty()
                && !ce.boot_targets.iter().any(|b| b == t)
            {
                refused.push(format!(
                    "{} (its BMC allows boot targets {})",
                    ce.id,
                    ce.boot_targets.join(", ")
                ));
                continue;
            }
            if ce.reset_types.is_empty() {
                continue;
            }
            if !crate::model::power::supports(op, &ce.reset_types) {
                let supported = crate::model::power::supported_transitions(&ce.reset_types);
                refused.push(format!(
                    "{} (its BMC allows reset types {}, i.e. {})",
                    ce.id,
                    ce.reset_types.join(", "),
                    supported
                        .iter()
                        .map(|o| o.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            let what = match boot_target {
                Some(t) => format!("{op} with boot target {t}"),
                None => op.to_string(),
            };
            Err(AppError::bad(format!(
                "{what} is not supported for {}",
                refused.join("; ")
            )))
        }
    }

    pub async fn list_transitions(&self) -> AppResult<Vec<Transition>> {
        Ok(self.store.list_transitions().await?)
    }

    pub async fn get_transition(&self, id: &str) -> AppResult<(Transition, Vec<PowerTask>)> {
        let uuid = uuid::Uuid::parse_str(id)
            .map_err(|_| AppError::bad(format!("invalid transition ID '{id}': not a UUID")))?;
        self.store
            .get_transition(uuid)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such transition: {id}")))
    }

    /// Ask the runner to stop a transition; tasks not yet finished end failed.
    pub async fn abort_transition(&self, id: &str) -> AppResult<()> {
        let (t, _) = self.get_transition(id).await?;
        if t.status.is_done() {
            return Err(AppError::bad(format!(
                "transition {id} is {} and cannot be aborted",
                t.status.as_str()
            )));
        }
        self.store.request_transition_abort(t.id).await?;
        self.pokes.power.poke();
        Ok(())
    }

    /// Power status of the given nodes, or of every node with a BMC when `xnames` is empty.
    pub async fn power_status(&self, xnames: &[Xname]) -> AppResult<Vec<StatusEntry>> {
        let ces = self.store.component_endpoints_by_node().await?;
        let wanted: Vec<Xname> = if xnames.is_empty() {
            let mut all: Vec<Xname> = ces.keys().cloned().collect();
            all.sort();
            all
        } else {
            xnames.to_vec()
        };
        let mut out = Vec::with_capacity(wanted.len());
        for x in wanted {
            if let Some(s) = self.power.get(&x) {
                out.push(StatusEntry::Known(s));
                continue;
            }
            let error = if ces.contains_key(&x) {
                "Power state not sampled yet".to_string()
            } else if self.store.get_component(&x).await?.is_none() {
                "Component not found in component map.".to_string()
            } else if x.kind() != crate::model::XnameKind::Node {
                "Component can not have power state and managment state data".to_string()
            } else {
                "No Redfish endpoint is known for this component: discover its BMC".to_string()
            };
            out.push(StatusEntry::Missing { xname: x, error });
        }
        Ok(out)
    }

    // ----- component endpoints and discovery requests

    pub async fn list_component_endpoints(&self) -> AppResult<Vec<ComponentEndpoint>> {
        Ok(self.store.list_component_endpoints().await?)
    }

    pub async fn get_component_endpoint(&self, id: &Xname) -> AppResult<ComponentEndpoint> {
        self.store
            .get_component_endpoint(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such component endpoint: {id}")))
    }

    /// Queue (re)discovery of the given BMCs, or of all when empty.
    pub async fn request_discovery(&self, ids: &[Xname]) -> AppResult<Vec<Xname>> {
        let all = self.store.list_redfish_endpoints().await?;
        for id in ids {
            if !all.iter().any(|e| &e.id == id) {
                return Err(AppError::not_found(format!(
                    "no such redfish endpoint: {id}"
                )));
            }
        }
        let mut queued = Vec::new();
        for mut ep in all {
            if !ids.is_empty() && !ids.contains(&ep.id) {
                continue;
            }
            ep.discovery_info.last_status =
                crate::model::redfish_endpoint::discovery_status::STARTED.into();
            ep.discovery_info.error = None;
            self.store.update_redfish_endpoint(&ep).await?;
            queued.push(ep.id);
        }
        self.pokes.discovery.poke();
        Ok(queued)
    }
}
