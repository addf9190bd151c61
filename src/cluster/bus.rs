//! What crosses replicas at once (DESIGN §9): pokes for the leader's operators, news that a
//! read model is stale, and boot events, as PostgreSQL notifications
//! ([`super::ClusterBackend::publish`], `NOTIFY`).
//!
//! - A write on a follower pokes its own operators, which do not run there; the pokes are
//!   relayed by name, and the leader pokes the same operators. (The leader's own pokes stay
//!   local.) A lost poke costs only latency: every operator also runs on its period.
//! - A write anywhere that changes what a node boots, who may log in, or the CFS options
//!   tells every replica ([`Topic`]), which drops that read model (the boot index, with the
//!   DHCP reservations read from it; the identity cache; the CFS options).
//! - A boot event (a script or artifact fetch) is recorded where the node fetched, and
//!   relayed: the leader's evidence operator and every replica's timeline see it.
//! - The leader's power samples that change what a node's power says are relayed, so
//!   power status on a follower answers like the leader's.
//!
//! Messages are batched (whatever is queued when the sender wakes, deduplicated, split to
//! stay under PostgreSQL's 8,000-byte payload) and carry the sender's id, so a replica
//! ignores its own. A listener that lost its connection may have missed messages: it
//! treats every read model as stale and pokes every operator.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{ClusterBackend, Leadership, ReplicaInfo};
use crate::activation::Activator;
use crate::model::power::PowerSample;
use crate::model::{BootEvent, Xname};
use crate::shutdown::Stop;

/// PostgreSQL caps a payload at 8,000 bytes; stay below it.
const MAX_PAYLOAD: usize = 7_500;

/// A read model another replica's write made stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// What nodes boot: the boot index and the DHCP reservations built from it.
    Boot,
    /// Users and tokens: the identity cache.
    Identity,
    /// The built-in CFS's options.
    CfsOptions,
}

/// One notification.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    from: String,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pokes: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    changed: BTreeSet<Topic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    events: Vec<(Xname, BootEvent)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    samples: Vec<PowerSample>,
}

impl Message {
    fn is_empty(&self) -> bool {
        self.pokes.is_empty()
            && self.changed.is_empty()
            && self.events.is_empty()
            && self.samples.is_empty()
    }
}

