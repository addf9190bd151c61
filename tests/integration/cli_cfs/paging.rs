//! `rackboot cfs components list` following CFS's `next` pages until null, filters included.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cli::rackboot;
use crate::common::Server;

use super::json_out;

#[tokio::test]
async fn cli_cfs_lists_follow_next_until_null() {
    // One more component than a page holds (CFS's default page size, 1000).
    let s = Server::start().await;
    let all: Vec<String> = (0..1001)
        .map(|i| format!("x{}c0s{}b0n0", 1000 + i / 100, i % 100))
        .collect();
    let body: Vec<Value> = all
        .iter()
        .map(|id| json!({"id": id, "enabled": !id.ends_with("s7b0n0"), "tags": {"rack": "r1"}}))
        .collect();
    let (st, b) = s
        .send(Method::PUT, "/apis/cfs/v3/components", json!(body))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, first) = s.get("/apis/cfs/v3/components").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(first["components"].as_array().unwrap().len(), 1000);
    assert!(first["next"].is_object(), "{}", first["next"]);

    let (ok, out, err) =
        rackboot(&s.base, &["cfs", "components", "list", "--format", "json"]).await;
    assert!(ok, "{err}");
    let v = json_out(&out);
    let mut got: Vec<String> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(v["next"], Value::Null);
    got.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(got, want);
    // The filter travels with every page: all of them match this one.
    let (ok, out, err) = rackboot(
        &s.base,
        &[
            "cfs",
            "components",
            "list",
            "--tags",
            "rack=r1",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(json_out(&out)["components"].as_array().unwrap().len(), 1001);
    let (ok, out, err) = rackboot(
        &s.base,
        &[
            "cfs",
            "components",
            "list",
            "--enabled",
            "false",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        json_out(&out)["components"].as_array().unwrap().len(),
        all.iter().filter(|id| id.ends_with("s7b0n0")).count()
    );
    let (ok, out, _) = rackboot(&s.base, &["cfs", "components", "list"]).await;
    assert!(
        ok && out.contains(&all[1000]) && out.contains(&all[0]),
        "{out}"
    );
}
