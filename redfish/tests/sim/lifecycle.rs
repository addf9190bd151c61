//! The SimBmc handle itself: shareable across tasks, closing its listener at shutdown, and a
//! fleet of a thousand BMCs.

use std::time::{Duration, Instant};

use redfish::sim::{SimBmc, SimConfig, SimFleet};

use super::{client, get, reset, start};

#[test]
fn handles_are_shareable() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    assert_shareable::<SimBmc>();
    assert_shareable::<SimConfig>();
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let bmc = start(SimConfig::default()).await;
    let addr = bmc.addr();
    let c = client();
    assert_eq!(get(&c, &bmc, "/redfish/v1").await.0, 200);
    bmc.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    // The kept-alive connection was dropped too.
    assert!(
        c.get(format!("http://{addr}/redfish/v1"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn fleet_of_a_thousand_bmcs() {
    let cfg = SimConfig {
        systems: 10,
        power_delay: Duration::from_secs(3600),
        ..SimConfig::default()
    };
    let t = Instant::now();
    let fleet = SimFleet::start(1000, cfg)
        .await
        .expect("start fleet (needs ~1,000 file descriptors)");
    assert_eq!(fleet.bmcs.len(), 1000);
    let c = client();
    for &i in &[0usize, 1, 499, 999] {
        let bmc = &fleet.bmcs[i];
        let (s, coll) = get(&c, bmc, "/redfish/v1/Systems").await;
        assert_eq!(s, 200);
        assert_eq!(coll["Members@odata.count"], 10);
        // A transition pending for an hour costs nothing but a deadline.
        let (s, _) = reset(&c, bmc, 9, "On").await;
        assert_eq!(s, 204);
        assert_eq!(bmc.power_state(9), "PoweringOn");
    }
    // MACs are distinct across the whole fleet.
    let mut macs: Vec<String> = fleet
        .bmcs
        .iter()
        .flat_map(|b| (0..10).flat_map(move |s| b.macs(s)))
        .collect();
    macs.sort();
    macs.dedup();
    assert_eq!(macs.len(), 10_000);
    let n = fleet.counters();
    assert_eq!((n.requests, n.resets), (8, 4));
    fleet.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}
