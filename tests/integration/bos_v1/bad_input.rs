//! BOS v1 bad input: a 4xx problem naming what was wrong, and nothing written. Also the
//! small documents (version, health, the example template) and the tenant refusal.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{cli_session, cli_template, v1, v1_as};
use crate::bos::{Lab, bos, put_image};

fn refused(st: StatusCode, v: &Value, want: StatusCode, needle: &str) {
    assert_eq!(st, want, "{v}");
    assert_eq!(v["status"], want.as_u16(), "{v}");
    let d = v["detail"].as_str().unwrap_or_default();
    assert!(d.contains(needle), "detail {d:?} should contain {needle:?}");
}

async fn nothing_written(lab: &Lab) {
    let (_, ids) = v1(&lab.s, Method::GET, "/session", None).await;
    assert_eq!(ids, json!([]));
    let (_, s2) = bos(&lab.s, Method::GET, "/sessions", None).await;
    assert_eq!(s2, json!([]));
    let (_, c) = bos(&lab.s, Method::GET, "/components", None).await;
    for c in c.as_array().unwrap() {
        assert_eq!(c["enabled"], false, "{c:#}");
    }
}

#[tokio::test]
async fn bos_v1_bad_input_names_the_field_and_writes_nothing() {
    let lab = Lab::start(1).await;
    let path = put_image(&lab.s, "demo-image");
    let good = cli_template("good", "", &path, &lab.xnames);

    // A field v1 never had (neither in V1SessionTemplate/V1BootSet nor kept by the v2 store).
    for (at, field) in [("", "enable_bss"), ("boot_sets.compute.", "rootfs")] {
        let mut t = cli_template("t1", "", &path, &lab.xnames);
        if at.is_empty() {
            t[field] = json!(true);
        } else {
            t["boot_sets"]["compute"][field] = json!("x");
        }
        let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(t)).await;
        refused(
            st,
            &v,
            StatusCode::BAD_REQUEST,
            &format!("{at}{field}: unknown field `{field}`"),
        );
    }
    let mut t = good.clone();
    t["boot_sets"]["compute"]["network"] = json!("hsn");
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(t)).await;
    refused(st, &v, StatusCode::BAD_REQUEST, "boot_sets.compute.network");
    let mut t = good.clone();
    t["boot_sets"]["compute"]["boot_ordinal"] = json!(-1);
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(t)).await;
    refused(
        st,
        &v,
        StatusCode::BAD_REQUEST,
        "boot_sets.compute.boot_ordinal",
    );
    let mut t = good.clone();
    t.as_object_mut().unwrap().remove("name");
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(t)).await;
    refused(st, &v, StatusCode::BAD_REQUEST, "missing field `name`");
    let (st, v) = bos(&lab.s, Method::GET, "/sessiontemplates/t1", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing stored: {v}");
    let (_, all) = v1(&lab.s, Method::GET, "/sessiontemplate", None).await;
    assert_eq!(all, json!([]));

    // v1-only fields are accepted and dropped.
    let mut t = good.clone();
    t["cfs_url"] = json!("https://vcs.example/x.git");
    t["cfs_branch"] = json!("main");
    t["partition"] = json!("p1");
    t["cfs"] =
        json!({"clone_url": "https://vcs.example/x.git", "branch": "main", "playbook": "site.yml"});
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(t)).await;
    assert_eq!((st, v), (StatusCode::CREATED, json!("good")));
    let (_, t2) = bos(&lab.s, Method::GET, "/sessiontemplates/good", None).await;
    assert!(
        t2.get("cfs_url").is_none() && t2.get("cfs").is_none(),
        "{t2:#}"
    );

    // Sessions: an unknown operation, an unknown template, no template, a v2-only field.
    let (st, v) = v1(
        &lab.s,
        Method::POST,
        "/session",
        Some(cli_session("Dance", "good")),
    )
    .await;
    refused(
        st,
        &v,
        StatusCode::BAD_REQUEST,
        "operation 'Dance' is not one of boot, configure, reboot or shutdown",
    );
    let (st, v) = v1(
        &lab.s,
        Method::POST,
        "/session",
        Some(cli_session("Boot", "nope")),
    )
    .await;
    refused(
        st,
        &v,
        StatusCode::NOT_FOUND,
        "Session template 'nope' does not exist",
    );
    assert_eq!(v["title"], "The resource was not found");
    let (st, v) = v1(
        &lab.s,
        Method::POST,
        "/session",
        Some(json!({"operation": "boot"})),
    )
    .await;
    refused(st, &v, StatusCode::BAD_REQUEST, "templateName");
    let body = json!({"operation": "boot", "templateName": "good", "stage": true});
    let (st, v) = v1(&lab.s, Method::POST, "/session", Some(body)).await;
    refused(st, &v, StatusCode::BAD_REQUEST, "unknown field `stage`");
    nothing_written(&lab).await;

    // No tenancy in v1: any tenant header is refused, reads included.
    for (method, path, body) in [
        (Method::GET, "/sessiontemplate", None),
        (
            Method::POST,
            "/sessiontemplate",
            Some(cli_template("t2", "", &path, &lab.xnames)),
        ),
        (Method::GET, "/session", None),
        (Method::POST, "/session", Some(cli_session("Boot", "good"))),
        (Method::GET, "/sessiontemplate/good", None),
    ] {
        let (st, v) = v1_as(&lab.s, Some("blue"), method.clone(), path, body).await;
        refused(
            st,
            &v,
            StatusCode::BAD_REQUEST,
            "Multi-tenancy not supported",
        );
    }
    let (st, _) = bos(&lab.s, Method::GET, "/sessiontemplates/t2", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    nothing_written(&lab).await;

    // Unknown sessions, boot sets, phases and categories. A v2 session is not a v1 one.
    let (st, v) = v1(&lab.s, Method::GET, "/session/nope/status", None).await;
    refused(
        st,
        &v,
        StatusCode::NOT_FOUND,
        "Session 'nope' does not exist",
    );
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/sessions",
        Some(json!({"name": "v2s", "operation": "boot", "template_name": "good"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = v1(&lab.s, Method::GET, "/session/v2s", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = v1(&lab.s, Method::DELETE, "/session/v2s", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let id = super::create(&lab, cli_session("boot", "good")).await;
    let (st, v) = v1(
        &lab.s,
        Method::GET,
        &format!("/session/{id}/status/nope"),
        None,
    )
    .await;
    refused(st, &v, StatusCode::NOT_FOUND, "Boot set 'nope'");
    let (st, v) = v1(
        &lab.s,
        Method::GET,
        &format!("/session/{id}/status/compute/dance"),
        None,
    )
    .await;
    refused(st, &v, StatusCode::BAD_REQUEST, "phase 'dance'");
    let (st, v) = v1(
        &lab.s,
        Method::GET,
        &format!("/session/{id}/status/compute/shutdown"),
        None,
    )
    .await;
    refused(
        st,
        &v,
        StatusCode::NOT_FOUND,
        "Phase 'shutdown' does not exist",
    );
    let (st, v) = v1(
        &lab.s,
        Method::GET,
        &format!("/session/{id}/status/compute/boot/fine"),
        None,
    )
    .await;
    refused(st, &v, StatusCode::BAD_REQUEST, "category 'fine'");
    // The tree is derived, not written: its writes are not served.
    let (st, _, v) = lab
        .s
        .call(
            Method::PATCH,
            &format!("/apis/bos/v1/session/{id}/status"),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED, "{v}");
    let (st, _) = v1(&lab.s, Method::DELETE, &format!("/session/{id}"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = bos(&lab.s, Method::GET, &format!("/sessions/{id}"), None).await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "deleted from the one session store"
    );
}

#[tokio::test]
async fn bos_v1_version_health_and_the_example_template() {
    let lab = Lab::start(1).await;
    for p in ["", "/version"] {
        let (st, v) = v1(&lab.s, Method::GET, p, None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["links"][0]["href"], "/apis/bos/v1");
    }
    let (st, v) = v1(&lab.s, Method::GET, "/healthz", None).await;
    assert_eq!(
        (st, v),
        (StatusCode::OK, json!({"dbStatus": "ok", "apiStatus": "ok"}))
    );
    let (st, ex) = v1(&lab.s, Method::GET, "/sessiontemplatetemplate", None).await;
    assert_eq!(st, StatusCode::OK);
    // The example is a v1 body as it stands.
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(ex)).await;
    assert_eq!((st, v), (StatusCode::CREATED, json!("name-your-template")));
}
