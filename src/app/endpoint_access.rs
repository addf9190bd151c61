//! BSS endpoint history without a write per boot script.
//!
//! Every served script records "node X fetched bootscript at T". Writing that to the store
//! on the hot path would make the boot plane as slow as the database, so accesses are kept
//! in memory and flushed in one transaction by a background task (and at shutdown). Reads
//! merge the store with what is still pending, so the history is never stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::{EndpointAccess, Store, StoreResult};

pub struct AccessRecorder {
    store: Arc<dyn Store>,
    pending: Mutex<HashMap<(String, String), i64>>,
}

impl AccessRecorder {
    pub fn new(store: Arc<dyn Store>) -> AccessRecorder {
        AccessRecorder {
            store,
            pending: Mutex::new(HashMap::new()),
        }
    }

    pub fn record(&self, name: &str, endpoint: &str, epoch: i64) {
        let mut p = self.pending.lock().expect("access map poisoned");
        let e = p
            .entry((name.to_string(), endpoint.to_string()))
            .or_insert(epoch);
        *e = (*e).max(epoch);
    }

    pub async fn flush(&self) -> StoreResult<()> {
        let batch: Vec<EndpointAccess> = {
            let p = self.pending.lock().expect("access map poisoned");
            p.iter()
                .map(|((n, e), t)| EndpointAccess {
                    name: n.clone(),
                    endpoint: e.clone(),
                    last_epoch: *t,
                })
                .collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        self.store.record_endpoint_access(&batch).await?;
        // Forget only what was written and not updated since.
        let mut p = self.pending.lock().expect("access map poisoned");
        for e in batch {
            let key = (e.name, e.endpoint);
            if p.get(&key) == Some(&e.last_epoch) {
                p.remove(&key);
            }
        }
        Ok(())
    }

    pub async fn list(&self) -> StoreResult<Vec<EndpointAccess>> {
        let mut all: HashMap<(String, String), i64> = self
            .store
            .list_endpoint_access()
            .await?
            .into_iter()
            .map(|e| ((e.name, e.endpoint), e.last_epoch))
            .collect();
        for (k, t) in self.pending.lock().expect("access map poisoned").iter() {
            let e = all.entry(k.clone()).or_insert(*t);
            *e = (*e).max(*t);
        }
        let mut v: Vec<EndpointAccess> = all
            .into_iter()
            .map(|((name, endpoint), last_epoch)| EndpointAccess {
                name,
                endpoint,
                last_epoch,
            })
            .collect();
        v.sort_by(|a, b| (&a.name, &a.endpoint).cmp(&(&b.name, &b.endpoint)));
        Ok(v)
    }
}

impl crate::app::App {
    /// The background task that flushes endpoint history every two seconds until `stop`,
    /// then once more (nothing recorded before the stop is lost).
    pub async fn flush_access_until(self: Arc<Self>, stop: crate::shutdown::Stop) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.flush_access().await {
                        tracing::warn!(error = %crate::errors::chain(&e), "could not record endpoint history; will retry");
                    }
                }
                _ = stop.cancelled() => break,
            }
        }
    }
}
