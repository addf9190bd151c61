//! What the contract run (tests/contract/) found in the HSM component handlers and that
//! hsm.rs (at its size limit) does not hold: an empty filter value is no filter, as on every
//! API here, and a component field sent as `null` is refused (the spec has no null there).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Server, assert_problem};

const C: &str = "/apis/smd/hsm/v2/State/Components";

#[tokio::test]
async fn hsm_contract_findings_stay_fixed() {
    let s = Server::start().await;
    let node = json!({"ID": "x3000c0s1b0n0", "State": "Ready", "Arch": "X86", "NID": 1});
    let (st, _, v) = s
        .call(Method::POST, C, Some(json!({"Components": [node]})))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    // `arch=` and `type=` are no filter: the node is listed, as with no query at all.
    for q in ["arch=", "type=", "arch=&type=&state="] {
        let (st, v) = s.get(&format!("{C}?{q}")).await;
        assert_eq!(st, StatusCode::OK, "{q}: {v}");
        let ids = v["Components"].as_array().expect("Components").iter();
        assert!(
            ids.map(|c| &c["ID"]).any(|id| id == "x3000c0s1b0n0"),
            "{q}: {v}"
        );
    }
    let (st, v) = s.get("/apis/smd/hsm/v2/locks/status?type=").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // A null field is refused, naming it; nothing is written.
    for field in ["NID", "Class"] {
        let mut c = json!({"ID": "x3000c0s2b0n0", "State": "Ready"});
        c[field] = serde_json::Value::Null;
        let (st, h, v) = s
            .call(Method::POST, C, Some(json!({"Components": [c]})))
            .await;
        assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "invalid type: null");
    }
    let (st, _) = s.get(&format!("{C}/x3000c0s2b0n0")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