enum Outgoing {
    Poke(&'static str),
    Changed(Topic),
    Event(Xname, BootEvent),
    Sample(PowerSample),
}

/// The sending side, held by the use cases; does nothing without a cluster (SQLite).
#[derive(Clone, Default)]
pub struct Bus(Option<Sender>);

#[derive(Clone)]
struct Sender {
    tx: mpsc::UnboundedSender<Outgoing>,
    leadership: Leadership,
}

/// The queue [`Bus::new`] made, for [`send_loop`].
pub struct Outbox(mpsc::UnboundedReceiver<Outgoing>);

impl Bus {
    /// A bus for a replica of a cluster, and its queue.
    pub fn new(leadership: Leadership) -> (Bus, Outbox) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Bus(Some(Sender { tx, leadership })), Outbox(rx))
    }

    fn send(&self, m: Outgoing) {
        if let Some(s) = &self.0 {
            let _ = s.tx.send(m);
        }
    }

    /// Tell the leader to poke operator `name` (nothing when this replica leads).
    pub fn poke(&self, name: &'static str) {
        if let Some(s) = &self.0
            && !s.leadership.leading()
        {
            let _ = s.tx.send(Outgoing::Poke(name));
        }
    }

    /// Tell the other replicas that `topic` changed.
    pub fn changed(&self, topic: Topic) {
        self.send(Outgoing::Changed(topic));
    }

    /// Tell the other replicas of a boot event recorded here.
    pub fn event(&self, node: &Xname, event: &BootEvent) {
        if self.0.is_some() {
            self.send(Outgoing::Event(node.clone(), event.clone()));
        }
    }

    /// Tell the followers of a power sample (only the leader's: it is the one sampling).
    pub fn sample(&self, sample: &PowerSample) {
        if let Some(s) = &self.0
            && s.leadership.leading()
        {
            let _ = s.tx.send(Outgoing::Sample(sample.clone()));
        }
    }

    /// Relay each of `named` activators' pokes through this bus.
    pub fn relay(&self, named: &[(&'static str, Activator)]) {
        for (name, a) in named {
            let bus = self.clone();
            let name = *name;
            a.relay_to(move || bus.poke(name));
        }
    }
}

/// Records a boot event another replica saw.
pub type EventSink = Box<dyn Fn(&Xname, BootEvent) + Send + Sync>;

/// What a replica does with what the others say.
pub struct Receivers {
    /// Activators by the names [`Bus::relay`] was given.
    pub pokes: HashMap<&'static str, Activator>,
    /// Drop the read model of a topic.
    pub changed: Box<dyn Fn(Topic) + Send + Sync>,
    /// Record a boot event another replica saw.
    pub event: EventSink,
    /// Keep a power sample the leader took.
    pub sample: Box<dyn Fn(PowerSample) + Send + Sync>,
}

impl Receivers {
    fn apply(&self, m: Message) {
        for p in &m.pokes {
            if let Some(a) = self.pokes.get(p.as_str()) {
                a.poke_here();
            }
        }
        for t in m.changed {
            (self.changed)(t);
        }
        for (node, e) in m.events {
            (self.event)(&node, e);
        }
        for p in m.samples {
            (self.sample)(p);
        }
    }

    /// Messages may have been missed: everything is stale, every operator poked.
    fn missed(&self) {
        for t in [Topic::Boot, Topic::Identity, Topic::CfsOptions] {
            (self.changed)(t);
        }
        for a in self.pokes.values() {
            a.poke_here();
        }
    }
}

/// Batch what is queued into as few notifications as fit, each under [`MAX_PAYLOAD`]:
/// pokes and invalidations in the first, events and samples filling it and the next ones.
/// Sizes are added up item by item (each item's JSON and a comma, plus room for the two
/// array keys), so a batch is encoded once per payload, not once per item.
fn batch(from: &str, queued: Vec<Outgoing>) -> Vec<String> {
    const KEYS: usize = r#","events":[],"samples":[]"#.len();
    let fresh = || Message {
        from: from.to_string(),
        ..Message::default()
    };
    let encode = |m: &Message| serde_json::to_string(m).expect("a message encodes");
    let mut current = fresh();
    let mut items = Vec::new();
    for o in queued {
        match o {
            Outgoing::Poke(p) => {
                current.pokes.insert(p.to_string());
            }
            Outgoing::Changed(t) => {
                current.changed.insert(t);
            }
            o => items.push(o),
        }
    }
    let mut size = encode(&current).len() + KEYS;
    let mut out = Vec::new();
    for o in items {
        let len = match &o {
            Outgoing::Event(n, e) => serde_json::to_string(&(n, e)).map(|j| j.len()),
            Outgoing::Sample(p) => serde_json::to_string(p).map(|j| j.len()),
            Outgoing::Poke(_) | Outgoing::Changed(_) => unreachable!("kept apart above"),
        }
        .expect("an item encodes")
            + 1;
        if size + len > MAX_PAYLOAD && !current.is_empty() {
            out.push(encode(&current));
            current = fresh();
            size = encode(&current).len() + KEYS;
        }
        if size + len > MAX_PAYLOAD {
            // Larger than a payload on its own (its fields are short: it cannot be).
            tracing::warn!("an item too large to relay to the other replicas was dropped");
            continue;
        }
        size += len;
        match o {
            Outgoing::Event(n, e) => current.events.push((n, e)),
            Outgoing::Sample(p) => current.samples.push(p),
            Outgoing::Poke(_) | Outgoing::Changed(_) => unreachable!("kept apart above"),
        }
    }
    if !current.is_empty() {
        out.push(encode(&current));
    }
    out
}

/// Send what the bus queues until `stop`.
pub async fn send_loop(
    mut outbox: Outbox,
    backend: Arc<dyn ClusterBackend>,
    me: ReplicaInfo,
    stop: Stop,
) {
    let mut queued = Vec::new();
    loop {
        tokio::select! {
            n = outbox.0.recv_many(&mut queued, 4096) => if n == 0 { break },
            _ = stop.cancelled() => break,
        }
        for payload in batch(&me.id, std::mem::take(&mut queued)) {
            if let Err(e) = backend.publish(&payload).await {
                tracing::warn!(error = %crate::errors::chain(&e), "cannot tell the other replicas of a change; they see it at their next period or reconnect");
            }
        }
    }
}

/// Apply what the other replicas say until `stop`, re-listening after a lost connection.
pub async fn receive_loop(
    backend: Arc<dyn ClusterBackend>,
    me: ReplicaInfo,
    receivers: Receivers,
    retry: Duration,
    stop: Stop,
) {
    while !stop.is_cancelled() {
        let mut sub = match backend.listen().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %crate::errors::chain(&e), "cannot listen to the other replicas; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(retry) => continue,
                    _ = stop.cancelled() => break,
                }
            }
        };
        // Whatever happened before listening is unknown.
        receivers.missed();
        loop {
            let next = tokio::select! {
                n = sub.next() => n,
                _ = stop.cancelled() => return,
            };
            match next {
                Ok(Some(payload)) => match serde_json::from_str::<Message>(&payload) {
                    Ok(m) if m.from == me.id => {}
                    Ok(m) => receivers.apply(m),
                    Err(e) => {
                        tracing::warn!(error = %e, "an unreadable message from another replica was ignored")
                    }
                },
                Ok(None) => receivers.missed(),
                Err(e) => {
                    tracing::warn!(error = %crate::errors::chain(&e), "lost the other replicas' messages; listening again");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
