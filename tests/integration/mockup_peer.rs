//! Discovery on recorded trees of real BMCs (`tests/fixtures/redfish-mockups/`: HPE iLO
//! DL325, a 2-node Cray EX425 blade, AMI/Gigabyte, stock OpenBMC, DMTF's rackmount sample),
//! each served read-only by `sushy-static` (`mockup.rs`) and registered with the body
//! `cray hsm inventory redfishEndpoints create` sends (`ID`, `FQDN`, `User`, `Password`)
//! plus `Scheme: http`: the nodes, MACs, UUIDs and reset types must come out as the tree
//! has them and HSM would name them; a resource that does not answer leaves the rest
//! discovered with the problem recorded; an out-of-order blade is named in sorted order,
//! and a renumbering happens only when asked; a MAC two BMCs report stays with the first.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::cli::rackboot;
use crate::mockup::{
    Static, break_resource, copy_of, fixture, four_node_blade, list_systems, macs_of, nodes_of, ok,
    problems, rediscover, register_plain,
};
use crate::power::{EP, discovered, start_fast};

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
        assert_eq!(ep["UUID"], want.uuid, "{t}: the service root's UUID");
        assert_eq!(
            (&ep["Hostname"], &ep["Domain"]),
            (&json!("127.0.0.1"), &json!("")),
            "{t}"
        );
        // The only problem a clean tree has: a system that lists no host NIC (stock
        // OpenBMC), reported so an admin adds its MAC.
        let kinds: Vec<(String, String)> = problems(&ep)
            .into_iter()
            .map(|(kind, resource, _)| (kind, resource))
            .collect();
        let no_mac: Vec<(String, String)> = want
            .nodes
            .iter()
            .filter(|n| n.3.is_empty())
            .map(|n| ("NoMAC".to_string(), n.0.to_string()))
            .collect();
        assert_eq!(kinds, no_mac, "{t}: {ep:#}");
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
