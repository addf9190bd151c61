//! Discovery on recorded trees of real BMCs (`tests/fixtures/redfish-mockups/`: HPE iLO
//! DL325, a 2-node Cray EX425 blade, AMI/Gigabyte, stock OpenBMC, DMTF's rackmount sample),
//! each served read-only by sushy-tools' `sushy-static` over HTTPS with a self-signed
//! certificate, and registered with nothing but the body `cray hsm inventory
//! redfishEndpoints create` sends (`ID`, `FQDN`, `User`, `Password`): the certificate is
//! pinned on first contact (`bmc_tls = tofu`, the default), and the nodes, MACs, UUIDs and
//! reset types must come out as the tree has them and HSM would name them.
//!
//! Variants of the trees (a NIC or Manager that does not answer, an out-of-order 4-node
//! blade, a blade that gains a node) are copies in a temporary directory, changed by the
//! test. sushy-static answers a missing resource with a 404 HTML page, which is how a
//! resource recorded as `error.txt` answers too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cli::rackboot;
use crate::common::{Server, poll};
use crate::power::{EP, discovered, start_fast};

/// One recorded tree served by `sushy-static` over HTTPS.
struct Static {
    port: u16,
    sha256: String,
    child: Child,
    _certs: tempfile::TempDir,
}

impl Static {
    async fn serve(tree: &Path) -> Static {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/venv/bin/sushy-static");
        assert!(
            bin.is_file(),
            "{} is missing: run scripts/test.sh (or scripts/peers.sh) to install sushy-tools",
            bin.display()
        );
        let certs = tempfile::tempdir().unwrap();
        let (cert, key, sha256) = redfish::sim::self_signed_cert(&["127.0.0.1", "localhost"]);
        let (cert_path, key_path) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        // It prints every request's headers (Basic credentials included): not kept.
        let mut child = Command::new(&bin)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m"])
            .arg(tree)
            .arg("-c")
            .arg(&cert_path)
            .arg("-k")
            .arg(&key_path)
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
        Static {
            port,
            sha256,
            child,
            _certs: certs,
        }
    }
}

impl Drop for Static {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/redfish-mockups")
        .join(name)
}

