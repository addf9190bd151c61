//! Authentication: the open service root, everything else behind auth, and Redfish sessions
//! (create, use, delete, limit).

use redfish::sim::SimConfig;
use reqwest::Method;
use serde_json::{Value, json};

use super::{PASS, USER, call, client, get, message_id, start};

#[tokio::test]
async fn service_root_needs_no_auth() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    for path in ["/redfish/v1", "/redfish/v1/"] {
        let resp = c.get(format!("{}{path}", bmc.url())).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["OData-Version"], "4.0");
        assert!(
            resp.headers()["Content-Type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let root: Value = resp.json().await.unwrap();
        assert_eq!(root["@odata.type"], "#ServiceRoot.v1_15_0.ServiceRoot");
        assert_eq!(root["RedfishVersion"], "1.15.0");
        assert_eq!(root["Systems"]["@odata.id"], "/redfish/v1/Systems");
        assert_eq!(
            root["SessionService"]["@odata.id"],
            "/redfish/v1/SessionService"
        );
        assert_eq!(
            root["Links"]["Sessions"]["@odata.id"],
            "/redfish/v1/SessionService/Sessions"
        );
        assert!(root["Oem"].is_object());
        assert_eq!(root["UUID"].as_str().unwrap().len(), 36);
    }
    bmc.shutdown().await;

    let bmc = start(SimConfig {
        sessions: false,
        ..SimConfig::default()
    })
    .await;
    let (s, root) = get(&c, &bmc, "/redfish/v1").await;
    assert_eq!(s, 200);
    assert!(root.get("SessionService").is_none());
    assert!(root["Links"].get("Sessions").is_none());
    let (s, _) = get(&c, &bmc, "/redfish/v1/SessionService").await;
    assert_eq!(s, 404);
    bmc.shutdown().await;
}

#[tokio::test]
async fn everything_else_needs_auth() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    let url = format!("{}/redfish/v1/Systems", bmc.url());

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["WWW-Authenticate"], "Basic realm=\"SimBmc\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Base.1.8.GeneralError");
    assert_eq!(message_id(&body), "Base.1.8.NoValidSession");

    let resp = c
        .get(&url)
        .basic_auth(USER, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = c
        .get(&url)
        .header("X-Auth-Token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Unknown paths are not revealed to unauthenticated callers.
    let resp = c
        .get(format!("{}/redfish/v1/Nope", bmc.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(bmc.counters().auth_failures, 4);

    let resp = c
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    bmc.set_password("s3cret");
    let resp = c
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = c
        .get(&url)
        .basic_auth(USER, Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(bmc.counters().auth_failures, 5);
    assert_eq!(bmc.counters().requests, 7);
    bmc.shutdown().await;
}

#[tokio::test]
async fn sessions_create_use_delete_and_limit() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    let sessions = format!("{}/redfish/v1/SessionService/Sessions", bmc.url());

    let (s, svc) = get(&c, &bmc, "/redfish/v1/SessionService").await;
    assert_eq!(s, 200);
    assert_eq!(
        svc["Sessions"]["@odata.id"],
        "/redfish/v1/SessionService/Sessions"
    );

    // Wrong credentials.
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER, "Password": "bad"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(bmc.counters().auth_failures, 1);
    // Malformed.
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Create without any auth header.
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.headers()["X-Auth-Token"].to_str().unwrap().to_string();
    let location = resp.headers()["Location"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["@odata.id"], location.as_str());
    assert_eq!(body["UserName"], USER);
    assert_eq!(
        location,
        format!(
            "/redfish/v1/SessionService/Sessions/{}",
            body["Id"].as_str().unwrap()
        )
    );

    // Use it.
    let resp = c
        .get(format!("{}/redfish/v1/Systems", bmc.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: Value = c
        .get(&sessions)
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["Members@odata.count"], 1);
    assert_eq!(list["Members"][0]["@odata.id"], location.as_str());
    assert_eq!(bmc.counters().live_sessions, 1);

    // Delete it; the token dies with it.
    let resp = c
        .delete(format!("{}{location}", bmc.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .get(format!("{}/redfish/v1/Systems", bmc.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (s, _, _) = call(&c, &bmc, Method::DELETE, &location, None, &[]).await;
    assert_eq!(s, 404);

    // The limit.
    bmc.set_session_limit(2);
    for _ in 0..2 {
        let resp = c
            .post(&sessions)
            .json(&json!({"UserName": USER, "Password": PASS}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(message_id(&body), "Base.1.8.SessionLimitExceeded");

    let n = bmc.counters();
    assert_eq!(
        (n.sessions_created, n.sessions_deleted, n.live_sessions),
        (3, 1, 2)
    );
    bmc.shutdown().await;
}
