//! The configuration operator (docs/bos.md, "Operators"): components in the `configuring` phase
//! whose configuration service does not yet want their desired configuration are handed it,
//! grouped by (configuration, session). No retries are counted, as in BOS; a failure is the
//! component's error until the next pass succeeds.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;

use super::BosContext;
use crate::model::Status;
use crate::operators::{Operator, OperatorResult};

pub struct Configuration(pub BosContext);

#[async_trait]
impl Operator for Configuration {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let comps = ctx.store.list_boot_components(true).await?;
        let configuring: Vec<_> = comps
            .into_iter()
            .map(|v| v.value)
            .filter(|c| c.derived_status() == Status::Configuring)
            .collect();
        if configuring.is_empty() {
            return Ok(serde_json::json!({"configuring": 0}));
        }
        let desired: Vec<(String, String)> = configuring
            .iter()
            .map(|c| (c.id.clone(), c.desired_state.configuration.clone()))
            .collect();
        let mut errors = std::collections::HashMap::new();
        let mut handed = 0;
        match ctx.handoff.status(&desired).await {
            // The service cannot be asked: the reason is each waiting node's error, and
            // the next pass tries again.
            Err(e) => {
                for c in &configuring {
                    errors.insert(
                        c.id.clone(),
                        format!("configuration status unavailable: {e}"),
                    );
                }
            }
            Ok(views) => {
                let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
                for c in &configuring {
                    let wanted = &c.desired_state.configuration;
                    if views.get(&c.id).is_none_or(|v| &v.desired_config != wanted) {
                        groups
                            .entry((wanted.clone(), c.session.clone()))
                            .or_default()
                            .push(c.id.clone());
                    }
                }
                for ((cfg, session), ids) in groups {
                    match ctx.handoff.configure(&ids, &cfg, &session).await {
                        Ok(()) => handed += ids.len(),
                        Err(e) => {
                            for id in ids {
                                errors.insert(id, format!("configuration handoff: {e}"));
                            }
                        }
                    }
                }
            }
        }
        let ids: HashSet<String> = configuring.iter().map(|c| c.id.clone()).collect();
        ctx.update(&ids, |c| {
            let e = errors.get(&c.id).cloned().unwrap_or_default();
            if c.error == e {
                return false;
            }
            c.error = e;
            true
        })
        .await?;
        Ok(
            serde_json::json!({"configuring": configuring.len(), "handed_off": handed, "failed": errors.len()}),
        )
    }
}
