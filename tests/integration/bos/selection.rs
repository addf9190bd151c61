//! Which nodes a BOS session acts on: the limit grammar over groups and roles, and staged
//! sessions applied with applystaged.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::common::wait_until;

#[tokio::test]
async fn bos_limit_grammar_selects_nodes_from_groups_and_roles() {
    let lab = Lab::start(4).await;
    let x = &lab.xnames;
    // Roles and a group in the inventory.
    for (i, role) in ["Compute", "Compute", "Application", "Compute"]
        .iter()
        .enumerate()
    {
        let (st, v) = lab
            .s
            .send(
                Method::PATCH,
                &format!("/apis/smd/hsm/v2/State/Components/{}/Role", x[i]),
                json!({"Role": role}),
            )
            .await;
        assert!(st.is_success(), "{v}");
    }
    let (st, v) = lab
        .s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/groups",
            json!({"label": "blue", "members": {"ids": [x[0], x[2]]}}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let a = put_image(&lab.s, "img-a");
    let (st, v) = bos(
        &lab.s,
        Method::PUT,
        "/sessiontemplates/roles",
        Some(
            json!({"enable_cfs": false, "boot_sets": {"compute": {"type": "s3", "path": a,
            "node_roles_groups": ["Compute", "Application"]}}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("blue", vec![&x[0], &x[2]]),
        ("Compute,!blue", vec![&x[1], &x[3]]),
        ("all,&blue,!Application", vec![&x[0]]),
        (&x[3], vec![&x[3]]),
        ("*,!Compute", vec![&x[2]]),
        ("&blue", vec![]),
    ];
    for (limit, want) in cases {
        let (st, v) = bos(
            &lab.s,
            Method::POST,
            "/sessions",
            Some(json!({"template_name": "roles", "operation": "boot", "limit": limit, "stage": true})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let done = lab
            .wait_complete_or_running(v["name"].as_str().unwrap())
            .await;
        let mut got: Vec<String> = done["components"]
            .as_str()
            .unwrap()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        got.sort();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(got, want, "limit {limit}: {done:#}");
        if want.is_empty() {
            assert_eq!(done["status"]["error"], "No nodes were found to act upon.");
        }
    }
}

#[tokio::test]
async fn bos_staged_sessions_apply_with_applystaged() {
    let lab = Lab::start(2).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/sessions",
        Some(json!({"name": "staged", "template_name": "a", "operation": "boot", "stage": true})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["stage"], true);
    let s = lab.wait_complete_or_running("staged").await;
    assert_eq!(s["status"]["status"], "running", "{s:#}");
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(c["staged_state"]["session"], "staged", "{c:#}");
    assert_eq!(c["enabled"], false);
    assert_eq!(lab.power(0), "Off", "staging must not touch the node");
    let (st, status) = bos(&lab.s, Method::GET, "/sessions/staged/status", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(status["percent_staged"], 100.0, "{status:#}");
    // Apply one node; an unknown one is ignored.
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/applystaged",
        Some(json!({"xnames": [lab.xnames[0], "x9999c0s0b0n0"]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["succeeded"], json!([lab.xnames[0]]));
    assert_eq!(v["ignored"], json!(["x9999c0s0b0n0"]));
    // The applied node boots.
    wait_until(
        "the applied node to boot",
        Duration::from_secs(30),
        async || {
            let c = lab.component(&lab.xnames[0]).await;
            let booted = c["status"]["status"] == "stable" && c["actual_state"]["bss_token"] != "";
            if booted {
                Ok(())
            } else {
                Err(format!("{c:#}"))
            }
        },
    )
    .await;
    assert_eq!(lab.power(0), "On");
    assert_eq!(lab.power(1), "Off");
    // Clearing the stage on the second node lets the session complete.
    lab.options(json!({"clear_stage": true})).await;
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/applystaged",
        Some(json!({"xnames": [lab.xnames[1]]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = bos(
        &lab.s,
        Method::PATCH,
        "/components",
        Some(
            json!({"patch": {"staged_state": {"session": ""}}, "filters": {"ids": lab.xnames[0]}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let done = lab.wait_complete("staged").await;
    assert_all_stable(&done);
    assert_eq!(lab.power(1), "On");
}
