//! BOS sessions as records: deleting one and in bulk, expiry of completed ones, and a
//! session that survives a restart of the appliance.

use std::time::Duration;

use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::common::{Server, wait_until};

#[tokio::test]
async fn bos_sessions_delete_one_and_in_bulk_and_completed_ones_expire() {
    let lab = Lab::start(1).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let first = lab.create("a", "boot", None).await;
    lab.wait_complete(&first).await;
    let second = lab.create("a", "boot", None).await;
    lab.wait_complete(&second).await;
    // One by name; the saved status goes with it.
    let (st, _) = bos(&lab.s, Method::DELETE, &format!("/sessions/{first}"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, v) = bos(
        &lab.s,
        Method::GET,
        &format!("/sessions/{first}/status"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["detail"], format!("Session '{first}' does not exist"));
    // Bulk with filters: a max_age of 1 week matches it, status=pending does not.
    let (st, _) = bos(&lab.s, Method::DELETE, "/sessions?status=pending", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = bos(&lab.s, Method::GET, "/sessions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, v) = bos(&lab.s, Method::DELETE, "/sessions?min_age=soon", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // TTL cleanup: a completed session older than the TTL is deleted by the cleanup
    // operator (poked by the options write). Its start is moved back two hours through the
    // internal session PATCH.
    let third = lab.create("a", "boot", None).await;
    lab.wait_complete(&third).await;
    let old = chrono::Utc::now() - chrono::Duration::hours(2);
    let (st, v) = bos(
        &lab.s,
        Method::PATCH,
        &format!("/sessions/{third}"),
        Some(json!({"status": {"start_time": old.format("%Y-%m-%dT%H:%M:%S").to_string()}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    lab.options(json!({"cleanup_completed_session_ttl": "1h"}))
        .await;
    let what = format!("session {third} to be cleaned up");
    wait_until(&what, Duration::from_secs(10), async || {
        let (st, v) = bos(&lab.s, Method::GET, &format!("/sessions/{third}"), None).await;
        if st == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(v)
        }
    })
    .await;
    let (_, list) = bos(&lab.s, Method::GET, "/sessions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(list[0]["name"], second.as_str());
}

#[tokio::test]
async fn bos_a_session_survives_a_restart_of_the_appliance() {
    // Slow power-ons, so the restart lands while nodes are being powered on.
    let bmc = SimConfig {
        power_delay: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let lab = Lab::start_with(3, quick(), bmc).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let name = lab.create("a", "boot", None).await;
    wait_until(
        "a node to be powered on",
        Duration::from_secs(20),
        async || {
            let path = "/components?status=power_on_called";
            let (_, comps) = bos(&lab.s, Method::GET, path, None).await;
            if comps.as_array().unwrap().is_empty() {
                Err("nothing was powered on")
            } else {
                Ok(())
            }
        },
    )
    .await;
    let addr = lab.s.base.trim_start_matches("http://").to_string();
    let data = lab.s.data_dir.clone();
    let Lab {
        s,
        _dir,
        fleet,
        nodes,
        xnames,
        at,
    } = lab;
    s.stop().await;
    let s = Server::start_at(&data, quick(), &addr).await;
    let lab = Lab {
        s,
        _dir,
        fleet,
        nodes,
        xnames,
        at,
    };
    let done = lab.wait_complete(&name).await;
    assert_all_stable(&done);
    for i in 0..3 {
        assert_eq!(lab.power(i), "On");
    }
}
