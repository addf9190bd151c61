//! The fault knobs: failing the next requests, latency, and an unresponsive BMC.

use std::time::{Duration, Instant};

use redfish::sim::SimConfig;
use reqwest::{Client, Method};

use super::{call, client, get, message_id, reset, start, wait_for};

#[tokio::test]
async fn fail_next_then_success() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    bmc.fail_next(2, 503);
    // The service root GET is never failed and does not use up a fault.
    let (s, _) = get(&c, &bmc, "/redfish/v1").await;
    assert_eq!(s, 200);
    for _ in 0..2 {
        let (s, h, body) = call(&c, &bmc, Method::GET, "/redfish/v1/Systems", None, &[]).await;
        assert_eq!(s, 503);
        assert_eq!(h["Retry-After"], "1");
        assert_eq!(message_id(&body), "Base.1.8.ServiceTemporarilyUnavailable");
    }
    let (s, _) = get(&c, &bmc, "/redfish/v1/Systems").await;
    assert_eq!(s, 200);

    bmc.fail_next(1, 500);
    let (s, body) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 500);
    assert!(body["error"].is_object());
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(bmc.counters().requests, 5);
    assert_eq!(bmc.counters().resets, 0);
    bmc.shutdown().await;
}

#[tokio::test]
async fn latency_knob_delays_responses() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    get(&c, &bmc, "/redfish/v1").await; // warm the connection
    bmc.set_latency(Duration::from_millis(300));
    let t = Instant::now();
    let (s, _) = get(&c, &bmc, "/redfish/v1/Systems/Nope").await;
    assert_eq!(s, 404, "errors are delayed too");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    bmc.set_latency(Duration::ZERO);
    let t = Instant::now();
    get(&c, &bmc, "/redfish/v1").await;
    assert!(t.elapsed() < Duration::from_secs(5));
    bmc.shutdown().await;
}

#[tokio::test]
async fn unresponsive_knob_times_clients_out() {
    let bmc = start(SimConfig::default()).await;
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    bmc.set_unresponsive(true);
    let err = impatient
        .get(format!("{}/redfish/v1", bmc.url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(bmc.counters().requests, 1, "the request was read");

    // A patient request is released when the knob goes off.
    let c = client();
    let url = format!("{}/redfish/v1", bmc.url());
    let pending = tokio::spawn(async move { c.get(url).send().await.map(|r| r.status()) });
    assert!(wait_for(Duration::from_secs(10), || bmc.counters().requests == 2).await);
    bmc.set_unresponsive(false);
    assert_eq!(pending.await.unwrap().unwrap(), 200);

    // Shutdown does not wait for held requests.
    bmc.set_unresponsive(true);
    let url = format!("{}/redfish/v1", bmc.url());
    let pending = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    assert!(wait_for(Duration::from_secs(10), || bmc.counters().requests == 3).await);
    tokio::time::timeout(Duration::from_secs(10), bmc.shutdown())
        .await
        .expect("shutdown returns");
    assert!(pending.await.unwrap().is_err());
}
