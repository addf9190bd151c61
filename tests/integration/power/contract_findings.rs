//! What the contract run (tests/contract/) found in the PCS handlers: `/health` answers
//! PCS's fields, and request bodies take what Go's decoder takes (unknown fields, null).

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::PCS;
use crate::common::Server;

#[tokio::test]
async fn health_answers_its_fields_and_bodies_take_unknown_fields() {
    let s = Server::start().await;
    let (st, h, v) = s.call(Method::GET, &format!("{PCS}/health"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(h["content-type"], "application/json");
    for k in [
        "KvStore",
        "DistLocking",
        "StateManager",
        "Vault",
        "TaskRunner",
    ] {
        assert!(v[k].is_string(), "{k}: {v}");
    }
    assert_eq!(v["KvStore"], "connected, responsive");
    let (st, v) = s
        .send(
            Method::POST,
            &format!("{PCS}/transitions"),
            json!({"operation": "off", "taskDeadlineMinutes": null, "location": [{"xname": "x1c0s0b0n0", "deputyKey": 7, "note": "x"}], "requester": "me"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s
        .send(
            Method::POST,
            &format!("{PCS}/power-status"),
            json!({"xname": [], "managementStateFilter": null, "extra": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
