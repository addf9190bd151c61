//! BOS discovery (bos.md §5.2): every node in the inventory gets a BOS component, created
//! disabled with empty states (`last_action: newly_discovered`). Components are never
//! deleted here.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::Utc;

use super::BosContext;
use crate::model::BootComponent;
use crate::operators::Operator;

pub struct Discovery(pub BosContext);

#[async_trait]
impl Operator for Discovery {
    fn name(&self) -> &'static str {
        "bos-discovery"
    }

    fn period(&self) -> std::time::Duration {
        self.0.period.max(std::time::Duration::from_secs(30))
    }

    async fn activate(&mut self) -> serde_json::Value {
        let ctx = &self.0;
        let (nodes, known) = match (
            ctx.store.list_components().await,
            ctx.store.list_boot_components(false).await,
        ) {
            (Ok(n), Ok(k)) => (n, k),
            (Err(e), _) | (_, Err(e)) => return super::store_error(&e),
        };
        let known: HashSet<String> = known.into_iter().map(|v| v.value.id).collect();
        let now = Utc::now();
        let new: Vec<BootComponent> = nodes
            .iter()
            .filter(|c| c.kind == "Node" && !known.contains(c.id.as_str()))
            .map(|c| BootComponent::discovered(c.id.as_str(), now))
            .collect();
        if new.is_empty() {
            return serde_json::json!({"added": 0});
        }
        match ctx.store.put_boot_components(&new).await {
            Ok(()) => serde_json::json!({"added": new.len()}),
            Err(e) => super::store_error(&e),
        }
    }
}