/// A copy of a recorded tree to change.
fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
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
fn copy_rewritten(from: &Path, to: &Path, subst: &[(&str, &str)]) {
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
fn break_resource(tree: &Path, rel: &str) {
    let dir = tree.join(rel);
    std::fs::remove_file(dir.join("index.json")).unwrap();
    std::fs::write(dir.join("error.txt"), "HTTP 500\n").unwrap();
}

/// List these members (ids under `/redfish/v1/Systems/`) in the Systems collection.
fn list_systems(tree: &Path, ids: &[&str]) {
    let doc = json!({
        "@odata.id": "/redfish/v1/Systems",
        "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
        "Members": ids.iter().map(|i| json!({"@odata.id": format!("/redfish/v1/Systems/{i}")})).collect::<Vec<_>>(),
        "Members@odata.count": ids.len(),
        "Name": "Systems Collection"
    });
    std::fs::write(tree.join("Systems/index.json"), doc.to_string()).unwrap();
}

/// Register a BMC exactly as `cray hsm inventory redfishEndpoints create` does.
async fn register_plain(s: &Server, id: &str, port: u16) {
    let body = json!({"ID": id, "FQDN": format!("127.0.0.1:{port}"), "User": "root", "Password": "initial0"});
    let (st, v) = s.send(Method::POST, EP, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

async fn rediscover(s: &Server, id: &str, extra: Value) -> Value {
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

fn ok(ep: Value) -> Value {
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep:#}"
    );
    ep
}

/// The BMC's component endpoints as `(node, OdataID)`, sorted by node.
async fn nodes_of(s: &Server, bmc: &str) -> Vec<(String, String)> {
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
async fn macs_of(s: &Server, node: &str) -> Vec<String> {
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

fn problems(ep: &Value) -> Vec<(String, String, String)> {
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

/// What a tree must give: the BMC's UUID, then per node (in node order) its system, UUID,
/// reset types and MACs as the tree records them.
struct Expect {
    tree: &'static str,
    uuid: &'static str,
    power: &'static str,
    nodes: &'static [(
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    )],
}

const TREES: &[Expect] = &[
    Expect {
        tree: "DL325",
        uuid: "51b90f18-5aa5-5613-a356-809a476c3dd0",
        power: "On",
        nodes: &[(
            "/redfish/v1/Systems/1",
            "36383150-3630-584D-5130-313930323042",
            &[
                "On",
                "ForceOff",
                "GracefulShutdown",
                "ForceRestart",
                "Nmi",
                "PushPowerButton",
                "GracefulRestart",
            ],
            &[
                "94:40:c9:5c:86:bc",
                "94:40:c9:5c:86:bd",
                "14:02:ec:d9:3a:a0",
                "14:02:ec:d9:3a:a1",
            ],
        )],
    },
    Expect {
        tree: "EX425",
        uuid: "",
        power: "On",
        // The HSN ports' MACs read "Not Available": left out.
        nodes: &[
            (
                "/redfish/v1/Systems/Node0",
                "",
                &["ForceOff", "On", "Off"],
                &["00:40:a6:83:52:5f"],
            ),
            (
                "/redfish/v1/Systems/Node1",
                "",
                &["ForceOff", "On", "Off"],
                &["00:40:a6:83:52:60"],
            ),
        ],
    },
    Expect {
        tree: "Gigabyte",
        uuid: "009ea76e-debf-0010-e803-b42e99bade17",
        power: "On",
        // Lan2 and Lan3 report the same MAC: recorded once.
        nodes: &[(
            "/redfish/v1/Systems/Self",
            "e9184000-7983-11ec-8000-b42e99bade15",
            &["GracefulShutdown", "ForceRestart", "ForceOff", "On"],
            &["b4:2e:99:ba:de:16", "b4:2e:99:ba:de:15"],
        )],
    },
    Expect {
        tree: "OpenBMC-stock",
        uuid: "34a1c22d-3f42-4cf6-9830-1cfe1d0fdffd",
        power: "Off",
        nodes: &[(
            "/redfish/v1/Systems/system",
            "",
            &[
                "On",
                "ForceOff",
                "ForceOn",
                "ForceRestart",
                "GracefulRestart",
                "GracefulShutdown",
                "PowerCycle",
                "Nmi",
            ],
            &[],
        )],
    },
    Expect {
        tree: "public-rackmount1",
        uuid: "92384634-2938-2342-8820-489239905423",
        power: "On",
        // NIC 2 is a VLAN interface (VLANEnable, VLANId 101): not a port the node boots from.
        nodes: &[(
            "/redfish/v1/Systems/437XR1138R2",
            "38947555-7742-3448-3784-823347823834",
            &[
                "On",
                "ForceOff",
                "GracefulShutdown",
                "GracefulRestart",
                "ForceRestart",
                "Nmi",
                "ForceOn",
                "PushPowerButton",
            ],
            &["12:44:6a:3b:04:11"],
        )],
    },
];

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools (sushy-static) in .peers/venv; scripts/test.sh installs and runs it"]
async fn every_recorded_tree_is_discovered_as_hsm_would_through_the_plain_hsm_api() {
    let (s, _d) = start_fast().await;
    for (slot, want) in TREES.iter().enumerate() {
        let peer = Static::serve(&fixture(want.tree)).await;
        let bmc = format!("x3000c0s{}b0", slot + 1);
        register_plain(&s, &bmc, peer.port).await;
        let ep = ok(discovered(&s, &bmc).await);
        let t = want.tree;
        // Self-signed, registered without any trust field: pinned on first contact.
        assert_eq!(ep["TLS"], format!("tofu:{}", peer.sha256), "{t}");
        assert_eq!(ep["CertSHA256"], peer.sha256, "{t}");
        assert_eq!(ep["UUID"], want.uuid, "{t}: the service root's UUID");
        assert_eq!(
            (&ep["Hostname"], &ep["Domain"]),
            (&json!("127.0.0.1"), &json!("")),
            "{t}"
        );
        assert_eq!(problems(&ep), vec![], "{t}: {ep:#}");
        assert!(
            !ep.to_string().contains("initial0"),
            "{t}: the password is never shown"
        );
        let (_, ces) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/ComponentEndpoints?redfish_ep_id={bmc}"
            ))
            .await;
        let ces = ces["ComponentEndpoints"].as_array().unwrap();
        assert_eq!(ces.len(), want.nodes.len(), "{t}: {ces:#?}");
        for (i, (path, uuid, resets, macs)) in want.nodes.iter().enumerate() {
            let node = format!("{bmc}n{i}");
            let ce = ces
                .iter()
                .find(|c| c["ID"] == node)
                .unwrap_or_else(|| panic!("{t}: no {node}"));
            assert_eq!(ce["OdataID"], *path, "{t} {node}");
            assert_eq!(ce["UUID"], *uuid, "{t} {node}");
            let info = &ce["RedfishSystemInfo"];
            assert_eq!(
                info["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"],
                json!(resets),
                "{t} {node}"
            );
            assert_eq!(
                info["Actions"]["#ComputerSystem.Reset"]["target"],
                format!("{path}/Actions/ComputerSystem.Reset"),
                "{t} {node}"
            );
            let nics: Vec<&str> = info["EthernetNICInfo"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["MACAddress"].as_str().unwrap())
                .collect();
            assert_eq!(nics, *macs, "{t} {node}");
            let mut sorted: Vec<String> = macs.iter().map(|m| m.to_string()).collect();
            sorted.sort();
            assert_eq!(macs_of(&s, &node).await, sorted, "{t} {node}");
            let (_, comp) = s
                .get(&format!("/apis/smd/hsm/v2/State/Components/{node}"))
                .await;
            assert_eq!(comp["State"], want.power, "{t} {node}");
        }
    }
    s.stop().await;
}

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools (sushy-static) in .peers/venv; scripts/test.sh installs and runs it"]
async fn a_failing_nic_or_manager_leaves_the_rest_discovered_with_the_problem_recorded() {
    let tree = copy_of("DL325");
    break_resource(tree.path(), "Systems/1/EthernetInterfaces/3");
    break_resource(tree.path(), "Managers/1");
    let peer = Static::serve(tree.path()).await;
    let (s, _d) = start_fast().await;
    register_plain(&s, "x3000c0s1b0", peer.port).await;
    let ep = ok(discovered(&s, "x3000c0s1b0").await);
    assert_eq!(
        macs_of(&s, "x3000c0s1b0n0").await,
        [
            "14:02:ec:d9:3a:a1",
            "94:40:c9:5c:86:bc",
            "94:40:c9:5c:86:bd"
        ],
        "every NIC but the broken one"
    );
    let got = problems(&ep);
    let resources: Vec<(&str, &str)> = got
        .iter()
        .map(|(k, r, _)| (k.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        resources,
        [
            ("Unreadable", "/redfish/v1/Systems/1/EthernetInterfaces/3"),
            ("Unreadable", "/redfish/v1/Managers/1"),
        ]
    );
    let nic = &got[0].2;
    assert!(
        nic.contains(&format!("BMC 127.0.0.1:{}", peer.port))
            && nic.contains("GET /redfish/v1/Systems/1/EthernetInterfaces/3")
            && nic.contains("HTTP 404")
            && nic.contains("an HTML page titled 'Error response'"),
        "{nic}"
    );
    assert!(
        !ep.to_string().contains('<'),
        "no HTML in the record: {ep:#}"
    );
    // `rackboot bmc list` shows them.
    let (ok_, out, err) = rackboot(&s.base, &["bmc", "list"]).await;
    assert!(ok_, "{out}{err}");
    assert!(out.contains("2 problems"), "{out}");
    assert!(
        out.contains(
            "x3000c0s1b0 Unreadable /redfish/v1/Systems/1/EthernetInterfaces/3: BMC 127.0.0.1"
        ),
        "{out}"
    );
    assert!(out.contains(&format!("tofu:{}", peer.sha256)), "{out}");

    // A system that stops answering keeps its node (and its endpoint) on rediscovery.
    break_resource(tree.path(), "Systems/1");
    let ep = rediscover(&s, "x3000c0s1b0", json!({})).await;
    assert_eq!(
        nodes_of(&s, "x3000c0s1b0").await,
        [(
            "x3000c0s1b0n0".to_string(),
            "/redfish/v1/Systems/1".to_string()
        )]
    );
    assert_eq!(problems(&ep)[0].1, "/redfish/v1/Systems/1");
    // Only the Systems collection (or the service root) fails the BMC.
    break_resource(tree.path(), "Systems");
    let (st, _) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/Inventory/Discover",
            json!({"xnames": ["x3000c0s1b0"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let ep = discovered(&s, "x3000c0s1b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "HTTPsGetFailed",
        "{ep:#}"
    );
    let err = ep["DiscoveryInfo"]["LastDiscoveryError"].as_str().unwrap();
    assert!(
        err.contains("GET Systems") && err.contains("HTTP 404") && !err.contains('<'),
        "{err}"
    );
    s.stop().await;
}

/// A copy of EX425 with four nodes, Node2 and Node3 made from Node0 with their own MACs,
/// listed in the order given.
fn four_node_blade(order: &[&str]) -> tempfile::TempDir {
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

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools (sushy-static) in .peers/venv; scripts/test.sh installs and runs it"]
async fn an_out_of_order_multi_node_blade_is_named_in_sorted_order() {
    let tree = four_node_blade(&["Node3", "Node1", "Node2", "Node0"]);
    let peer = Static::serve(tree.path()).await;
    let (s, _d) = start_fast().await;
    register_plain(&s, "x1000c0s0b0", peer.port).await;
    let ep = ok(discovered(&s, "x1000c0s0b0").await);
    assert_eq!(problems(&ep), vec![]);
    let want: Vec<(String, String)> = (0..4)
        .map(|i| {
            (
                format!("x1000c0s0b0n{i}"),
                format!("/redfish/v1/Systems/Node{i}"),
            )
        })
        .collect();
    assert_eq!(nodes_of(&s, "x1000c0s0b0").await, want);
    let (_, ce) = s
        .get("/apis/smd/hsm/v2/Inventory/ComponentEndpoints/x1000c0s0b0n0")
        .await;
    assert_eq!(
        ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["target"],
        "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset",
        "power off …b0n0 goes to Node0"
    );
    for (i, mac) in [
        "00:40:a6:83:52:5f",
        "00:40:a6:83:52:60",
        "00:40:a6:83:52:62",
        "00:40:a6:83:52:63",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(macs_of(&s, &format!("x1000c0s0b0n{i}")).await, [*mac]);
    }
    // Listed in yet another order later: nothing moves.
    list_systems(tree.path(), &["Node0", "Node2", "Node3", "Node1"]);
    let ep = rediscover(&s, "x1000c0s0b0", json!({})).await;
    assert_eq!(problems(&ep), vec![]);
    assert_eq!(nodes_of(&s, "x1000c0s0b0").await, want);
    s.stop().await;
}

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools (sushy-static) in .peers/venv; scripts/test.sh installs and runs it"]
async fn a_renumbering_is_reported_and_done_only_when_asked() {
    // The blade first shows only Node1, which becomes n0; then Node0 appears.
    let tree = copy_of("EX425");
    list_systems(tree.path(), &["Node1"]);
    let peer = Static::serve(tree.path()).await;
    let (s, _d) = start_fast().await;
    register_plain(&s, "x1000c0s0b0", peer.port).await;
    ok(discovered(&s, "x1000c0s0b0").await);
    let node = |i: usize, sys: &str| {
        (
            format!("x1000c0s0b0n{i}"),
            format!("/redfish/v1/Systems/{sys}"),
        )
    };
    assert_eq!(nodes_of(&s, "x1000c0s0b0").await, [node(0, "Node1")]);

    list_systems(tree.path(), &["Node0", "Node1"]);
    let ep = rediscover(&s, "x1000c0s0b0", json!({})).await;
    // Node1 keeps n0 (its MAC, boot parameters and BOS state stay with it); Node0 takes
    // n1; the difference from HSM's names is reported with how to renumber.
    assert_eq!(
        nodes_of(&s, "x1000c0s0b0").await,
        [node(0, "Node1"), node(1, "Node0")]
    );
    assert_eq!(macs_of(&s, "x1000c0s0b0n0").await, ["00:40:a6:83:52:60"]);
    let p = problems(&ep);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, "NotInHSMOrder");
    for needle in [
        "/redfish/v1/Systems/Node0 is x1000c0s0b0n1 (HSM: x1000c0s0b0n0)",
        "/redfish/v1/Systems/Node1 is x1000c0s0b0n0 (HSM: x1000c0s0b0n1)",
        "rackboot bmc discover x1000c0s0b0 --renumber",
    ] {
        assert!(p[0].2.contains(needle), "{needle} not in {}", p[0].2);
    }

    // Asked for: the nodes move to HSM's names, MACs with them, and the move is recorded.
    let (ok_, out, err) =
        rackboot(&s.base, &["bmc", "discover", "x1000c0s0b0", "--renumber"]).await;
    assert!(ok_, "{out}{err}");
    assert!(
        out.contains("renumbered: /redfish/v1/Systems/Node0 x1000c0s0b0n1 -> x1000c0s0b0n0"),
        "{out}"
    );
    let (_, ep) = s.get(&format!("{EP}/x1000c0s0b0")).await;
    assert_eq!(
        nodes_of(&s, "x1000c0s0b0").await,
        [node(0, "Node0"), node(1, "Node1")]
    );
    assert_eq!(macs_of(&s, "x1000c0s0b0n0").await, ["00:40:a6:83:52:5f"]);
    assert_eq!(macs_of(&s, "x1000c0s0b0n1").await, ["00:40:a6:83:52:60"]);
    assert_eq!(problems(&ep), vec![]);
    assert_eq!(
        ep["DiscoveryInfo"]["Renumbered"],
        json!([
            {"System": "/redfish/v1/Systems/Node0", "From": "x1000c0s0b0n1", "To": "x1000c0s0b0n0"},
            {"System": "/redfish/v1/Systems/Node1", "From": "x1000c0s0b0n0", "To": "x1000c0s0b0n1"},
        ])
    );
    // Once: the next discovery moves nothing.
    let ep = rediscover(&s, "x1000c0s0b0", json!({})).await;
    assert!(ep["DiscoveryInfo"].get("Renumbered").is_none(), "{ep:#}");
    s.stop().await;
}

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools (sushy-static) in .peers/venv; scripts/test.sh installs and runs it"]
async fn a_mac_seen_on_two_bmcs_is_reported_and_stays_with_its_first_owner() {
    // The same BMC registered under two xnames: every MAC is seen twice.
    let peer = Static::serve(&fixture("DL325")).await;
    let (s, _d) = start_fast().await;
    register_plain(&s, "x3000c0s1b0", peer.port).await;
    ok(discovered(&s, "x3000c0s1b0").await);
    let all = [
        "14:02:ec:d9:3a:a0",
        "14:02:ec:d9:3a:a1",
        "94:40:c9:5c:86:bc",
        "94:40:c9:5c:86:bd",
    ];
    assert_eq!(macs_of(&s, "x3000c0s1b0n0").await, all);
    register_plain(&s, "x3000c0s2b0", peer.port).await;
    let ep = ok(discovered(&s, "x3000c0s2b0").await);
    assert_eq!(macs_of(&s, "x3000c0s1b0n0").await, all, "not moved");
    assert!(macs_of(&s, "x3000c0s2b0n0").await.is_empty());
    let p = problems(&ep);
    assert_eq!(p.len(), 4, "{p:#?}");
    let conflict = p.iter().find(|(_, r, _)| r == "94:40:c9:5c:86:bc").unwrap();
    assert_eq!(conflict.0, "MACConflict");
    for needle in [
        "MAC 94:40:c9:5c:86:bc of x3000c0s2b0n0 (/redfish/v1/Systems/1 on BMC x3000c0s2b0)",
        "is already the interface of x3000c0s1b0n0 (behind BMC x3000c0s1b0)",
        "DELETE /apis/smd/hsm/v2/Inventory/EthernetInterfaces/9440c95c86bc",
        "rackboot bmc discover x3000c0s2b0",
    ] {
        assert!(
            conflict.2.contains(needle),
            "{needle} not in {}",
            conflict.2
        );
    }
    // The first owner's rediscovery reports nothing.
    assert_eq!(
        problems(&rediscover(&s, "x3000c0s1b0", json!({})).await),
        vec![]
    );
    // Resolved as the message says: the interface deleted, the second BMC rediscovered.
    let (st, v) = s
        .send(
            Method::DELETE,
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/9440c95c86bc",
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ep = rediscover(&s, "x3000c0s2b0", json!({})).await;
    assert_eq!(macs_of(&s, "x3000c0s2b0n0").await, ["94:40:c9:5c:86:bc"]);
    assert_eq!(problems(&ep).len(), 3);
    s.stop().await;
}
