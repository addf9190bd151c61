//! The EventService over HTTP: its document, the SSE stream and the EventDestinations of the
//! open streams (the wire format is described in [`super::super::events`]).
//!
//! A stream watches every system's [`super::super::PowerEvent`] channel (which also makes
//! delayed transitions land on time while someone listens) and sends one Event per change.
//! It ends when its EventDestination is deleted or the BMC stops; when the client goes away,
//! the next keep-alive write fails, the stream is dropped and its EventDestination removed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::future::select_all;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::super::PowerEvent;
use super::super::events::{
    EVENT_SERVICE, SSE_URI, SUBSCRIPTIONS, destination_doc, power_event, stream_number,
};
use super::super::state::{AtomicCounters, SimState};
use super::documents::collection;
use super::protocol::missing;
use super::reply::{error, ok};

/// How often an idle stream gets a comment line; also how soon a stream whose client left is
/// noticed (the write fails) and its EventDestination removed.
const KEEP_ALIVE: Duration = Duration::from_secs(2);

pub(super) fn event_service(st: &SimState) -> Response {
    let mut doc = match st.fixed.replay {
        Some(_) => super::replay::recorded(st, EVENT_SERVICE).unwrap_or_else(|| json!({})),
        None => json!({
            "@odata.id": EVENT_SERVICE,
            "@odata.type": "#EventService.v1_10_0.EventService",
            "Id": "EventService",
            "Name": "Event Service",
            "ServiceEnabled": true,
            "EventFormatTypes": ["Event"],
            "RegistryPrefixes": ["ResourceEvent"],
            "Status": {"State": "Enabled", "Health": "OK"},
        }),
    };
    if st.fixed.events {
        doc["ServerSentEventUri"] = json!(SSE_URI);
        if doc.get("Subscriptions").is_none() {
            doc["Subscriptions"] = json!({"@odata.id": SUBSCRIPTIONS});
        }
    } else if let Some(map) = doc.as_object_mut() {
        map.remove("ServerSentEventUri");
    }
    ok(doc)
}

/// The Subscriptions collection: the recorded members of a replayed tree, and the open streams.
pub(super) fn subscriptions(st: &SimState) -> Response {
    let recorded: Vec<String> = st
        .fixed
        .replay
        .as_ref()
        .and_then(|_| super::replay::recorded(st, SUBSCRIPTIONS))
        .and_then(|c| {
            let members = c["Members"].as_array()?.clone();
            Some(
                members
                    .iter()
                    .filter_map(|m| m["@odata.id"].as_str().map(String::from))
                    .collect(),
            )
        })
        .unwrap_or_default();
    let live = st.hub.links(SUBSCRIPTIONS);
    ok(collection(
        SUBSCRIPTIONS,
        "#EventDestinationCollection.EventDestinationCollection",
        "Event Subscriptions Collection",
        recorded.into_iter().chain(live),
    ))
}

/// GET or DELETE of one EventDestination: an open stream's, or a recorded one (GET only).
pub(super) fn subscription(st: &SimState, method: &Method, id: &str) -> Response {
    let path = format!("{SUBSCRIPTIONS}/{id}");
    match stream_number(id) {
        Some(n) if *method == Method::DELETE && st.hub.close(n) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Some(n) if *method != Method::DELETE && st.hub.is_open(n) => {
            ok(destination_doc(SUBSCRIPTIONS, n))
        }
        _ if *method != Method::DELETE && st.fixed.replay.is_some() => {
            match super::replay::recorded(st, &path) {
                Some(doc) => ok(doc),
                None => missing(&path),
            }
        }
        _ => missing(&path),
    }
}

/// Whether an `Accept` header allows an event stream (no header does).
fn accepts_event_stream(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    accept.split(',').any(|t| {
        let t = t.split(';').next().unwrap_or("").trim();
        matches!(t, "text/event-stream" | "text/*" | "*/*")
    })
}

/// `GET /redfish/v1/EventService/SSE`.
pub(super) fn sse(st: &Arc<SimState>, headers: &HeaderMap) -> Response {
    if !accepts_event_stream(headers) {
        return error(
            StatusCode::BAD_REQUEST,
            "GeneralError",
            &format!("{SSE_URI} answers only text/event-stream."),
            "Accept text/event-stream and resubmit the request.",
        );
    }
    let (n, closed) = st.hub.open();
    AtomicCounters::bump(&st.counters.sse_streams);
    let rxs: Vec<watch::Receiver<PowerEvent>> = (0..st.fixed.systems)
        .map(|i| {
            let mut rx = st.power_events(i);
            rx.borrow_and_update();
            rx
        })
        .collect();
    let feed = Feed {
        st: st.clone(),
        n,
        rxs,
        paths: st.system_paths(),
        closed,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let i = feed.next_change().await?;
        let event = *feed.rxs[i].borrow_and_update();
        let id = feed.st.hub.next_id();
        let data: Value = power_event(id, &feed.paths[i], event.state);
        AtomicCounters::bump(&feed.st.counters.events_sent);
        let sse = Event::default().id(id.to_string()).data(data.to_string());
        Some((Ok::<_, Infallible>(sse), feed))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// One open stream; dropping it (the stream ended or its client went away) removes its
/// EventDestination.
struct Feed {
    st: Arc<SimState>,
    n: u64,
    rxs: Vec<watch::Receiver<PowerEvent>>,
    paths: Vec<String>,
    closed: CancellationToken,
}

impl Feed {
    /// The index of the next system whose power changed; `None` once the stream must end.
    async fn next_change(&mut self) -> Option<usize> {
        let Feed {
            st, rxs, closed, ..
        } = self;
        if rxs.is_empty() {
            tokio::select! {
                () = closed.cancelled() => {}
                () = st.stop.cancelled() => {}
            }
            return None;
        }
        let any = select_all(rxs.iter_mut().map(|r| Box::pin(r.changed())));
        tokio::select! {
            () = closed.cancelled() => None,
            () = st.stop.cancelled() => None,
            (changed, i, _rest) = any => changed.ok().map(|()| i),
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.st.hub.remove(self.n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_decides_the_stream() {
        let mut h = HeaderMap::new();
        assert!(accepts_event_stream(&h));
        h.insert(ACCEPT, "application/json".parse().unwrap());
        assert!(!accepts_event_stream(&h));
        h.insert(ACCEPT, "text/event-stream; q=1".parse().unwrap());
        assert!(accepts_event_stream(&h));
        h.insert(ACCEPT, "application/json, */*".parse().unwrap());
        assert!(accepts_event_stream(&h));
    }
}
