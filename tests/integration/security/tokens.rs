//! API tokens and logins: shown once, listed without their secret, and stopping at once
//! when revoked, expired, or when their user changes or goes.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::Server;

async fn whoami(s: &Server, token: &str) -> StatusCode {
    s.anonymous()
        .get(s.url("/apis/rackboot/v1/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn revoked_expired_and_orphaned_tokens_stop_working_at_once() {
    let s = Server::start_secure().await;
    let t = s.user_token("ann", "operator").await;
    assert_eq!(whoami(&s, &t).await, StatusCode::OK);
    // Listed by id and name, never with the secret.
    let (st, list) = s.get("/apis/rackboot/v1/tokens").await;
    assert_eq!(st, StatusCode::OK);
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["owner"] == "ann")
        .unwrap()
        .clone();
    assert!(
        !list.to_string().contains(t.split('_').next_back().unwrap()),
        "{list}"
    );
    assert!(
        mine.get("secret_sha256").is_none() && mine.get("token").is_none(),
        "{mine}"
    );
    let id = mine["id"].as_str().unwrap();
    assert!(t.contains(id));
    // Revoked: the very next request is refused.
    let (st, v) = s
        .send(
            Method::DELETE,
            &format!("/apis/rackboot/v1/tokens/{id}"),
            json!(null),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(whoami(&s, &t).await, StatusCode::UNAUTHORIZED);

    // Expired.
    let short = s.admin_made_token("ann", Some(1)).await;
    assert_eq!(whoami(&s, &short).await, StatusCode::OK);
    // Time passing is the behaviour under test: the token lives one second.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = s
        .anonymous()
        .get(s.url("/apis/rackboot/v1/whoami"))
        .bearer_auth(&short)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("has expired"),
        "{body}"
    );

    // A deleted user's tokens die with it.
    let t2 = s.admin_made_token("ann", None).await;
    assert_eq!(whoami(&s, &t2).await, StatusCode::OK);
    let (st, _) = s
        .send(Method::DELETE, "/apis/rackboot/v1/users/ann", json!(null))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&s, &t2).await, StatusCode::UNAUTHORIZED);
    // A made-up or altered token is not one.
    let forged = format!("{}x", &t2[..t2.len() - 1]);
    assert_eq!(whoami(&s, &forged).await, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn a_login_stops_working_when_the_password_or_role_changes() {
    let s = Server::start_secure().await;
    s.user_token("bob", "operator").await;
    let login = |pw: &'static str| {
        let http = s.anonymous();
        let url = s.url("/keycloak/realms/shasta/protocol/openid-connect/token");
        async move {
            let r = http
                .post(url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "shasta"),
                    ("username", "bob"),
                    ("password", pw),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (st, v) = login("bob-password-long").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(whoami(&s, &access).await, StatusCode::OK);
    let (st, v) = s
        .send(
            Method::PATCH,
            "/apis/rackboot/v1/users/bob",
            json!({"password": "a brand new password"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        whoami(&s, &access).await,
        StatusCode::UNAUTHORIZED,
        "the old login is dead"
    );
    let (st, _) = login("bob-password-long").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = login("a brand new password").await;
    assert_eq!(st, StatusCode::OK);
    // The last admin stays.
    let (st, v) = s
        .send(Method::DELETE, "/apis/rackboot/v1/users/admin", json!(null))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = s
        .send(
            Method::PATCH,
            "/apis/rackboot/v1/users/admin",
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("last admin"), "{v}");
    // Users are never shown with their hash.
    let (_, users) = s.get("/apis/rackboot/v1/users").await;
    assert!(!users.to_string().contains("argon2"), "{users}");
    s.stop().await;
}

#[tokio::test]
async fn tokens_are_at_most_their_owners_role_and_only_admins_make_them_for_others() {
    let s = Server::start_secure().await;
    let ro = s.user_token("viewer", "read-only").await;
    let http = s.anonymous();
    let make = |body: serde_json::Value| {
        http.post(s.url("/apis/rackboot/v1/tokens"))
            .bearer_auth(&ro)
            .json(&body)
            .send()
    };
    let r = make(json!({"name": "up", "role": "admin"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = make(json!({"name": "other", "owner": "admin"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = make(json!({"name": "mine"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["role"], "read-only");
    assert!(v["token"].as_str().unwrap().starts_with("rbt_"));
    s.stop().await;
}

/// The CLI: a token made with a login, then used from the environment over a pinned
/// certificate; a bad pin is refused before anything is sent.
#[tokio::test]
async fn the_cli_logs_in_makes_a_token_and_trusts_the_pinned_certificate() {
    let s = Server::start_secure().await;
    s.user_token("carol", "operator").await;
    let pin = s.secure.clone().unwrap().pin;
    let bin = env!("CARGO_BIN_EXE_rackboot");
    let run = |args: Vec<&str>, env: Vec<(&str, String)>| {
        let mut c = tokio::process::Command::new(bin);
        c.args(args).env_remove("RACKBOOT_TOKEN");
        for (k, v) in env {
            c.env(k, v);
        }
        async move {
            let out = c.output().await.unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
    };
    let (ok, out, err) = run(
        vec![
            "tokens", "create", "laptop", "--login", "carol", "--url", &s.base, "--pin", &pin,
        ],
        vec![("RACKBOOT_PASSWORD", "carol-password-long".into())],
    )
    .await;
    assert!(ok, "{out}{err}");
    let token = out
        .lines()
        .find(|l| l.starts_with("rbt_"))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    let (ok, out, err) = run(
        vec!["whoami", "--url", &s.base, "--pin", &pin],
        vec![("RACKBOOT_TOKEN", token.clone())],
    )
    .await;
    assert!(ok && out.contains("carol (operator)"), "{out}{err}");
    let (ok, _, err) = run(
        vec!["whoami", "--url", &s.base, "--pin", &"ab".repeat(32)],
        vec![("RACKBOOT_TOKEN", token.clone())],
    )
    .await;
    assert!(!ok && err.contains("does not match the pinned"), "{err}");
    let (ok, _, err) = run(
        vec![
            "bss",
            "bootparameters",
            "list",
            "--url",
            &s.base,
            "--pin",
            &pin,
        ],
        vec![],
    )
    .await;
    assert!(
        !ok && err.contains("401") && err.contains("needs a bearer token"),
        "{err}"
    );
    s.stop().await;
}
