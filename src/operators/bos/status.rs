//! The status operator (docs/bos.md, "Status operator"): for every enabled component, read its
//! power state (from the shared power samples when one was taken since it was last sent a
//! reset, else from its BMC) and its configuration view from the handoff, run the pure state machine
//! (`model::boot_plan::plan_status`) and write what changed.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;

use super::BosContext;
use crate::model::BootComponent;
use crate::model::boot_plan::{PowerReading, Waits, plan_status, plan_status_config_unavailable};
use crate::operators::{Operator, OperatorResult};

pub struct Status {
    ctx: BosContext,
    /// When this operator first saw each hold. A component on hold (a session just took
    /// it, or it was just enabled) is judged afresh: only a reading taken since then counts,
    /// which a BMC slower than a pass's wait delivers to a later pass. Each entry is keyed by
    /// the hold itself (the node's session and last action), so a new hold of a node that
    /// was already on hold starts afresh. (The component's own last-action time has whole
    /// seconds only: a sample from just before the hold would pass for one after it.)
    held_since: HashMap<String, (String, chrono::DateTime<chrono::Utc>)>,
}

impl Status {
    pub fn new(ctx: BosContext) -> Status {
        Status {
            ctx,
            held_since: HashMap::new(),
        }
    }
}

#[async_trait]
impl Operator for Status {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.ctx;
        let held_since = &mut self.held_since;
        let opts = ctx.options().await;
        let comps = ctx.store.list_boot_components(true).await?;
        if comps.is_empty() {
            return Ok(serde_json::json!({"enabled": 0}));
        }
        let systems = ctx.systems().await?;
        let pass = ctx.clock.now();
        let on_hold: HashSet<&str> = comps
            .iter()
            .filter(|v| v.value.overridden(crate::model::Status::OnHold))
            .map(|v| v.value.id.as_str())
            .collect();
        held_since.retain(|id, _| on_hold.contains(id.as_str()));
        let nodes: Vec<_> = comps
            .iter()
            .map(|v| {
                let c = &v.value;
                let since = c.overridden(crate::model::Status::OnHold).then(|| {
                    let hold = format!(
                        "{}\0{:?}\0{:?}",
                        c.session, c.last_action.action, c.last_action.last_updated
                    );
                    let entry = held_since
                        .entry(c.id.clone())
                        .or_insert_with(|| (hold.clone(), pass));
                    if entry.0 != hold {
                        *entry = (hold, pass);
                    }
                    entry.1
                });
                (v.value.id.clone(), since)
            })
            .collect();
        let readings = ctx.power_readings(nodes, &systems).await;
        let desired: Vec<(String, String)> = comps
            .iter()
            .map(|v| {
                (
                    v.value.id.clone(),
                    v.value.desired_state.configuration.clone(),
                )
            })
            .collect();
        let (config, config_error) = match ctx.handoff.status(&desired).await {
            Ok(c) => (c, None),
            Err(e) => (
                HashMap::new(),
                Some(format!("configuration status unavailable: {e}")),
            ),
        };
        let waits = Waits {
            max_power_on_wait: chrono::Duration::from_std(opts.max_power_on_wait)
                .unwrap_or_default(),
            max_boot_wait: chrono::Duration::from_std(opts.max_boot_wait).unwrap_or_default(),
        };
        let now = ctx.clock.now();
        let plan = |c: &BootComponent| -> Option<BootComponent> {
            // Not read this pass (its BMC is slow to answer): no news, no change.
            let reading = readings.get(&c.id).cloned()?;
            match &config_error {
                None => plan_status(c, &reading, config.get(&c.id), waits, now),
                Some(why) => plan_status_config_unavailable(c, &reading, why, waits, now),
            }
        };
        let ids: HashSet<String> = comps
            .iter()
            .filter(|v| plan(&v.value).is_some())
            .map(|v| v.value.id.clone())
            .collect();
        let changed = ids.len();
        // Re-plan on fresh data if a component changed since it was read.
        let written = ctx
            .update(&ids, |c| match plan(c) {
                Some(next) if c.enabled => {
                    *c = next;
                    true
                }
                _ => false,
            })
            .await?;
        let unavailable = readings
            .values()
            .filter(|r| matches!(r, PowerReading::Unavailable(_)))
            .count();
        Ok(
            serde_json::json!({"enabled": comps.len(), "changed": changed, "written": written.len(),
                "power_unavailable": unavailable, "configuration_error": config_error}),
        )
    }
}
