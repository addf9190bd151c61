//! A recorded Redfish tree (`tests/fixtures/redfish-mockups/`) served read-only by
//! sushy-tools' `sushy-static`, variants of the trees made in a temporary directory, and
//! the HSM reads the tests on them check.
//!
//! sushy-static answers a missing resource with a 404 HTML page, which is how a resource
//! recorded as `error.txt` answers too; [`break_resource`] makes one. It is served over
//! plain HTTP: its HTTPS ends each answer by closing the connection without a TLS
//! close_notify, which rustls rightly refuses as a possible truncation (certificate trust
//! is tested on SimBmc in `bmc_tls.rs`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, poll};
use crate::power::{EP, discovered};

/// One recorded tree served by `sushy-static`.
pub struct Static {
    pub port: u16,
    child: Child,
}

impl Static {
    pub async fn serve(tree: &Path) -> Static {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/venv/bin/sushy-static");
        assert!(
            bin.is_file(),
            "{} is missing: run scripts/test.sh (or scripts/peers.sh) to install sushy-tools",
            bin.display()
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        // It prints every request's headers (Basic credentials included): not kept.
        let mut child = Command::new(&bin)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m"])
            .arg(tree)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let up = poll(Duration::from_secs(15), async || {
            if let Ok(Some(status)) = child.try_wait() {
                return Ok(Err(status));
            }
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map(|_| Ok(()))
        })
        .await;
        match up {
            Ok(Ok(())) => {}
            other => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "sushy-static did not come up on port {port} ({other:?}): {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Static { port, child }
    }
}

impl Drop for Static {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/redfish-mockups")
        .join(name)
}

/// A copy of a recorded tree to change.
pub fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Copy `from` to `to` (directories), replacing each `(old, new)` in every file's text.
pub fn copy_rewritten(from: &Path, to: &Path, subst: &[(&str, &str)]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_rewritten(&entry.path(), &target, subst);
        } else {
            let mut text = std::fs::read_to_string(entry.path()).unwrap();
            for (old, new) in subst {
                text = text.replace(old, new);
            }
            std::fs::write(target, text).unwrap();
        }
    }
}

/// Make a resource answer as an `error.txt` one does: its document is gone.
pub fn break_resource(tree: &Path, rel: &str) {
    let dir = tree.join(rel);
    std::fs::remove_file(dir.join("index.json")).unwrap();
    std::fs::write(dir.join("error.txt"), "HTTP 500\n").unwrap();
}

/// List these members (ids under `/redfish/v1/Systems/`) in the Systems collection.
pub fn list_systems(tree: &Path, ids: &[&str]) {
    let doc = json!({
        "@odata.id": "/redfish/v1/Systems",
        "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
        "Members": ids.iter().map(|i| json!({"@odata.id": format!("/redfish/v1/Systems/{i}")})).collect::<Vec<_>>(),
        "Members@odata.count": ids.len(),
        "Name": "Systems Collection"
    });
    std::fs::write(tree.join("Systems/index.json"), doc.to_string()).unwrap();
}

/// Register a BMC as `cray hsm inventory redfishEndpoints create` does, over plain HTTP.
pub async fn register_plain(s: &Server, id: &str, port: u16) {
    let body = json!({"ID": id, "FQDN": format!("127.0.0.1:{port}"), "User": "root", "Password": "initial0", "Scheme": "http"});
    let (st, v) = s.send(Method::POST, EP, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

pub async fn rediscover(s: &Server, id: &str, extra: Value) -> Value {
    let mut body = json!({"xnames": [id]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = s
        .send(Method::POST, "/apis/smd/hsm/v2/Inventory/Discover", body)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    ok(discovered(s, id).await)
}

pub fn ok(ep: Value) -> Value {
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep:#}"
    );
    ep
}

/// The BMC's component endpoints as `(node, OdataID)`, sorted by node.
pub async fn nodes_of(s: &Server, bmc: &str) -> Vec<(String, String)> {
    let (_, v) = s
        .get(&format!(
            "/apis/smd/hsm/v2/Inventory/ComponentEndpoints?redfish_ep_id={bmc}"
        ))
        .await;
    let mut out: Vec<(String, String)> = v["ComponentEndpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["ID"].as_str().unwrap().to_string(),
                c["OdataID"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The MACs HSM's EthernetInterfaces give `node`, sorted.
pub async fn macs_of(s: &Server, node: &str) -> Vec<String> {
    let (_, v) = s
        .get(&format!(
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces?ComponentID={node}"
        ))
        .await;
    let mut macs: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["MACAddress"].as_str().unwrap().to_string())
        .collect();
    macs.sort();
    macs
}

pub fn problems(ep: &Value) -> Vec<(String, String, String)> {
    ep["DiscoveryInfo"]["Problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["Kind"].as_str().unwrap().to_string(),
                        p["Resource"].as_str().unwrap().to_string(),
                        p["Message"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A copy of EX425 with four nodes, Node2 and Node3 made from Node0 with their own MACs,
/// listed in the order given.
pub fn four_node_blade(order: &[&str]) -> tempfile::TempDir {
    let tree = copy_of("EX425");
    let systems = tree.path().join("Systems");
    for (n, mac) in [
        ("Node2", "00:40:a6:83:52:62"),
        ("Node3", "00:40:a6:83:52:63"),
    ] {
        copy_rewritten(
            &systems.join("Node0"),
            &systems.join(n),
            &[("Node0", n), ("00:40:a6:83:52:5f", mac)],
        );
    }
    list_systems(tree.path(), order);
    tree
}
