//! Acting from the console: an operator starts a session from its dry run, stops and
//! deletes one, and powers a node; each action needs the operator's role, the console's own
//! page (not another site's) and the login's form token, and is audited as its API twin.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use super::{Browser, lab};
use crate::common::wait_until;

#[tokio::test]
async fn forged_and_read_only_actions_are_refused_and_change_nothing() {
    let lab = lab(1).await;
    let s = &lab.s;
    s.user_token("viewer", "read-only").await;
    s.user_token("ops", "operator").await;
    let mut viewer = Browser::new(s);
    viewer.login("viewer").await;
    let mut ops = Browser::new(s);
    ops.login("ops").await;
    let dry = ops
        .get("/console/sessions/new?template=compute&operation=boot")
        .await;
    assert!(dry.body.contains("Start this session"), "{}", dry.body);
    let csrf = dry.csrf();
    let start = |token: &str| {
        vec![
            ("template", "compute".to_string()),
            ("operation", "boot".to_string()),
            ("csrf", token.to_string()),
        ]
    };
    let form = start(&csrf);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Another site's page posting the operator's form (the browser sends the cookie).
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
    ] {
        let p = ops
            .request(
                Method::POST,
                "/console/sessions",
                Some(&form),
                &[(header, value)],
            )
            .await;
        assert_eq!(
            p.status,
            StatusCode::FORBIDDEN,
            "{header}: {value}: {}",
            p.body
        );
        assert!(p.body.contains("must come from the console"), "{}", p.body);
    }
    // Without the form token, or with another login's.
    let no_token: Vec<(&str, &str)> = form.iter().filter(|(k, _)| *k != "csrf").cloned().collect();
    let p = ops.post("/console/sessions", &no_token).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    let viewers = viewer.get("/").await.csrf();
    let theirs = start(&viewers);
    let theirs: Vec<(&str, &str)> = theirs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = ops.post("/console/sessions", &theirs).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    // A read-only user with its own token: the role decides.
    let p = viewer.post("/console/sessions", &theirs).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    assert!(p.body.contains("needs the operator role"), "{}", p.body);
    let x = &lab.xnames[0];
    let p = viewer
        .post(
            &format!("/console/nodes/{x}/power"),
            &[("action", "on"), ("csrf", &viewers)],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    // Nothing was started or powered.
    let (_, sessions) = s.get("/apis/bos/v2/sessions").await;
    assert_eq!(sessions, serde_json::json!([]));
    let (_, ts) = s.get("/apis/power-control/v1/transitions").await;
    assert_eq!(ts["transitions"], serde_json::json!([]), "{ts}");
    assert_eq!(lab.resets(0), 0);
    // The refused attempts of known users are in the audit trail.
    let (_, audit) = s.get("/apis/rackboot/v1/audit").await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["who"] == "viewer"
                && e["path"] == "/console/sessions"
                && e["status"] == 403),
        "{audit:#}"
    );
    lab.s.stop().await;
}

#[tokio::test]
async fn an_operator_starts_a_session_from_its_dry_run_and_powers_a_node() {
    let lab = lab(2).await;
    let s = &lab.s;
    s.user_token("ops", "operator").await;
    let mut ops = Browser::new(s);
    ops.login("ops").await;
    let dry = ops
        .get("/console/sessions/new?template=compute&operation=boot&name=from-console")
        .await;
    let csrf = dry.csrf();
    let p = ops
        .post(
            "/console/sessions",
            &[
                ("template", "compute"),
                ("operation", "boot"),
                ("name", "from-console"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), "/console/sessions/from-console");
    let done = lab.wait_complete("from-console").await;
    crate::bos::assert_all_stable(&done);
    let page = ops.get("/console/sessions/from-console").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("complete"), "{}", page.body);
    assert!(
        page.body.contains("100% successful") || page.body.contains(">100</span>% successful"),
        "{}",
        page.body
    );
    // The session's tiles read stable once the rack's snapshot has caught up.
    wait_until(
        "the session's nodes to read stable",
        Duration::from_secs(10),
        async || {
            let page = ops.get("/console/sessions/from-console").await;
            let stable = lab.xnames.iter().all(|x| {
                page.body
                    .contains(&format!("class=\"t s-stable\" id=\"n-{x}\""))
            });
            if stable { Ok(()) } else { Err(page.body) }
        },
    )
    .await;
    // The audit trail names the operator and the console's route.
    let (_, audit) = s.get("/apis/rackboot/v1/audit").await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["who"] == "ops" && e["path"] == "/console/sessions" && e["status"] == 303),
        "{audit:#}"
    );

    // Power a node off from its page.
    let x = lab.xnames[0].clone();
    let node = ops.get(&format!("/console/nodes/{x}")).await;
    assert!(node.body.contains("data-action=\"off\""), "{}", node.body);
    let p = ops
        .post(
            &format!("/console/nodes/{x}/power"),
            &[("action", "off"), ("csrf", &node.csrf())],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(
        p.location()
            .starts_with(&format!("/console/nodes/{x}?transition=")),
        "{}",
        p.location()
    );
    wait_until("the node to be off", Duration::from_secs(20), async || {
        if lab.power(0) == "Off" {
            Ok(())
        } else {
            Err(lab.power(0))
        }
    })
    .await;
    let bad = ops
        .post(
            &format!("/console/nodes/{x}/power"),
            &[("action", "explode"), ("csrf", &node.csrf())],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        bad.body.contains("not one of on, off, restart, netboot"),
        "{}",
        bad.body
    );
    lab.s.stop().await;
}

#[tokio::test]
async fn an_operator_stops_a_running_session_and_deletes_it() {
    // BMCs that take a while, so the session is still running when it is stopped.
    let bmc = redfish::sim::SimConfig {
        latency: Duration::from_millis(400),
        ..Default::default()
    };
    let lab = super::lab_with(2, bmc).await;
    let s = &lab.s;
    s.user_token("ops", "operator").await;
    let mut ops = Browser::new(s);
    ops.login("ops").await;
    let name = lab.create("compute", "boot", None).await;
    let page = ops.get(&format!("/console/sessions/{name}")).await;
    assert!(page.body.contains(">Stop<"), "{}", page.body);
    let p = ops
        .post(
            &format!("/console/sessions/{name}/stop"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, v) = s.get(&format!("/apis/bos/v2/sessions/{name}")).await;
    assert_eq!(v["status"]["status"], "complete", "{v}");
    assert!(
        v["status"]["error"]
            .as_str()
            .unwrap()
            .contains("stopped by ops from the console"),
        "{v}"
    );
    // Its nodes are no longer driven by it.
    for x in &lab.xnames {
        let c = lab.component(x).await;
        assert_eq!(c["enabled"], false, "{c}");
    }
    // Stopping it again says it is over.
    let again = ops
        .post(
            &format!("/console/sessions/{name}/stop"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let p = ops
        .post(
            &format!("/console/sessions/{name}/delete"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (st, _) = s.get(&format!("/apis/bos/v2/sessions/{name}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    lab.s.stop().await;
}
