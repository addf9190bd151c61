//! The HSM subset: components, interfaces, endpoints, groups, partitions, locks, values.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Server, assert_problem};

const C: &str = "/apis/smd/hsm/v2/State/Components";

#[tokio::test]
async fn components_crud_filters_and_force() {
    let s = Server::start().await;
    let (st, v) = s
        .send(
            Method::POST,
            C,
            json!({"Components": [
                {"ID": "X3000C0S1B0N0", "State": "ready", "NID": 1, "Role": "compute", "SubRole": "worker", "Arch": "x86"},
                {"ID": "x3000c0s2b0n0", "State": "Off", "NID": 2, "Role": "Service", "Enabled": false},
                {"ID": "x3000c0s1b0", "State": "On"}
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (_, v) = s.get(&format!("{C}/x3000c0s1b0n0")).await;
    assert_eq!(v["ID"], "x3000c0s1b0n0");
    assert_eq!(
        (
            v["Type"].clone(),
            v["State"].clone(),
            v["Role"].clone(),
            v["SubRole"].clone()
        ),
        (
            json!("Node"),
            json!("Ready"),
            json!("Compute"),
            json!("Worker")
        )
    );
    assert_eq!(v["Flag"], "OK");
    let (_, v) = s.get(&format!("{C}/x3000c0s1b0")).await;
    assert_eq!(v["Type"], "NodeBMC");

    for (q, want) in [
        ("type=Node", vec!["x3000c0s1b0n0", "x3000c0s2b0n0"]),
        ("role=compute", vec!["x3000c0s1b0n0"]),
        ("enabled=false", vec!["x3000c0s2b0n0"]),
        (
            "state=Ready&state=Off",
            vec!["x3000c0s1b0n0", "x3000c0s2b0n0"],
        ),
        ("nid=2", vec!["x3000c0s2b0n0"]),
        ("nid_start=1&nid_end=1", vec!["x3000c0s1b0n0"]),
        (
            "id=x3000c0s1b0n0&id=x3000c0s1b0",
            vec!["x3000c0s1b0", "x3000c0s1b0n0"],
        ),
        ("arch=X86", vec!["x3000c0s1b0n0"]),
        ("subrole=Worker&role=Compute", vec!["x3000c0s1b0n0"]),
    ] {
        let (st, v) = s.get(&format!("{C}?{q}")).await;
        assert_eq!(st, StatusCode::OK, "{q}");
        let ids: Vec<&str> = v["Components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ID"].as_str().unwrap())
            .collect();
        assert_eq!(ids, want, "{q}");
    }
    let (_, v) = s.get(&format!("{C}?stateonly=true&id=x3000c0s1b0n0")).await;
    assert_eq!(
        v["Components"][0],
        json!({"ID": "x3000c0s1b0n0", "Type": "Node", "State": "Ready", "Flag": "OK"})
    );

    // Without Force, POST keeps State; with Force it overwrites.
    let (st, _) = s.send(Method::POST, C, json!({"Components": [{"ID": "x3000c0s1b0n0", "State": "Off", "NID": 1, "Role": "Storage"}]})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, v) = s.get(&format!("{C}/x3000c0s1b0n0")).await;
    assert_eq!(
        (v["State"].clone(), v["Role"].clone()),
        (json!("Ready"), json!("Storage"))
    );
    let (_, _) = s.send(Method::POST, C, json!({"Components": [{"ID": "x3000c0s1b0n0", "State": "Off", "NID": 1}], "Force": true})).await;
    let (_, v) = s.get(&format!("{C}/x3000c0s1b0n0")).await;
    assert_eq!(v["State"], "Off");

    // PUT one, ByNID, per-field and bulk PATCHes.
    let (st, _) = s
        .send(
            Method::PUT,
            &format!("{C}/x3000c0s3b0n0"),
            json!({"Component": {"ID": "x3000c0s3b0n0", "State": "On", "NID": 3}}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, v) = s.get(&format!("{C}/ByNID/3")).await;
    assert_eq!(v["ID"], "x3000c0s3b0n0");
    let (st, _) = s
        .send(
            Method::PATCH,
            &format!("{C}/x3000c0s3b0n0/Enabled"),
            json!({"Enabled": false}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .send(
            Method::PATCH,
            &format!("{C}/x3000c0s3b0n0/Role"),
            json!({"Role": "Application", "SubRole": "UAN"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .send(
            Method::PATCH,
            &format!("{C}/BulkStateData"),
            json!({"ComponentIDs": ["x3000c0s3b0n0", "x3000c0s2b0n0"], "State": "Standby"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, v) = s.get(&format!("{C}/x3000c0s3b0n0")).await;
    assert_eq!(
        (
            v["Enabled"].clone(),
            v["Role"].clone(),
            v["SubRole"].clone(),
            v["State"].clone()
        ),
        (
            json!(false),
            json!("Application"),
            json!("UAN"),
            json!("Standby")
        )
    );

    // Query.
    let (st, v) = s.send(Method::POST, &format!("{C}/Query"), json!({"ComponentIDs": ["x3000c0s3b0n0", "x3000c0s2b0n0", "x3000c0s9b0n0"], "enabled": ["False"]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["Components"].as_array().unwrap().len(), 2);
    let (st, h, v) = s
        .call(
            Method::POST,
            &format!("{C}/Query"),
            Some(json!({"ComponentIDs": []})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "Missing IDs");

    // Delete one, then all.
    let (st, v) = s
        .send(Method::DELETE, &format!("{C}/x3000c0s3b0n0"), json!(null))
        .await;
    assert_eq!((st, v["code"].clone()), (StatusCode::OK, json!(0)));
    let (st, h, v) = s
        .call(Method::DELETE, &format!("{C}/x3000c0s3b0n0"), None)
        .await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "no such component");
    let (st, v) = s.send(Method::DELETE, C, json!(null)).await;
    assert_eq!(
        (st, v["message"].clone()),
        (StatusCode::OK, json!("deleted 3 entries"))
    );
    let (st, h, v) = s.call(Method::DELETE, C, None).await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "no components");
}

#[tokio::test]
async fn component_negatives_write_nothing() {
    let s = Server::start().await;
    for (body, needle) in [
        (
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "On"}, {"ID": "node7", "State": "On"}]}),
            "'node7' is not a valid xname",
        ),
        (
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "Dancing"}]}),
            "invalid State 'Dancing'",
        ),
        (
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "On", "NID": -4}]}),
            "invalid NID",
        ),
        (
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "On", "NID": "seven"}]}),
            "Components[0].NID",
        ),
        (
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "On", "Arch": "sparc"}]}),
            "invalid Arch",
        ),
        (json!({"Components": [{"ID": "x1c0s0b0n0"}]}), "State"),
        (
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "On"}, {"ID": "x1c0s0b0n0", "State": "On"}]}),
            "more than once",
        ),
        (json!({"Components": []}), "at least one"),
    ] {
        let (st, h, v) = s.call(Method::POST, C, Some(body.clone())).await;
        assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, needle);
    }
    let (_, v) = s.get(C).await;
    assert_eq!(v, json!({"Components": []}), "nothing was written");

    let (st, h, v) = s
        .call(Method::GET, &format!("{C}/not-an-xname"), None)
        .await;
    // A lookup with a malformed xname names nothing: 404, as HSM answers (issue 17).
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "is not a valid xname");
    let (st, h, v) = s.call(Method::GET, &format!("{C}?state=Bogus"), None).await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "invalid state 'Bogus'");
    let (st, h, v) = s.call(Method::GET, &format!("{C}?nid=x"), None).await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "invalid NID");

    // NIDs are unique.
    s.send(
        Method::POST,
        C,
        json!({"Components": [{"ID": "x1c0s0b0n0", "State": "On", "NID": 1}]}),
    )
    .await;
    let (st, h, v) = s
        .call(
            Method::POST,
            C,
            Some(json!({"Components": [{"ID": "x1c0s0b0n1", "State": "On", "NID": 1}]})),
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::CONFLICT,
        "NID 1 is already used by x1c0s0b0n0",
    );
    let (st, h, v) = s
        .call(
            Method::PATCH,
            &format!("{C}/x1c0s0b0n9/Enabled"),
            Some(json!({"Enabled": true})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "x1c0s0b0n9");
    let (st, h, v) = s
        .call(
            Method::PATCH,
            &format!("{C}/x1c0s0b0n0/Enabled"),
            Some(json!({})),
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "missing required field Enabled",
    );
}

