//! BMC events: one follower per BMC that streams events (Redfish EventService, SSE), so power
//! changes reach the shared power samples as they happen instead of by polling.
//!
//! Not an activation-based operator: a stream is held open for hours, so [`BmcEvents::run`]
//! supervises one task per enabled BMC, rescanning the inventory every `rescan` (new BMCs
//! get a follower, removed or changed ones lose theirs). A follower opens its BMC's stream;
//! once open, the BMC's nodes are *watched* in the power cache and read once (events do not
//! replay what happened before); each event about a system re-reads that system's power
//! state (events name the resource, not its new state), updates the cache and pokes the BOS
//! status operator. When the stream ends or fails, the nodes stop being watched (the power
//! monitor polls them again) and the follower reconnects after a backoff; a BMC without an
//! event stream is asked again only every `recheck`. Failures are logged and kept on the
//! follower's state, never raised: events are an optimisation, polling stays correct.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::activation::Activator;
use crate::clock::SharedClock;
use crate::model::Xname;
use crate::model::redfish_endpoint::discovery_status as ds;
use crate::power::samples::sample;
use crate::power::{BmcAccess, BmcEvent, PowerCache, PowerDriver, SystemRef};
use crate::shutdown::Stop;
use crate::store::Store;

/// What the followers need.
#[derive(Clone)]
pub struct BmcEvents {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub cache: Arc<PowerCache>,
    pub clock: SharedClock,
    /// Poked when an event changed a node's sample (the BOS status operator).
    pub changed: Activator,
    /// A stream silent this long (no event, no keep-alive) is taken for dead.
    pub idle: Duration,
    /// How often the set of BMCs is re-read (and at once when this is poked).
    pub rescan: Duration,
    pub wake: Activator,
    /// How long a BMC without an event stream waits before it is asked again.
    pub recheck: Duration,
    /// Streams held open at most (each costs a connection and a file descriptor); the BMCs
    /// beyond it, in xname order, are polled.
    pub max_streams: usize,
}

/// Reads of one system's power in flight at once, per BMC stream.
const READS_PER_BMC: usize = 4;

impl BmcEvents {
    /// Follow every enabled BMC's events until `stop`.
    pub async fn run(self, stop: Stop) {
        let this = Arc::new(self);
        // By BMC: what the follower was started with (the access details and when the BMC
        // was last discovered, since a rediscovery can change its nodes), and its stop.
        type Started = (BmcAccess, Option<chrono::DateTime<chrono::Utc>>);
        let mut followers: HashMap<Xname, (Started, Stop)> = HashMap::new();
        let mut tasks = JoinSet::new();
        loop {
            match this.store.list_redfish_endpoints().await {
                Ok(eps) => {
                    // Followed: enabled BMCs whose discovery found their nodes.
                    let mut eligible: Vec<_> = eps
                        .iter()
                        .filter(|e| e.enabled && e.discovery_info.last_status == ds::OK)
                        .collect();
                    eligible.sort_by(|a, b| a.id.cmp(&b.id));
                    eligible.truncate(this.max_streams);
                    let wanted: HashMap<Xname, Started> = eligible
                        .into_iter()
                        .map(|e| {
                            let started = (BmcAccess::from(e), e.discovery_info.last_attempt);
                            (e.id.clone(), started)
                        })
                        .collect();
                    followers.retain(|id, (started, token)| {
                        let keep = wanted.get(id) == Some(started);
                        if !keep {
                            token.cancel();
                        }
                        keep
                    });
                    for (id, started) in wanted {
                        if followers.contains_key(&id) {
                            continue;
                        }
                        let token = stop.child_token();
                        let access = started.0.clone();
                        followers.insert(id, (started, token.clone()));
                        tasks.spawn(this.clone().follow(access, token));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %crate::errors::chain(&e), "BMC events: cannot read the BMCs; will retry");
                }
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = tokio::time::sleep(this.rescan) => {}
                _ = this.wake.poked() => {}
                _ = stop.cancelled() => break,
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    /// The BMC's nodes, by their system's `@odata.id`.
    async fn systems(&self, access: &BmcAccess) -> HashMap<String, (Xname, SystemRef)> {
        match self.store.component_endpoints_of(&access.id).await {
            Ok(ces) => ces
                .iter()
                .map(|ce| {
                    (
                        ce.odata_id.trim_end_matches('/').to_string(),
                        (ce.id.clone(), SystemRef::new(access.clone(), ce)),
                    )
                })
                .collect(),
            Err(e) => {
                tracing::warn!(bmc = %access.id, error = %crate::errors::chain(&e), "BMC events: cannot read the BMC's nodes");
                HashMap::new()
            }
        }
    }

    /// Read one system's power and record it.
    async fn read(&self, x: &Xname, sys: &SystemRef) {
        let r = self.driver.power_state(sys).await.map_err(|e| e.message);
        self.cache.put(sample(x, sys, r, self.clock.now()));
    }

    /// Follow one BMC until `stop`, reconnecting as needed.
    async fn follow(self: Arc<Self>, access: BmcAccess, stop: Stop) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let systems = Arc::new(self.systems(&access).await);
            let nodes: Vec<Xname> = systems.values().map(|(x, _)| x.clone()).collect();
            // The stream's events go through a channel to a reader, which asks the BMC.
            let (tx, rx) = mpsc::unbounded_channel::<Option<String>>();
            let reader = {
                let (this, systems) = (self.clone(), systems.clone());
                tokio::spawn(async move {
                    read_events(this, systems, rx).await;
                })
            };
            let on = move |e: BmcEvent| {
                let _ = tx.send(match e {
                    BmcEvent::Opened => None,
                    BmcEvent::Changed(path) => Some(path.trim_end_matches('/').to_string()),
                });
            };
            let outcome = tokio::select! {
                r = self.driver.follow_events(&access, self.idle, &on) => Some(r),
                _ = stop.cancelled() => None,
            };
            drop(on);
            let _ = reader.await;
            self.cache.set_watched(&nodes, false);
            let wait = match outcome {
                None => return,
                Some(Ok(None)) => self.recheck,
                Some(Ok(Some(end))) => {
                    tracing::debug!(bmc = %access.id, ?end, "BMC event stream ended; reconnecting");
                    backoff = Duration::from_secs(1);
                    backoff
                }
                Some(Err(e)) => {
                    tracing::info!(bmc = %access.id, error = %e, ?backoff, "BMC event stream failed; polling until it reconnects");
                    let w = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                    w
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => return,
            }
        }
    }
}

/// The reader of one stream: on open, watch every node and read each once; on an event, read
/// the system it names and poke the status operator. Ends when the stream's sender is gone.
async fn read_events(
    this: Arc<BmcEvents>,
    systems: Arc<HashMap<String, (Xname, SystemRef)>>,
    mut rx: mpsc::UnboundedReceiver<Option<String>>,
) {
    while let Some(e) = rx.recv().await {
        match e {
            None => {
                let nodes: Vec<Xname> = systems.values().map(|(x, _)| x.clone()).collect();
                this.cache.set_watched(&nodes, true);
                futures::stream::iter(systems.values())
                    .for_each_concurrent(READS_PER_BMC, |(x, sys)| this.read(x, sys))
                    .await;
            }
            Some(path) => {
                if let Some((x, sys)) = systems.get(&path) {
                    this.read(x, sys).await;
                    this.changed.poke();
                }
            }
        }
    }
}
