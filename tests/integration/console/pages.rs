//! What every user sees: the login, the rack, sessions and their dry run, a node's page, the
//! BMCs and images; read-only users see it all and no action; the login cookie is the
//! console's only.

use reqwest::StatusCode;

use super::{Browser, lab};

#[tokio::test]
async fn a_browser_without_a_login_is_sent_to_the_login_page_and_back() {
    let lab = lab(1).await;
    let s = &lab.s;
    s.user_token("viewer", "read-only").await;
    let mut b = Browser::new(s);
    let p = b.get("/console/nodes/x3000c0s0b0n0?x=1").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.location(),
        "/console/login?next=%2Fconsole%2Fnodes%2Fx3000c0s0b0n0%3Fx%3D1"
    );
    let p = b.get(p.location()).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body
            .contains("name=\"next\" value=\"/console/nodes/x3000c0s0b0n0?x=1\""),
        "{}",
        p.body
    );
    // A wrong password: the form again, saying so, and no cookie.
    let p = b
        .post(
            "/console/login",
            &[("username", "viewer"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.headers.get("set-cookie").is_none());
    assert!(p.body.contains("role=\"alert\""), "{}", p.body);
    // A login that would send the browser elsewhere goes home instead.
    let pw = "viewer-password-long";
    let p = b
        .post(
            "/console/login",
            &[
                ("username", "viewer"),
                ("password", pw),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/");
    let cookie = p.headers["set-cookie"].to_str().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    b.login("viewer").await;
    let p = b.get("/console/nodes/x3000c0s0b0n0").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    // The cookie is the console's: the API still wants a bearer token.
    let api = b.get("/apis/bos/v2/sessions").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{}", api.body);
    // Logging out ends it: the form needs its token, then the cookie is cleared.
    let csrf = p.csrf();
    let out = b.post("/console/logout", &[]).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN, "{}", out.body);
    let out = b.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // A made-up cookie is no login.
    b.cookie = Some("not-a-token".into());
    let p = b.get("/").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(
        p.location().starts_with("/console/login"),
        "{}",
        p.location()
    );
    lab.s.stop().await;
}

#[tokio::test]
async fn a_read_only_user_sees_every_page_and_no_action() {
    let lab = lab(2).await;
    let s = &lab.s;
    s.user_token("viewer", "read-only").await;
    let mut b = Browser::new(s);
    b.login("viewer").await;
    let x = &lab.xnames[0];

    let rack = b.get("/").await;
    assert_eq!(rack.status, StatusCode::OK, "{}", rack.body);
    for want in [
        format!("id=\"n-{x}\""),
        format!("id=\"n-{}\"", lab.xnames[1]),
        "id=\"count-off\"".into(),
        "data-live=\"tiles\"".into(),
        "x3000c0".into(),
    ] {
        assert!(
            rack.body.contains(&want),
            "the rack lacks {want}:\n{}",
            rack.body
        );
    }
    // What the browser is told about the page.
    let csp = rack.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(rack.headers["x-content-type-options"], "nosniff");
    // Filters and search narrow the rack.
    let one = b.get("/?q=c0s1").await;
    assert!(one.body.contains("1 shown"), "{}", one.body);
    let none = b.get("/?state=configuring").await;
    assert!(none.body.contains("0 shown"), "{}", none.body);

    let list = b.get("/console/sessions").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body.contains("option value=\"compute\""),
        "{}",
        list.body
    );
    // The dry run: every node, its power action and artifacts; nothing started.
    let dry = b
        .get("/console/sessions/new?template=compute&operation=boot")
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(dry.body.contains("2 nodes"), "{}", dry.body);
    // Off SimBmcs: power on (or, before the first reading, decided by it).
    assert!(
        dry.body.contains("<td class=\"power\">power on</td>")
            || dry.body.contains("decided by its first power reading"),
        "{}",
        dry.body
    );
    assert!(
        dry.body.contains("s3://boot-images/img-a/kernel"),
        "{}",
        dry.body
    );
    assert!(
        !dry.body.contains("Start this session"),
        "read-only may not start: {}",
        dry.body
    );
    let (_, sessions) = s.get("/apis/bos/v2/sessions").await;
    assert_eq!(sessions, serde_json::json!([]), "a dry run starts nothing");
    // A dry run of what cannot run says why.
    let bad = b
        .get("/console/sessions/new?template=compute&operation=boot&limit=x9999c0s0b0n0")
        .await;
    assert!(bad.body.contains("id=\"plan-error\""), "{}", bad.body);
    let missing = b.get("/console/sessions/new?template=nope").await;
    // As BOS answers a session over a template that is not there.
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    assert!(
        missing.body.contains("Session Template Name invalid: nope"),
        "{}",
        missing.body
    );

    let node = b.get(&format!("/console/nodes/{x}")).await;
    assert_eq!(node.status, StatusCode::OK, "{}", node.body);
    for want in ["Boot timeline", "iPXE script", "x3000c0s0b0", "data-node="] {
        assert!(
            node.body.contains(want),
            "the node page lacks {want}:\n{}",
            node.body
        );
    }
    assert!(
        !node.body.contains("data-action"),
        "read-only gets no power buttons"
    );
    let bad = b.get("/console/nodes/not-an-xname").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    let bmcs = b.get("/console/bmcs").await;
    assert!(bmcs.body.contains("DiscoverOK"), "{}", bmcs.body);
    assert!(!bmcs.body.contains("password"), "{}", bmcs.body);
    let images = b.get("/console/images").await;
    assert!(images.body.contains("img-a"), "{}", images.body);

    let css = b.get("/console/assets/console.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    lab.s.stop().await;
}

/// One update a second over Server-Sent Events: the first has every tile and the counts.
#[tokio::test]
async fn the_event_stream_starts_with_every_tile_and_the_counts() {
    let lab = lab(2).await;
    let s = &lab.s;
    s.user_token("viewer", "read-only").await;
    let mut b = Browser::new(s);
    b.login("viewer").await;
    let sec = s.secure.as_ref().unwrap();
    let http = crate::common::pinned_client(&sec.pin);
    let mut r = http
        .get(s.url("/console/events?sessions=all"))
        .header(
            "cookie",
            format!("rackboot_console={}", b.cookie.as_ref().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), r.chunk())
            .await
            .expect("an update within 10 s")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(text.starts_with("event: update\n"), "{text}");
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    for x in &lab.xnames {
        assert!(v["tiles"][x].is_string(), "{v}");
    }
    let total: u64 = v["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, 2, "{v}");
    assert_eq!(v["sessions"], serde_json::json!([]), "{v}");
    drop(r);
    lab.s.stop().await;
}