#[tokio::test]
async fn ethernet_interfaces() {
    let s = Server::start().await;
    let e = "/apis/smd/hsm/v2/Inventory/EthernetInterfaces";
    let (st, v) = s.send(Method::POST, e, json!({"MACAddress": "9A:99:99:99:99:99", "ComponentID": "x1c0s0b0n0", "IPAddresses": [{"IPAddress": "10.252.0.9", "Network": "NMN"}]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // One object, as HSM answers (ResourceURI.1.0.0), not the array the groups POST answers.
    assert_eq!(
        v["URI"],
        "/hsm/v2/Inventory/EthernetInterfaces/9a9999999999"
    );
    let (_, v) = s.get(&format!("{e}/9a9999999999")).await;
    assert_eq!(
        (v["ID"].clone(), v["MACAddress"].clone(), v["Type"].clone()),
        (
            json!("9a9999999999"),
            json!("9a:99:99:99:99:99"),
            json!("Node")
        )
    );
    let (st, h, v) = s
        .call(
            Method::POST,
            e,
            Some(json!({"MACAddress": "9a-99-99-99-99-99"})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::CONFLICT, "registered only once");
    let (st, h, v) = s
        .call(Method::GET, &format!("{e}?ComponentID=BADID"), None)
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "ComponentID");
    let (st, h, v) = s
        .call(Method::POST, e, Some(json!({"MACAddress": "not-a-mac"})))
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "not a valid MAC");
    let (_, v) = s
        .get(&format!("{e}?ComponentID=x1c0s0b0n0&IPAddress=10.252.0.9"))
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (st, v) = s
        .send(
            Method::PATCH,
            &format!("{e}/9a:99:99:99:99:99"),
            json!({"Description": "eth0", "ComponentID": "x1c0s0b0n1"}),
        )
        .await;
    assert_eq!(
        (st, v["Description"].clone(), v["ComponentID"].clone()),
        (StatusCode::OK, json!("eth0"), json!("x1c0s0b0n1"))
    );
    let (st, _) = s
        .send(Method::DELETE, &format!("{e}/9a9999999999"), json!(null))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, h, v) = s
        .call(Method::GET, &format!("{e}/9a9999999999"), None)
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::NOT_FOUND,
        "no such ethernet interface",
    );
}

