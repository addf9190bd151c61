//! The BOS components API: filters, paging, and patches in both bulk forms.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::common::wait_until;

#[tokio::test]
async fn bos_components_api_filters_pages_and_patches_in_both_bulk_forms() {
    let lab = Lab::start(4).await;
    let s = &lab.s;
    let x = &lab.xnames;
    // Discovery made a disabled component per node.
    let (st, all) = bos(s, Method::GET, "/components", None).await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, x.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(all[0]["last_action"]["action"], "newly_discovered");
    // Paging: sorted ids, start_after_id and page_size.
    let (_, page) = bos(
        s,
        Method::GET,
        &format!("/components?start_after_id={}&page_size=2", x[0]),
        None,
    )
    .await;
    let ids: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![x[1].as_str(), x[2].as_str()]);
    // Bulk PATCH, list form; then the filter form by ids and by session.
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!([{"id": x[0], "retry_policy": 7}, {"id": x[1], "error": "oops"}])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"session": "manual"}, "filters": {"ids": format!("{},{}", x[2], x[3])}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = bos(s, Method::GET, "/components?session=manual", None).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"error": "batch"}, "filters": {"session": "manual"}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().all(|c| c["error"] == "batch"));
    // Both filters, or neither: 400. An unknown id: 404, unless skipped.
    let (st, _) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {}, "filters": {"ids": x[0], "session": "manual"}})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!([{"id": "x9c0s0b0n0", "error": "e"}, {"id": x[0], "error": "not written"}])),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        lab.component(&x[0]).await["error"],
        "",
        "a bad id writes nothing"
    );
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components?skip_bad_ids=true",
        Some(json!([{"id": "x9c0s0b0n0", "error": "e"}, {"id": x[0], "error": "written"}])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1);
    // Auto fields: enabling puts the component on hold; a manual desired state detaches it.
    let (st, c) = bos(
        s,
        Method::PATCH,
        &format!("/components/{}", x[0]),
        Some(json!({"enabled": true, "desired_state": {"configuration": "c"}, "event_stats": {"power_on_attempts": 5}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["session"], "");
    assert_eq!(c["event_stats"]["power_on_attempts"], 0);
    assert!(c["desired_state"]["last_updated"].is_string());
    // Filters by enabled, status and phase.
    // The status operator takes it from there: off and wanting no kernel is done.
    wait_until(
        "the component to be disabled",
        Duration::from_secs(10),
        async || {
            let c = lab.component(&x[0]).await;
            if c["enabled"] == true { Err(c) } else { Ok(()) }
        },
    )
    .await;
    let (_, v) = bos(s, Method::GET, "/components?enabled=false", None).await;
    assert_eq!(v.as_array().unwrap().len(), 4, "{v:#}");
    let (_, v) = bos(s, Method::GET, "/components?enabled=true", None).await;
    assert_eq!(v.as_array().unwrap().len(), 0, "{v:#}");
    let (_, v) = bos(
        s,
        Method::GET,
        "/components?status=stable,on_hold&phase=",
        None,
    )
    .await;
    assert!(!v.as_array().unwrap().is_empty());
    // PUT replaces a record (and may add one); DELETE removes it.
    let (st, v) = bos(
        s,
        Method::PUT,
        "/components/x1000c0s0b0n0",
        Some(json!({"enabled": false, "error": "new"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["id"], "x1000c0s0b0n0");
    let (st, _) = bos(s, Method::DELETE, "/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = bos(s, Method::DELETE, "/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Version, health and the template skeleton answer in the contract's shape.
    for path in ["/version", "/healthz", "/sessiontemplatetemplate"] {
        let (st, v) = bos(s, Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
    }
    let (st, v) = s.get("/apis/bos/v2").await;
    assert_eq!((st, v["major"].as_str()), (StatusCode::OK, Some("2")));
    // Templates: PATCH merges boot sets.
    let a = put_image(s, "img-a");
    lab.template("t", &a, &x[..1]).await;
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/sessiontemplates/t",
        Some(json!({"description": "patched", "boot_sets": {"compute": {"kernel_parameters": "quiet"}, "more": {"type": "s3", "path": a, "node_groups": ["g"]}}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["description"], "patched");
    assert_eq!(v["boot_sets"]["compute"]["kernel_parameters"], "quiet");
    assert_eq!(v["boot_sets"]["compute"]["node_list"], json!([x[0]]));
    assert_eq!(v["boot_sets"]["more"]["arch"], "X86");
    let (st, _) = bos(s, Method::DELETE, "/sessiontemplates/t", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = bos(s, Method::GET, "/sessiontemplates/t", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Every operator reports.
    let (_, ops) = s.get("/apis/rackboot/v1/operators").await;
    let names: Vec<&str> = ops["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for n in [
        "bos-session-setup",
        "bos-status",
        "bos-power-on",
        "bos-power-off-graceful",
        "bos-power-off-forceful",
        "bos-session-completion",
        "bos-boot-evidence",
        "bos-discovery",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}
