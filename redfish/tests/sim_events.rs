//! SimBmc's EventService: the SSE stream read over real HTTP with raw reqwest, on a synthetic
//! BMC and on a replayed tree, and a BMC without events.

#![cfg(feature = "sim")]

use std::path::PathBuf;
use std::time::Duration;

use redfish::sim::{Mockup, SimBmc, SimConfig};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

async fn get(bmc: &SimBmc, path: &str) -> (StatusCode, Value) {
    let resp = Client::new()
        .get(format!("{}{path}", bmc.url()))
        .basic_auth("admin", Some("password"))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn reset(bmc: &SimBmc, system: usize, reset_type: &str) {
    let path = format!(
        "{}/Actions/ComputerSystem.Reset",
        bmc.system_paths()[system]
    );
    let resp = Client::new()
        .post(format!("{}{path}", bmc.url()))
        .basic_auth("admin", Some("password"))
        .json(&json!({ "ResetType": reset_type }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "{reset_type}");
}

/// An open SSE stream and what has been read of it so far.
struct Stream {
    resp: Response,
    buf: String,
}

impl Stream {
    async fn open(bmc: &SimBmc, uri: &str) -> Stream {
        let resp = Client::new()
            .get(format!("{}{uri}", bmc.url()))
            .basic_auth("admin", Some("password"))
            .header("Accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["Content-Type"], "text/event-stream");
        Stream {
            resp,
            buf: String::new(),
        }
    }

    /// The next event with data: (id, the Event JSON). Comment lines are skipped.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some((
                    id.expect("every event has an id"),
                    serde_json::from_str(&data).unwrap(),
                ));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.resp.chunk())
                .await
                .expect("an event in time")
                .unwrap()?;
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event's (OriginOfCondition, Message).
    async fn next_change(&mut self) -> (String, String) {
        let (_, ev) = self.next().await.expect("the stream is open");
        assert_eq!(ev["@odata.type"], "#Event.v1_7_0.Event");
        let e = &ev["Events"][0];
        assert_eq!(e["MessageId"], "ResourceEvent.1.0.ResourceChanged");
        (
            e["OriginOfCondition"]["@odata.id"]
                .as_str()
                .unwrap()
                .to_string(),
            e["Message"].as_str().unwrap().to_string(),
        )
    }
}

#[tokio::test]
async fn sse_delivers_power_state_changes() {
    let bmc = SimBmc::start(SimConfig {
        systems: 2,
        power_delay: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (_, root) = get(&bmc, "/redfish/v1").await;
    let (s, es) = get(&bmc, root["EventService"]["@odata.id"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let uri = es["ServerSentEventUri"].as_str().unwrap().to_string();
    let mut stream = Stream::open(&bmc, &uri).await;

    // The stream is an EventDestination while it is open.
    let subs = es["Subscriptions"]["@odata.id"].as_str().unwrap();
    let (_, list) = get(&bmc, subs).await;
    let dest = list["Members"][0]["@odata.id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, d) = get(&bmc, &dest).await;
    assert_eq!(d["SubscriptionType"], "SSE");

    reset(&bmc, 1, "On").await;
    let node1 = "/redfish/v1/Systems/Node1".to_string();
    assert_eq!(
        stream.next_change().await,
        (
            node1.clone(),
            format!("The PowerState of {node1} is now PoweringOn.")
        )
    );
    assert_eq!(
        stream.next_change().await,
        (
            node1.clone(),
            format!("The PowerState of {node1} is now On.")
        )
    );
    // An instant restart still shows up (PowerState alone cannot show it).
    bmc.set_power_delay(Duration::ZERO);
    reset(&bmc, 1, "ForceRestart").await;
    let (origin, msg) = stream.next_change().await;
    assert_eq!(
        (origin.as_str(), msg.ends_with("now On.")),
        (node1.as_str(), true)
    );
    // A change made outside Redfish is published too.
    bmc.set_power_state(0, "On");
    assert_eq!(stream.next_change().await.0, "/redfish/v1/Systems/Node0");
    assert_eq!(bmc.counters().sse_streams, 1);
    assert_eq!(bmc.counters().events_sent, 4);

    // DELETE of the EventDestination closes the stream, and it is gone.
    let resp = Client::new()
        .delete(format!("{}{dest}", bmc.url()))
        .basic_auth("admin", Some("password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(stream.next().await.is_none(), "the stream ended");
    assert_eq!(get(&bmc, &dest).await.0, 404);
    assert_eq!(get(&bmc, subs).await.1["Members"], json!([]));

    // A client that closes its stream takes its EventDestination with it.
    let stream = Stream::open(&bmc, &uri).await;
    assert_eq!(
        get(&bmc, subs).await.1["Members"].as_array().unwrap().len(),
        1
    );
    drop(stream);
    let start = std::time::Instant::now();
    while !get(&bmc, subs).await.1["Members"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(start.elapsed() < Duration::from_secs(10), "never removed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Asking for JSON instead of a stream is a Redfish error.
    let resp = Client::new()
        .get(format!("{}{uri}", bmc.url()))
        .basic_auth("admin", Some("password"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    bmc.shutdown().await;
}

#[tokio::test]
async fn sse_on_a_replayed_ex425_shows_its_graceful_off() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/redfish-mockups/EX425");
    let bmc = SimBmc::start(SimConfig {
        mockup: Some(Mockup::load(dir).unwrap()),
        power_delay: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (_, es) = get(&bmc, "/redfish/v1/EventService").await;
    assert_eq!(es["ServerSentEventUri"], "/redfish/v1/EventService/SSE");
    let (_, subs) = get(&bmc, "/redfish/v1/EventService/Subscriptions").await;
    let recorded = subs["Members"].as_array().unwrap().len();
    assert!(recorded > 0, "the recorded subscriptions are still listed");
    let mut stream = Stream::open(&bmc, "/redfish/v1/EventService/SSE").await;
    let (_, subs) = get(&bmc, "/redfish/v1/EventService/Subscriptions").await;
    assert_eq!(subs["Members"].as_array().unwrap().len(), recorded + 1);
    reset(&bmc, 0, "Off").await;
    let node0 = "/redfish/v1/Systems/Node0";
    assert_eq!(
        stream.next_change().await,
        (
            node0.into(),
            format!("The PowerState of {node0} is now PoweringOff.")
        )
    );
    assert_eq!(
        stream.next_change().await,
        (
            node0.into(),
            format!("The PowerState of {node0} is now Off.")
        )
    );
    bmc.shutdown().await;
}

#[tokio::test]
async fn a_bmc_without_events() {
    let bmc = SimBmc::start(SimConfig {
        events: false,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (_, root) = get(&bmc, "/redfish/v1").await;
    assert!(root.get("EventService").is_none());
    assert_eq!(get(&bmc, "/redfish/v1/EventService/SSE").await.0, 404);
    assert_eq!(get(&bmc, "/redfish/v1/EventService").await.0, 404);
    bmc.shutdown().await;

    // A replayed tree keeps its recorded EventService, without a stream.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/redfish-mockups/OpenBMC-stock");
    let bmc = SimBmc::start(SimConfig {
        mockup: Some(Mockup::load(dir).unwrap()),
        events: false,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (s, es) = get(&bmc, "/redfish/v1/EventService").await;
    assert_eq!(s, 200);
    assert!(es.get("ServerSentEventUri").is_none(), "{es}");
    assert_eq!(get(&bmc, "/redfish/v1/EventService/SSE").await.0, 404);
    bmc.shutdown().await;
}