#[tokio::test]
async fn redfish_endpoint_passwords_are_write_only() {
    // Disabled, so discovery leaves it alone (tests send no traffic off loopback).
    let s = Server::start().await;
    let r = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";
    let (st, v) = s.send(Method::POST, r, json!({"ID": "x3000c0s1b0", "FQDN": "10.1.0.5:8443", "User": "root", "Password": "s3cr3t-pw", "Enabled": false})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, h, v) = s
        .call(Method::POST, r, Some(json!({"ID": "x3000c0s1b0"})))
        .await;
    assert_problem(st, &h, &v, StatusCode::CONFLICT, "already exists");
    let (_, list) = s.get(r).await;
    let (_, one) = s.get(&format!("{r}/x3000c0s1b0")).await;
    for v in [&list["RedfishEndpoints"][0], &one] {
        assert_eq!(v["ID"], "x3000c0s1b0");
        assert_eq!(v["Type"], "NodeBMC");
        // An IP address has no domain (HSM splits host names at the first dot).
        assert_eq!(
            (&v["Hostname"], &v["Domain"]),
            (&json!("10.1.0.5"), &json!(""))
        );
        assert_eq!(v["DiscoveryInfo"]["LastDiscoveryStatus"], "NotYetQueried");
        assert!(v.get("Password").is_none(), "{v}");
        assert!(!v.to_string().contains("s3cr3t-pw"));
    }
    let (st, v) = s
        .send(
            Method::PATCH,
            &format!("{r}/x3000c0s1b0"),
            json!({"User": "admin"}),
        )
        .await;
    assert_eq!((st, v["User"].clone()), (StatusCode::OK, json!("admin")));
    let (st, h, v) = s.call(Method::POST, r, Some(json!({"FQDN": "x"}))).await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "ID");
    let (st, _) = s
        .send(Method::DELETE, &format!("{r}/x3000c0s1b0"), json!(null))
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn groups_partitions_memberships_locks_and_values() {
    let s = Server::start().await;
    for x in ["x1c0s0b0n0", "x1c0s0b0n1", "x1c0s0b0n2"] {
        s.send(
            Method::POST,
            C,
            json!({"Components": [{"ID": x, "State": "On"}]}),
        )
        .await;
    }
    let g = "/apis/smd/hsm/v2/groups";
    let (st, v) = s.send(Method::POST, g, json!({"label": "Blue", "description": "blue", "tags": ["t1"], "exclusiveGroup": "colours", "members": {"ids": ["x1c0s0b0n0"]}})).await;
    assert_eq!(
        (st, v[0]["URI"].clone()),
        (StatusCode::CREATED, json!("/hsm/v2/groups/blue"))
    );
    let (st, h, v) = s
        .call(Method::POST, g, Some(json!({"label": "blue"})))
        .await;
    assert_problem(st, &h, &v, StatusCode::CONFLICT, "already exists");
    let (st, h, v) = s.call(Method::POST, g, Some(json!({"label": "red", "exclusiveGroup": "colours", "members": {"ids": ["x1c0s0b0n0"]}}))).await;
    assert_problem(st, &h, &v, StatusCode::CONFLICT, "exclusiveGroup");
    let (st, h, v) = s
        .call(
            Method::POST,
            g,
            Some(json!({"label": "green", "members": {"ids": ["x9c0s0b0n0"]}})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "not known components");
    let (st, _) = s
        .send(
            Method::POST,
            &format!("{g}/blue/members"),
            json!({"id": "x1c0s0b0n1"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, v) = s.get(&format!("{g}/blue/members")).await;
    assert_eq!(v, json!({"ids": ["x1c0s0b0n0", "x1c0s0b0n1"]}));
    let (st, _) = s
        .send(
            Method::PATCH,
            &format!("{g}/blue"),
            json!({"description": "bluer"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, v) = s.get(&format!("{g}/blue")).await;
    assert_eq!(
        (v["description"].clone(), v["exclusiveGroup"].clone()),
        (json!("bluer"), json!("colours"))
    );
    let (_, v) = s.get(&format!("{C}?group=blue")).await;
    assert_eq!(v["Components"].as_array().unwrap().len(), 2);
    let (_, v) = s.get(&format!("{g}/labels")).await;
    assert_eq!(v, json!(["blue"]));

    let p = "/apis/smd/hsm/v2/partitions";
    let (st, _) = s
        .send(
            Method::POST,
            p,
            json!({"name": "p1", "members": {"ids": ["x1c0s0b0n0"]}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, h, v) = s
        .call(
            Method::POST,
            p,
            Some(json!({"name": "p2", "members": {"ids": ["x1c0s0b0n0"]}})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::CONFLICT, "one partition only");
    let (_, v) = s.get(&format!("{C}?partition=p1")).await;
    assert_eq!(v["Components"][0]["ID"], "x1c0s0b0n0");
    let (_, v) = s.get("/apis/smd/hsm/v2/memberships/x1c0s0b0n0").await;
    assert_eq!(
        v,
        json!({"id": "x1c0s0b0n0", "groupLabels": ["blue"], "partitionName": "p1"})
    );

    let (st, _) = s
        .send(
            Method::DELETE,
            &format!("{g}/blue/members/x1c0s0b0n1"),
            json!(null),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .send(Method::DELETE, &format!("{g}/blue"), json!(null))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, h, v) = s.call(Method::GET, &format!("{g}/blue"), None).await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "no such group");

    let (_, v) = s.get("/apis/smd/hsm/v2/locks/status?locked=false").await;
    assert_eq!(v["Components"].as_array().unwrap().len(), 3);
    assert_eq!(v["Components"][0]["Locked"], false);
    let (_, v) = s.get("/apis/smd/hsm/v2/locks/status?locked=true").await;
    assert_eq!(v["Components"], json!([]));
    let (_, v) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/locks/status",
            json!({"ComponentIDs": ["x1c0s0b0n0", "x5c0s0b0n0"]}),
        )
        .await;
    assert_eq!(v["NotFound"], json!(["x5c0s0b0n0"]));

    let (_, v) = s.get("/apis/smd/hsm/v2/service/values/role").await;
    assert!(v["Role"].as_array().unwrap().contains(&json!("Compute")));
    let (_, v) = s.get("/apis/smd/hsm/v2/service/values").await;
    assert!(v["State"].as_array().unwrap().contains(&json!("Ready")));
    let (st, _) = s.get("/apis/smd/hsm/v2/service/ready").await;
    assert_eq!(st, StatusCode::OK);
}

/// What the contract run (tests/contract/) found in the HSM handlers.
#[tokio::test]
async fn contract_findings_stay_fixed() {
    let s = Server::start().await;
    let h = "/apis/smd/hsm/v2";
    let (st, v) = s
        .send(
            Method::POST,
            &format!("{h}/State/Components"),
            json!({"Components": [{"ID": "x1c0s0b0n0", "State": "Ready"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, v) = s
        .send(
            Method::POST,
            &format!("{h}/groups"),
            json!({"label": "g1", "description": "one"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // A typed body is an object: an array is refused, nothing written or started.
    let (st, hd, v) = s
        .call(
            Method::PATCH,
            &format!("{h}/groups/g1"),
            Some(json!([null, null])),
        )
        .await;
    assert_problem(st, &hd, &v, StatusCode::BAD_REQUEST, "not an array");
    let (_, g) = s.get(&format!("{h}/groups/g1")).await;
    assert_eq!(g["description"], "one");
    let (st, hd, v) = s
        .call(
            Method::POST,
            &format!("{h}/Inventory/Discover"),
            Some(json!([])),
        )
        .await;
    assert_problem(st, &hd, &v, StatusCode::BAD_REQUEST, "not an array");
    // Memberships take the components filters, and a bad value is a 400.
    let (st, hd, v) = s
        .call(Method::GET, &format!("{h}/memberships?state=AAA"), None)
        .await;
    assert_problem(st, &hd, &v, StatusCode::BAD_REQUEST, "state");
    let (st, v) = s.get(&format!("{h}/memberships?state=Ready")).await;
    assert_eq!(
        (st, v.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    let (_, v) = s.get(&format!("{h}/memberships?state=Off")).await;
    assert_eq!(v, json!([]));
    // No ComponentIDs is no filter (HSM accepts it): every component's lock status.
    let (st, v) = s
        .send(Method::POST, &format!("{h}/locks/status"), json!({}))
        .await;
    assert_eq!(
        (st, v["Components"][0]["ID"].clone()),
        (StatusCode::OK, json!("x1c0s0b0n0")),
        "{v}"
    );
    // A malformed xname in a lookup names nothing: 404, as HSM answers; a write is still a 400.
    for path in [
        "State/Components/not-an-xname",
        "Inventory/RedfishEndpoints/0",
        "Inventory/ComponentEndpoints/0",
        "memberships/0",
    ] {
        let (st, hd, v) = s.call(Method::GET, &format!("{h}/{path}"), None).await;
        assert_problem(st, &hd, &v, StatusCode::NOT_FOUND, "no such component");
    }
    let (st, hd, v) = s
        .call(Method::DELETE, &format!("{h}/State/Components/0"), None)
        .await;
    assert_problem(st, &hd, &v, StatusCode::NOT_FOUND, "no such component");
    let (st, hd, v) = s
        .call(
            Method::PUT,
            &format!("{h}/State/Components/0"),
            Some(json!({"Component": {"ID": "0", "State": "On"}})),
        )
        .await;
    assert_problem(st, &hd, &v, StatusCode::BAD_REQUEST, "not a valid xname");
}
