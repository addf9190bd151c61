//! SimBmc's EventService: Server-Sent Events (SSE) about power, and the EventDestinations of
//! the streams open now.
//!
//! Why SSE only: it is what a client behind NAT or a firewall can use (no listener of its own),
//! it is what OpenBMC and recent iLO offer, and push subscriptions (POST to
//! `EventService/Subscriptions` with a `Destination`) would make the simulator send HTTP to
//! whatever address a client names, which a test must never do. A POST of a push subscription
//! answers 405.
//!
//! # Wire format
//!
//! - The service root links `EventService` (`/redfish/v1/EventService`, or the recorded one on
//!   a replayed tree); the EventService document has `"ServiceEnabled": true`,
//!   `"ServerSentEventUri": "/redfish/v1/EventService/SSE"` and `Subscriptions`. With
//!   [`super::SimConfig::events`] off there is no `ServerSentEventUri` (synthetic BMCs also
//!   have no EventService at all), and the SSE URI answers 404: a BMC without events.
//! - `GET /redfish/v1/EventService/SSE` (authenticated like any other resource; query
//!   parameters such as `$filter` are accepted and ignored) answers `200`,
//!   `Content-Type: text/event-stream`, and keeps the connection open. An `Accept` header that
//!   allows neither `text/event-stream` nor `*/*` gets a 400 Redfish error instead.
//! - While open, the stream is an EventDestination `/redfish/v1/EventService/Subscriptions/
//!   SSE-<n>` (`"SubscriptionType": "SSE"`, `"Context": ""`); DELETE of it closes the stream,
//!   and closing the stream removes it.
//! - Every change of a system's PowerState, and every restart (a power-on that PowerState alone
//!   cannot show, e.g. an instant ForceRestart), is one SSE event, `id: <n>` (increasing per
//!   BMC) and one `data:` line holding a Redfish Event:
//!
//! ```text
//! id: 7
//! data: {"@odata.type":"#Event.v1_7_0.Event","Id":"7","Name":"Power state changed","Context":"",
//! data:   "Events":[{"EventId":"7","EventTimestamp":"2026-12-02T14:50:00Z","EventType":"Other",
//! data:   "MessageId":"ResourceEvent.1.0.ResourceChanged","MessageArgs":[],"Severity":"OK",
//! data:   "MessageSeverity":"OK","Message":"The PowerState of /redfish/v1/Systems/Node0 is now On.",
//! data:   "OriginOfCondition":{"@odata.id":"/redfish/v1/Systems/Node0"}}]}
//! ```
//!
//!   (shown wrapped here; on the wire the JSON is one line, so one `data:` line). The event
//!   names the system, never its new state in a structured field: as with a real BMC, a client
//!   that wants PowerState reads `OriginOfCondition` (one GET). `OriginOfCondition` is the
//!   system's link as the Systems collection lists it.
//! - A comment line (`:`) every 2 s keeps idle streams from being timed out by proxies, and
//!   lets the simulator notice soon that a client went away.
//! - Events are not replayed: there is no `Last-Event-ID` resume. A client that reconnects
//!   should read the systems once. A stream only sees changes made after it opened; a state
//!   that lasted less than it takes the stream to be polled can be folded into the next one
//!   (a `watch` channel keeps the newest value), but a restart is never lost (it is counted).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The SSE URI on every SimBmc that offers events.
pub(crate) const SSE_URI: &str = "/redfish/v1/EventService/SSE";
/// The synthetic EventService and its Subscriptions collection.
pub(crate) const EVENT_SERVICE: &str = "/redfish/v1/EventService";
pub(crate) const SUBSCRIPTIONS: &str = "/redfish/v1/EventService/Subscriptions";

/// The open SSE streams, by number.
#[derive(Debug, Default)]
pub(crate) struct EventHub {
    streams: Mutex<Streams>,
    /// Event ids, increasing per BMC.
    seq: AtomicU64,
}

#[derive(Debug, Default)]
struct Streams {
    next: u64,
    open: BTreeMap<u64, CancellationToken>,
}

impl EventHub {
    fn streams(&self) -> std::sync::MutexGuard<'_, Streams> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new stream: its number and the token that DELETE of it cancels.
    pub(crate) fn open(&self) -> (u64, CancellationToken) {
        let mut s = self.streams();
        s.next += 1;
        let n = s.next;
        let token = CancellationToken::new();
        s.open.insert(n, token.clone());
        (n, token)
    }

    /// The stream ended (its connection closed).
    pub(crate) fn remove(&self, n: u64) {
        self.streams().open.remove(&n);
    }

    /// DELETE of an EventDestination: close its stream. False if there is none.
    pub(crate) fn close(&self, n: u64) -> bool {
        match self.streams().open.remove(&n) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    pub(crate) fn is_open(&self, n: u64) -> bool {
        self.streams().open.contains_key(&n)
    }

    /// The EventDestination links of the open streams.
    pub(crate) fn links(&self, subscriptions: &str) -> Vec<String> {
        self.streams()
            .open
            .keys()
            .map(|n| format!("{subscriptions}/SSE-{n}"))
            .collect()
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// `SSE-<n>` -> n.
pub(crate) fn stream_number(id: &str) -> Option<u64> {
    id.strip_prefix("SSE-")?.parse().ok()
}

/// The EventDestination document of open stream `n`.
pub(crate) fn destination_doc(subscriptions: &str, n: u64) -> Value {
    json!({
        "@odata.id": format!("{subscriptions}/SSE-{n}"),
        "@odata.type": "#EventDestination.v1_13_0.EventDestination",
        "Id": format!("SSE-{n}"),
        "Name": "Server-Sent Events stream",
        "SubscriptionType": "SSE",
        "Protocol": "Redfish",
        "Context": "",
        "EventFormatType": "Event",
        "Status": {"State": "Enabled", "Health": "OK"},
    })
}

/// The Event payload for a change of `system`'s power to `state` (see the wire format above).
pub(crate) fn power_event(id: u64, system: &str, state: &str) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "@odata.type": "#Event.v1_7_0.Event",
        "Id": id.to_string(),
        "Name": "Power state changed",
        "Context": "",
        "Events": [{
            "EventId": id.to_string(),
            "EventTimestamp": now,
            "EventType": "Other",
            "MessageId": "ResourceEvent.1.0.ResourceChanged",
            "MessageArgs": [],
            "Severity": "OK",
            "MessageSeverity": "OK",
            "Message": format!("The PowerState of {system} is now {state}."),
            "OriginOfCondition": {"@odata.id": system},
        }],
    })
}
