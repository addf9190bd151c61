//! BOS multi-tenancy: templates, sessions and components scoped by `Cray-Tenant-Name`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::common::wait_until;

#[tokio::test]
async fn bos_tenants_scope_templates_sessions_and_components() {
    let lab = Lab::start(3).await;
    let a = put_image(&lab.s, "img-a");
    let (st, v) = lab
        .s
        .send(
            Method::PUT,
            "/apis/rackboot/v1/tenants/vcluster-blue",
            json!({"xnames": [lab.xnames[0], lab.xnames[1]]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let t = Some("vcluster-blue");
    // Unknown tenants are refused.
    let (st, v) = bos_as(
        &lab.s,
        Some("nobody"),
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "mine", "operation": "boot"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"].as_str().unwrap().starts_with("Invalid tenant"),
        "{v}"
    );
    // A template of the tenant's nodes; another with a node it does not own.
    let body = |nodes: &[String]| json!({"enable_cfs": false, "boot_sets": {"c": {"type": "s3", "path": a, "node_list": nodes}}});
    let (st, v) = bos_as(
        &lab.s,
        t,
        Method::PUT,
        "/sessiontemplates/mine",
        Some(body(&lab.xnames[..2])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tenant"], "vcluster-blue");
    let (st, _) = bos_as(
        &lab.s,
        t,
        Method::PUT,
        "/sessiontemplates/greedy",
        Some(body(&lab.xnames)),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // Without the header the tenant's template is not found by name, but is listed.
    let (st, _) = bos(&lab.s, Method::GET, "/sessiontemplates/mine", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, all) = bos(&lab.s, Method::GET, "/sessiontemplates", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    // Components: the tenant sees only its nodes.
    let (_, comps) = bos_as(&lab.s, t, Method::GET, "/components", None).await;
    let ids: Vec<&str> = comps
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![lab.xnames[0].as_str(), lab.xnames[1].as_str()]);
    let (st, _) = bos_as(
        &lab.s,
        t,
        Method::GET,
        &format!("/components/{}", lab.xnames[2]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A tenant session boots only the tenant's nodes.
    let (st, v) = bos_as(
        &lab.s,
        t,
        Method::POST,
        "/sessions",
        Some(json!({"name": "blue-boot", "template_name": "mine", "operation": "boot"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["tenant"], "vcluster-blue");
    let s = wait_until(
        "blue-boot to complete",
        Duration::from_secs(30),
        async || {
            let (_, s) = bos_as(&lab.s, t, Method::GET, "/sessions/blue-boot", None).await;
            if s["status"]["status"] == "complete" {
                Ok(s)
            } else {
                Err(format!("{s:#}"))
            }
        },
    )
    .await;
    assert!(s["status"]["error"].is_null(), "{s:#}");
    assert_eq!(
        (lab.power(0), lab.power(1), lab.power(2)),
        ("On".into(), "On".into(), "Off".into())
    );
    // The same session name may exist for another scope; a duplicate in one scope is a 409.
    let (st, v) = bos_as(
        &lab.s,
        t,
        Method::POST,
        "/sessions",
        Some(json!({"name": "blue-boot", "template_name": "mine", "operation": "boot"})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    // A template naming a node the tenant does not own fails its session whole.
    let (_, v) = bos_as(
        &lab.s,
        t,
        Method::POST,
        "/sessions",
        Some(json!({"name": "greedy-boot", "template_name": "greedy", "operation": "boot"})),
    )
    .await;
    let path = format!("/sessions/{}", v["name"].as_str().unwrap());
    let s = wait_until(
        "the session to complete",
        Duration::from_secs(20),
        async || {
            let (_, s) = bos_as(&lab.s, t, Method::GET, &path, None).await;
            if s["status"]["status"] == "complete" {
                Ok(s)
            } else {
                Err(s)
            }
        },
    )
    .await;
    assert!(
        s["status"]["error"]
            .as_str()
            .unwrap()
            .contains("not available to this tenant"),
        "{s:#}"
    );
    assert_eq!(lab.power(2), "Off");
}
