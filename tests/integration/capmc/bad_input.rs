//! Bad CAPMC input: CAPMC's error shapes and statuses, nothing recorded and nothing sent to
//! any BMC.

use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{CAPMC, capmc, lab, transitions};
use crate::common::Server;

const N0: &str = "x1000c0s0b0n0";

async fn raw(s: &Server, call: &str, body: &str) -> (StatusCode, Value) {
    let (st, headers, v) = s.raw(Method::POST, &format!("{CAPMC}/{call}"), body).await;
    assert_eq!(headers["content-type"], "application/json", "{v}");
    (st, v)
}

#[tokio::test]
async fn bad_power_calls_send_nothing() {
    let (s, _d, bmc) = lab(1, SimConfig::default()).await;
    // The node's BMC as an HSM component (discovery records nodes only).
    let (st, v) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/State/Components",
            json!({"Components": [{"ID": "x1000c0s0b0", "State": "Ready"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    for call in ["xname_on", "xname_off", "xname_reinit"] {
        // An xname nobody knows: CAPMC's EINVAL answer, one entry per xname.
        let (st, v) = capmc(&s, call, json!({"xnames": [N0, "x9000c0s0b0n0"]})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{call}: {v}");
        assert_eq!(
            v,
            json!({"e": 22, "err_msg": "invalid argument", "xnames": [
                {"xname": "x9000c0s0b0n0", "e": 22, "err_msg": "xname not found"}]}),
            "{call}"
        );
        // Malformed and duplicate xnames.
        let (st, v) = capmc(&s, call, json!({"xnames": ["node7", N0, N0]})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{call}: {v}");
        assert_eq!(
            v,
            json!({"e": 22, "err_msg": "invalid argument", "xnames": [
                {"xname": "node7", "e": 22, "err_msg": "invalid/duplicate xname"},
                {"xname": N0, "e": 22, "err_msg": "invalid/duplicate xname"}]}),
            "{call}"
        );
        // Empty and missing lists, bad JSON, a wrong type, exclusive options.
        for (body, msg) in [
            (
                r#"{"xnames": []}"#,
                "Bad Request: Required xnames list is empty",
            ),
            (
                r#"{"reason": "x"}"#,
                "Bad Request: Missing required xnames parameter",
            ),
            (
                r#"{"xnames": [""#,
                "Bad Request: xnames[0]: EOF while parsing a string at line 1 column 13",
            ),
            (
                r#"{"xnames": "x1000c0s0b0n0"}"#,
                "Bad Request: xnames: invalid type: string \"x1000c0s0b0n0\", expected a sequence at line 1 column 26",
            ),
            (
                r#"{"xnames": ["x1000c0s0b0n0"], "recursive": true, "prereq": true}"#,
                "Bad Request: recursive and prereq options are mutually exclusive",
            ),
            (
                "",
                "Bad Request: the request body is empty; a JSON document is required",
            ),
        ] {
            let (st, v) = raw(&s, call, body).await;
            assert_eq!(
                (st, v),
                (StatusCode::BAD_REQUEST, json!({"e": 400, "err_msg": msg})),
                "{call} {body}"
            );
        }
        // A component that is not a node (its BMC): refused whole, nothing sent.
        let (st, v) = capmc(&s, call, json!({"xnames": ["x1000c0s0b0"]})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["e"], -1, "{v}");
        assert!(
            v["xnames"][0]["err_msg"].as_str().unwrap().starts_with(
                "Skipping x1000c0s0b0: Type, 'NodeBMC', not defined in power sequence"
            ),
            "{v}"
        );
        // Wrong method: CAPMC's 405.
        let (st, h, v) = s.call(Method::GET, &format!("{CAPMC}/{call}"), None).await;
        assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(h["allow"], "POST");
        assert_eq!(v, json!({"e": 405, "err_msg": "(GET) Not Allowed"}));
    }
    // `continue` skips the unknown xname and powers the known one.
    let (st, v) = capmc(
        &s,
        "xname_on",
        json!({"xnames": [N0, "x9000c0s0b0n0"], "continue": true}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"e": -1, "err_msg": "Errors encountered with 1/2 Xnames for On", "xnames": [
            {"xname": "x9000c0s0b0n0", "e": 22, "err_msg": "xname not found"}]})
    );
    assert_eq!(bmc.power_state(0), "On");
    assert_eq!(
        bmc.counters().resets,
        1,
        "only the continued call sent anything"
    );
    assert_eq!(transitions(&s).await.len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn bad_status_requests() {
    let (s, _d, bmc) = lab(1, SimConfig::default()).await;
    for (body, msg) in [
        (
            json!({"xnames": [N0], "filter": "show_on|show_fake"}),
            "invalid filter string: show_fake",
        ),
        (
            json!({"xnames": [N0], "source": "vault"}),
            "unknown status source 'vault'",
        ),
        (
            json!({"xnames": ["x9000c0s0b0n0", N0]}),
            "xnames not found: [x9000c0s0b0n0]",
        ),
        (
            json!({"xnames": ["x1000c0s0b0"], "source": "hsm"}),
            "xnames not found: [x1000c0s0b0]",
        ),
        (
            json!({"xnames": ["bogus", N0, N0]}),
            "invalid/duplicate xnames: [bogus x1000c0s0b0n0]",
        ),
    ] {
        let (st, v) = capmc(&s, "get_xname_status", body.clone()).await;
        assert_eq!(
            (st, v),
            (StatusCode::BAD_REQUEST, json!({"e": 400, "err_msg": msg})),
            "{body}"
        );
    }
    let (st, v) = raw(&s, "get_xname_status", "[1,2]").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["e"], 400);
    // An unknown call: CAPMC's shape, naming what is served.
    let (st, v) = capmc(&s, "get_node_status", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["err_msg"].as_str().unwrap().contains("xname_on"), "{v}");
    assert_eq!(bmc.counters().resets, 0);
    s.stop().await;
}
