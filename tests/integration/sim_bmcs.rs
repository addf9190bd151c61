//! `rackboot sim bmcs --mockup DIR`: the CLI serving replayed BMCs from a recorded tree, each
//! with its own state and its own MACs, read back over HTTP as a client would.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `sim bmcs` child, killed (by its own pid) when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn get(c: &reqwest::Client, base: &str, path: &str) -> Value {
    let resp = c
        .get(format!("{base}{path}"))
        .basic_auth("admin", Some("password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {base}{path}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn sim_bmcs_replays_a_tree_with_distinct_macs() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = dir.path().join("endpoints.json");
    let tree = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/redfish-mockups/EX425"
    );
    let child = Command::new(env!("CARGO_BIN_EXE_rackboot"))
        .args(["sim", "bmcs", "--count", "2", "--mockup", tree])
        .args(["--nodes", "Node3,Node1,Node2,Node0", "--endpoints"])
        .arg(&endpoints)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _served = Served(child);
    let start = Instant::now();
    let doc: Value = loop {
        if let Ok(text) = std::fs::read_to_string(&endpoints)
            && let Ok(v) = serde_json::from_str(&text)
        {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no endpoints file"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let eps = doc["RedfishEndpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    let c = reqwest::Client::new();
    let mut macs = BTreeSet::new();
    let mut count = 0;
    for ep in eps {
        let base = format!("http://{}", ep["FQDN"].as_str().unwrap());
        let systems = get(&c, &base, "/redfish/v1/Systems").await;
        let ids: Vec<&str> = systems["Members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["@odata.id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["Node3", "Node1", "Node2", "Node0"].map(|n| format!("/redfish/v1/Systems/{n}"))
        );
        for id in ids {
            let nics = get(&c, &base, &format!("{id}/EthernetInterfaces")).await;
            for m in nics["Members"].as_array().unwrap() {
                let nic = get(&c, &base, m["@odata.id"].as_str().unwrap()).await;
                if let Some(mac) = nic["MACAddress"].as_str().filter(|m| m.len() == 17) {
                    count += 1;
                    macs.insert(mac.to_ascii_lowercase());
                }
            }
        }
    }
    assert!(count >= 8, "{count} MACs");
    assert_eq!(macs.len(), count, "no MAC is served twice: {macs:?}");
}
