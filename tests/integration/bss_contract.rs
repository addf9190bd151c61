//! What the contract run (tests/contract/) found in the BSS handlers: empty answers typed
//! `application/json`, empty query values read as no filter, a cloud-init that is an object,
//! and a GET body that is not BootParams refused rather than ignored (with or without a query).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Server, assert_problem};

const BP: &str = "/apis/bss/boot/v1/bootparameters";

#[tokio::test]
async fn bss_contract_findings_stay_fixed() {
    let s = Server::start().await;
    let body = json!({"hosts": ["x1c0s0b0n0"], "kernel": "http://k/vmlinuz"});
    for (m, want) in [
        (Method::POST, StatusCode::CREATED),
        (Method::PUT, StatusCode::OK),
        (Method::PATCH, StatusCode::OK),
        (Method::DELETE, StatusCode::OK),
    ] {
        let (st, h, v) = s.call(m.clone(), BP, Some(body.clone())).await;
        assert_eq!(st, want, "{m} {v}");
        assert_eq!(h["content-type"], "application/json", "{m}");
    }
    let (st, h, _) = s.call(Method::POST, "/apis/bss/boot/v1/hosts", None).await;
    assert_eq!(
        (st, h["content-type"].to_str().unwrap()),
        (StatusCode::NO_CONTENT, "application/json")
    );
    // cloud-init is kept as given, but it is an object.
    let (st, h, v) = s
        .call(
            Method::PUT,
            BP,
            Some(json!({"hosts": ["x1c0s0b0n0"], "kernel": "http://k", "cloud-init": "x"})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "cloud-init");
    // A GET body is read when the query names no node, and must be BootParams JSON.
    let (st, h, v) = s
        .raw(Method::GET, &format!("{BP}?other=1"), "}not json")
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "Bad Request");
    // ... and refused when the query names the nodes too (a wrong cloud-init is not ignored).
    let (st, h, v) = s
        .raw(
            Method::GET,
            &format!("{BP}?nid=0"),
            r#"{"hosts":["x"],"cloud-init":[null]}"#,
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "cloud-init");
    // Empty query values are no filter (BSS cannot tell them from absent ones).
    let (st, v) = s.get("/apis/bss/boot/v1/hosts?mac=&name=").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s
        .get("/apis/bss/boot/v1/endpoint-history?endpoint=bootscript")
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));
    let (st, v) = s.get("/apis/bss/boot/v1/endpoint-history?endpoint=").await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
