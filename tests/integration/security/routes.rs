//! Every control-plane route, from `rackboot::api::access`'s table (not a hand list):
//! anonymous callers get 401, callers below the route's role 403, callers with it neither.

use rackboot::api::access::{Access, METHODS, ROUTES, access};
use rackboot::auth::Role;
use reqwest::{Method, StatusCode};

use crate::common::Server;

/// A concrete path for a route template (every `{param}` filled with a plausible value).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| match seg {
            "{*file}" => "ipxe.efi".to_string(),
            s if s.starts_with('{') => match s {
                "{xname}" | "{id}" => "x3000c0s0b0n0".to_string(),
                "{nid}" => "1".to_string(),
                _ => "t1".to_string(),
            },
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

const ALL: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Every (method, template, access) the table gives, methods without a route included (they
/// are classified too: as the template's writes).
fn every_classified() -> Vec<(Method, &'static str, Access)> {
    let mut out = Vec::new();
    for (t, _, _) in ROUTES {
        for m in ALL {
            out.push((m.clone(), *t, access(&m, t).expect("listed")));
        }
    }
    for (m, t, a) in METHODS {
        assert!(
            ROUTES.iter().any(|(r, _, _)| r == t),
            "METHODS names {t}, which ROUTES does not list"
        );
        assert_eq!(
            access(&Method::from_bytes(m.as_bytes()).unwrap(), t),
            Some(*a)
        );
    }
    out
}

async fn status(
    http: &reqwest::Client,
    base: &str,
    m: &Method,
    path: &str,
    token: Option<&str>,
) -> StatusCode {
    let mut req = http.request(m.clone(), format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if matches!(*m, Method::POST | Method::PUT | Method::PATCH) {
        req = req.json(&serde_json::json!({}));
    }
    req.send().await.unwrap().status()
}

/// The route templates the control router really serves, read from its `Debug` form
/// (axum lists every route it holds there, nested ones with their full path).
fn served_templates(s: &Server) -> Vec<String> {
    let router = rackboot::api::control_router(
        s.app(),
        rackboot::telemetry::metrics_handle(),
        rackboot::api::BodyLimits {
            max_body_bytes: 1 << 20,
        },
    );
    let dbg = format!("{router:?}");
    // The routes, not the fallback router (which holds only axum's catch-alls).
    let dbg = dbg.split("fallback_router").next().unwrap();
    let mut out: Vec<String> = dbg
        .split("RouteId(")
        .skip(1)
        .filter_map(|chunk| {
            let rest = chunk.split_once("): \"")?.1;
            Some(rest.split_once('"')?.0.to_string())
        })
        // A nested router's fallback (CAPMC's unknown calls) is no route: nothing matched.
        .filter(|t| t.starts_with('/') && !t.contains("__private__axum_fallback"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A route added without a classification fails here, and so does a classification left
/// behind by a route that is gone.
#[tokio::test]
async fn every_served_route_is_classified_and_every_classification_is_served() {
    let s = Server::start_secure().await;
    let served = served_templates(&s);
    assert!(
        served.len() > 120,
        "the router's routes could not be read: {served:?}"
    );
    let unclassified: Vec<&String> = served
        .iter()
        .filter(|t| access(&Method::GET, t).is_none())
        .collect();
    assert!(
        unclassified.is_empty(),
        "routes with no access classification in api::access::ROUTES: {unclassified:#?}"
    );
    let stale: Vec<&str> = ROUTES
        .iter()
        .map(|(t, _, _)| *t)
        .filter(|t| !served.iter().any(|x| x == t))
        .collect();
    assert!(
        stale.is_empty(),
        "api::access::ROUTES lists routes nobody serves: {stale:#?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn every_control_route_refuses_anonymous_callers_and_lower_roles() {
    let s = Server::start_secure().await;
    // Redirects are answers here (the console sends a browser without a login to its login
    // page), not something to follow.
    let anon = reqwest::Client::builder()
        .tls_backend_preconfigured(redfish::tls::pinned_config(&s.secure.as_ref().unwrap().pin))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let read = s.user_token("viewer", "read-only").await;
    let operator = s.user_token("ops", "operator").await;
    let tokens = [
        (Role::ReadOnly, read.as_str()),
        (Role::Operator, operator.as_str()),
    ];
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (m, template, need) in every_classified() {
        let path = concrete(template);
        let got = status(&anon, &s.base, &m, &path, None).await;
        let console = rackboot::console::auth::is_console(template);
        match need {
            // The console: to its login page.
            Access::Least(_) if console && got != StatusCode::SEE_OTHER => {
                wrong.push(format!(
                    "anonymous {m} {path}: {got}, want 303 to the login"
                ));
            }
            Access::Least(_) if !console && got != StatusCode::UNAUTHORIZED => {
                wrong.push(format!("anonymous {m} {path}: {got}, want 401"));
            }
            Access::Public | Access::Boot
                if got == StatusCode::UNAUTHORIZED || got == StatusCode::FORBIDDEN =>
            {
                wrong.push(format!("anonymous {m} {path}: {got}, but it is {need:?}"));
            }
            _ => {}
        }
        if let Access::Least(role) = need {
            for (has, token) in tokens {
                let got = status(&anon, &s.base, &m, &path, Some(token)).await;
                let refused = got == StatusCode::FORBIDDEN;
                if (has < role) != refused || got == StatusCode::UNAUTHORIZED {
                    wrong.push(format!("{has} {m} {path}: {got} (needs {role})"));
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 500, "only {checked} route/method pairs checked");
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n  {}",
        wrong.len(),
        wrong.join("\n  ")
    );
    s.stop().await;
}

#[tokio::test]
async fn read_only_cannot_power_nodes_and_operators_cannot_change_boot_parameters_or_credentials() {
    let s = Server::start_secure().await;
    let anon = s.anonymous();
    let read = s.user_token("viewer", "read-only").await;
    let operator = s.user_token("ops", "operator").await;
    let call = |token: &str, m: Method, path: &str, body: serde_json::Value| {
        anon.request(m, s.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let r = call(
        &read,
        Method::POST,
        "/apis/power-control/v1/transitions",
        serde_json::json!({"operation": "on", "location": [{"xname": "x3000c0s0b0n0"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("needs the operator role; viewer is read-only"),
        "{body}"
    );
    let r = call(
        &operator,
        Method::PUT,
        "/boot/v1/bootparameters",
        serde_json::json!({"hosts": ["x3000c0s0b0n0"], "kernel": "http://evil.example/vmlinuz"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = call(
        &operator,
        Method::PATCH,
        "/apis/smd/hsm/v2/Inventory/RedfishEndpoints/x3000c0s0b0",
        serde_json::json!({"Password": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // What the operator may do, it may: a transition is accepted (it names an unknown node,
    // so it fails per node, but it is not refused).
    let r = call(
        &operator,
        Method::POST,
        "/apis/power-control/v1/transitions",
        serde_json::json!({"operation": "on", "location": [{"xname": "x3000c0s0b0n0"}]}),
    )
    .await
    .unwrap();
    assert!(
        r.status() != StatusCode::FORBIDDEN && r.status() != StatusCode::UNAUTHORIZED,
        "{}",
        r.status()
    );
    s.stop().await;
}

#[tokio::test]
async fn state_changing_calls_are_audited_with_who_role_what_where_and_outcome() {
    let s = Server::start_secure().await;
    let operator = s.user_token("ops", "operator").await;
    let anon = s.anonymous();
    let r = anon
        .patch(s.url("/apis/bos/v2/options"))
        .bearer_auth(&operator)
        .json(&serde_json::json!({"default_retry_policy": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (st, v) = s
        .send(
            Method::PATCH,
            "/apis/bos/v2/options",
            serde_json::json!({"default_retry_policy": 2}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, log) = s.get("/apis/rackboot/v1/audit").await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let entries = log.as_array().unwrap();
    let patch = entries
        .iter()
        .find(|e| e["path"] == "/apis/bos/v2/options" && e["status"] == 200)
        .unwrap_or_else(|| panic!("{log:#}"));
    assert_eq!(patch["who"], "admin", "{patch}");
    assert_eq!(patch["role"], "admin", "{patch}");
    assert_eq!(patch["method"], "PATCH", "{patch}");
    assert_eq!(patch["client"], "127.0.0.1", "{patch}");
    assert!(
        patch["credential"]
            .as_str()
            .unwrap()
            .starts_with("api-token "),
        "{patch}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["who"] == "ops" && e["status"] == 403),
        "the refused attempt is recorded too: {log:#}"
    );
    // The audit trail is the admin's.
    let r = anon
        .get(s.url("/apis/rackboot/v1/audit"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    s.stop().await;
}
