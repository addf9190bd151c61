//! Boot evidence (docs/architecture.md, "Knowing what a node booted"): actual state for nodes
//! that run no reporter.
//!
//! The rule: a component waiting for its node to boot (enabled, phase `powering_on`, last action
//! `powering_on`, a desired referral token T) is taken to have booted T's artifacts once the
//! node has fetched its initrd (its kernel when the image has no initrd) completely under T's
//! artifact token after the power-on call, and has then stayed powered on for
//! `boot_evidence_wait` seconds. The artifact token is derived from the node and T, so a fetch
//! under an older token (a stale iPXE retry) never counts. The BOS option `boot_evidence`
//! (default true) turns the rule off; a node's own report (the bos-reporter PATCH) always wins,
//! since it sets the same fields first.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;

use super::BosContext;
use crate::model::boot_component::timestamp;
use crate::model::boot_plan::PowerReading;
use crate::model::power::PowerState;
use crate::model::{Action, Phase};
use crate::model::{BootArtifacts, BootComponent, BootEvent, Xname};
use crate::operators::{Operator, OperatorResult};

pub struct Evidence(pub BosContext);

/// The complete fetch that proves the boot, if any.
fn proof(
    c: &BootComponent,
    events: &[BootEvent],
    artifact_token: &str,
) -> Option<chrono::DateTime<Utc>> {
    let since = c.last_action_time()? - chrono::Duration::seconds(1);
    let wanted = if c.desired_state.boot_artifacts.initrd.is_empty() {
        "kernel"
    } else {
        "initrd"
    };
    events
        .iter()
        .rev()
        .find(|e| {
            e.what == wanted
                && e.outcome == "complete"
                && e.token.as_deref() == Some(artifact_token)
                && e.time >= since
        })
        .map(|e| e.time)
}

#[async_trait]
impl Operator for Evidence {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let opts = ctx.options().await;
        if !opts.boot_evidence {
            return Ok(serde_json::json!({"disabled": true}));
        }
        let wait = chrono::Duration::from_std(opts.boot_evidence_wait).unwrap_or_default();
        let comps = ctx.store.list_boot_components(true).await?;
        let now = ctx.clock.now();
        // With the time from which the node must be seen on: the proof plus the wait.
        let mut candidates: Vec<(BootComponent, String, chrono::DateTime<Utc>)> = Vec::new();
        let mut waiting = 0;
        for v in comps {
            let c = v.value;
            let tok = c.desired_state.bss_token.clone();
            if c.status.phase != Phase::PoweringOn
                || !c.last_action.is(Action::PoweringOn)
                || tok.is_empty()
                || c.actual_state
                    .boot_artifacts
                    .matches(&c.desired_state.boot_artifacts)
            {
                continue;
            }
            let Ok(x) = Xname::parse(&c.id) else { continue };
            let events = ctx.events.events(&x);
            let at = ctx.events.artifact_token(&x, &tok);
            match proof(&c, &events, &at) {
                Some(t) if now >= t + wait => candidates.push((c, tok, t + wait)),
                Some(_) => waiting += 1,
                None => {}
            }
        }
        if candidates.is_empty() {
            return Ok(serde_json::json!({"proven": 0, "waiting": waiting}));
        }
        // Still powered on after the wait? A sample taken since then, else its BMC.
        let systems = ctx.systems().await?;
        let readings = ctx
            .power_readings(
                candidates
                    .iter()
                    .map(|(c, _, on_since)| (c.id.clone(), Some(*on_since)))
                    .collect(),
                &systems,
            )
            .await;
        let mut proven: HashMap<String, (String, BootArtifacts)> = HashMap::new();
        for (c, tok, _) in candidates {
            if readings.get(&c.id) != Some(&PowerReading::State(PowerState::On)) {
                continue;
            }
            let Some(arts) = ctx.store.get_boot_token(&tok).await? else {
                continue;
            };
            proven.insert(c.id.clone(), (tok, arts));
        }
        let ids: HashSet<String> = proven.keys().cloned().collect();
        let ts = timestamp(now);
        let written = ctx
            .update(&ids, |c| {
                let Some((tok, arts)) = proven.get(&c.id) else {
                    return false;
                };
                // Only if nothing else reported meanwhile and the token is still current.
                if &c.desired_state.bss_token != tok
                    || c.actual_state
                        .boot_artifacts
                        .matches(&c.desired_state.boot_artifacts)
                {
                    return false;
                }
                c.actual_state.boot_artifacts = arts.clone();
                c.actual_state.bss_token = tok.clone();
                c.actual_state.last_updated = Some(ts.clone());
                true
            })
            .await?;
        for c in &written {
            if let Ok(x) = Xname::parse(&c.id) {
                ctx.events.record(
                    &x,
                    BootEvent {
                        time: now,
                        what: "booted".into(),
                        bytes: 0,
                        duration_ms: 0,
                        client: None,
                        outcome: "inferred from boot evidence".into(),
                        token: Some(c.actual_state.bss_token.clone()),
                        file: None,
                        repeats: 0,
                        last_time: None,
                    },
                );
            }
        }
        Ok(serde_json::json!({"proven": written.len(), "waiting": waiting}))
    }
}
