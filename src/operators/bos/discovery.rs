//! BOS discovery (docs/bos.md, "Operators"): every node in the inventory gets a BOS component,
//! created disabled with empty states (`last_action: newly_discovered`). Components are never
//! deleted here.

use std::collections::HashSet;

use async_trait::async_trait;

use super::BosContext;
use crate::model::BootComponent;
use crate::operators::{Operator, OperatorResult};

pub struct Discovery(pub BosContext);

#[async_trait]
impl Operator for Discovery {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let nodes = ctx.store.list_components().await?;
        let known = ctx.store.list_boot_components(false).await?;
        let known: HashSet<String> = known.into_iter().map(|v| v.value.id).collect();
        let now = ctx.clock.now();
        let new: Vec<BootComponent> = nodes
            .iter()
            .filter(|c| c.kind == "Node" && !known.contains(c.id.as_str()))
            .map(|c| BootComponent::discovered(c.id.as_str(), now))
            .collect();
        if new.is_empty() {
            return Ok(serde_json::json!({"added": 0}));
        }
        ctx.store.put_boot_components(&new).await?;
        Ok(serde_json::json!({"added": new.len()}))
    }
}
