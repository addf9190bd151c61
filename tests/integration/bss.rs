//! BSS behaviour, following the hms-bss conformance list (docs/bss.md, "Conformance list").

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ADVERTISE, Server, assert_problem, golden};

const BP: &str = "/boot/v1/bootparameters";

async fn put_node(s: &Server, host: &str, params: &str) -> String {
    let (st, h, v) = s
        .call(
            Method::PUT,
            BP,
            Some(json!({"hosts": [host], "params": params,
                "kernel": "http://images.lab/boot-images/1234/kernel", "initrd": "http://images.lab/boot-images/1234/initrd"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    h.get("bss-referral-token")
        .expect("PUT for hosts returns a referral token")
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn bootscript_for_a_known_node_by_mac_name_and_nid() {
    let s = Server::start().await;
    s.add_node("x3000c0s17b3n0", 3, "Compute", "B4:2E:99:DF:EB:BF")
        .await;
    let token = put_node(
        &s,
        "x3000c0s17b3n0",
        "console=tty0 console=ttyS0,115200 ip=dhcp",
    )
    .await;
    assert_eq!(token.len(), 36, "a UUID: {token}");

    for q in [
        "mac=b4:2e:99:df:eb:bf",
        "name=x3000c0s17b3n0",
        "nid=3",
        "mac=B4-2E-99-DF-EB-BF",
    ] {
        let resp = s
            .http
            .get(s.url(&format!("/boot/v1/bootscript?{q}&retry=7")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{q}");
        assert_eq!(resp.headers()["content-type"], "text/plain; charset=UTF-8");
        let script = resp.text().await.unwrap();
        assert!(script.starts_with("#!ipxe\n"), "{script}");
        assert!(script.contains("kernel --name kernel http://images.lab/boot-images/1234/kernel initrd=initrd console=tty0"), "{script}");
        assert!(script.contains("\ninitrd --name initrd http://images.lab/boot-images/1234/initrd || goto boot_retry\n"), "{script}");
        assert!(script.contains(" xname=x3000c0s17b3n0 nid=3 "), "{script}");
        assert!(
            script.contains(&format!("bss_referral_token={token} || goto boot_retry")),
            "{script}"
        );
        assert!(
            script.contains(&format!(
                "\nchain {ADVERTISE}/boot/v1/bootscript?mac=b4:2e:99:df:eb:bf&retry=8\n"
            )),
            "{q}: {script}"
        );
    }
    // Golden render (token replaced so the file is stable).
    let script = s
        .http
        .get(s.url("/apis/bss/boot/v1/bootscript?mac=b4:2e:99:df:eb:bf"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    golden("node.ipxe", &script.replace(&token, "TOKEN"));

    // The script fetch is recorded in endpoint-history.
    let (st, v) = s
        .get("/boot/v1/endpoint-history?name=x3000c0s17b3n0&endpoint=bootscript")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v[0]["name"], "x3000c0s17b3n0");
    assert_eq!(v[0]["endpoint"], "bootscript");
    assert!(v[0]["last_epoch"].as_i64().unwrap() > 1_700_000_000, "{v}");
    let (_, v) = s
        .get("/boot/v1/endpoint-history?name=x1c0s0b0n0&endpoint=bootscript")
        .await;
    assert_eq!(
        v,
        json!([{"name": "x1c0s0b0n0", "endpoint": "bootscript", "last_epoch": 0}])
    );
    let (_, v) = s.get("/boot/v1/endpoint-history").await;
    assert!(v.is_array());
}

#[tokio::test]
async fn every_put_mints_a_new_token_and_the_script_follows_it() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    let t1 = put_node(&s, "x1c0s0b0n0", "a=1").await;
    let t2 = put_node(&s, "x1c0s0b0n0", "a=2").await;
    assert_ne!(t1, t2);
    let (_, script) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    let script = script.as_str().unwrap();
    assert!(
        script.contains(&format!("bss_referral_token={t2}")) && script.contains("a=2"),
        "{script}"
    );
    // PATCH keeps the token.
    let (st, _) = s
        .send(
            Method::PATCH,
            BP,
            json!({"hosts": ["x1c0s0b0n0"], "params": "a=3"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, script) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    let script = script.as_str().unwrap();
    assert!(
        script.contains(&format!("bss_referral_token={t2}")) && script.contains("a=3"),
        "{script}"
    );
}

#[tokio::test]
async fn lookup_precedence_role_default_and_unknown_arch() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 10, "Compute", "aa:bb:cc:00:00:10")
        .await;
    s.add_node("x1c0s0b0n1", 11, "Service", "aa:bb:cc:00:00:11")
        .await;
    for (host, p) in [
        ("Compute", "role=compute"),
        ("Default", "role=default"),
        ("Unknown-x86_64", "who=unknown"),
    ] {
        let (st, v) = s
            .send(
                Method::PUT,
                BP,
                json!({"hosts": [host], "params": p, "kernel": "http://k/vmlinuz"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, a) = s.get("/boot/v1/bootscript?nid=10").await;
    assert!(
        a.as_str()
            .unwrap()
            .contains("role=compute xname=x1c0s0b0n0 nid=10"),
        "{a}"
    );
    let (_, b) = s.get("/boot/v1/bootscript?nid=11").await;
    assert!(
        b.as_str()
            .unwrap()
            .contains("role=default xname=x1c0s0b0n1 nid=11"),
        "{b}"
    );

    // An unknown MAC without arch is asked for its architecture...
    let (st, c) = s
        .get("/boot/v1/bootscript?mac=0e:ff:ff:ff:ff:ff&ts=1732550000")
        .await;
    assert_eq!(st, StatusCode::OK);
    golden("discover-arch.ipxe", c.as_str().unwrap());
    // ...and with it gets Unknown-x86_64, with no node injection.
    let (st, d) = s
        .get("/boot/v1/bootscript?mac=0e:ff:ff:ff:ff:ff&arch=x86_64&ts=1732550000")
        .await;
    assert_eq!(st, StatusCode::OK);
    golden("unknown-x86_64.ipxe", d.as_str().unwrap());
    assert!(!d.as_str().unwrap().contains("xname="));
    // No Unknown-arm64 record: 404 problem.
    let (st, h, v) = s
        .call(
            Method::GET,
            "/boot/v1/bootscript?mac=0e:ff:ff:ff:ff:ff&arch=arm64",
            None,
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::NOT_FOUND,
        "not configured for booting",
    );
}

#[tokio::test]
async fn bootscript_bad_requests() {
    let s = Server::start().await;
    for q in ["?nid=abc", "?foo", ""] {
        let (st, h, v) = s
            .call(Method::GET, &format!("/boot/v1/bootscript{q}"), None)
            .await;
        assert_problem(
            st,
            &h,
            &v,
            StatusCode::BAD_REQUEST,
            "Need a mac=, name=, or nid= parameter",
        );
    }
    let (st, h, v) = s
        .call(Method::GET, "/boot/v1/bootscript?mac=zz", None)
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "not a valid MAC");
    // A known node without boot parameters is "not configured".
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    let (st, h, v) = s
        .call(
            Method::GET,
            "/boot/v1/bootscript?name=x1c0s0b0n0&arch=x86_64",
            None,
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::NOT_FOUND,
        "x1c0s0b0n0: this host not configured for booting.",
    );
}

#[tokio::test]
async fn bootparameters_write_semantics() {
    let s = Server::start().await;
    let body = json!({"hosts": ["x2c0s0b0n0"], "params": "console=tty0", "kernel": "s3://boot-images/1/kernel"});
    let (st, h, _) = s.call(Method::POST, BP, Some(body.clone())).await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(h.contains_key("bss-referral-token"));
    let (st, hd, v) = s.call(Method::POST, BP, Some(body.clone())).await;
    assert_problem(
        st,
        &hd,
        &v,
        StatusCode::BAD_REQUEST,
        "Already exists: x2c0s0b0n0",
    );

    let (st, v) = s.get(&format!("{BP}?name=x2c0s0b0n0")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v,
        json!([{"hosts": ["x2c0s0b0n0"], "params": "console=tty0", "kernel": "s3://boot-images/1/kernel", "initrd": "", "cloud-init": {}}])
    );
    // GET with a JSON body instead of a query.
    let (st, _, v) = s
        .call(Method::GET, BP, Some(json!({"hosts": ["x2c0s0b0n0"]})))
        .await;
    assert_eq!(
        (st, v[0]["params"].clone()),
        (StatusCode::OK, json!("console=tty0"))
    );

    let (st, _) = s
        .send(
            Method::PUT,
            BP,
            json!({"hosts": ["x2c0s0b0n0"], "params": "p2", "kernel": "http://k"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .send(
            Method::PATCH,
            BP,
            json!({"hosts": ["x2c0s0b0n0"], "initrd": "http://i"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = s.get(&format!("{BP}?name=x2c0s0b0n0")).await;
    assert_eq!(
        (
            v[0]["params"].clone(),
            v[0]["kernel"].clone(),
            v[0]["initrd"].clone()
        ),
        (json!("p2"), json!("http://k"), json!("http://i"))
    );

    // PATCH of an unknown host: 404, nothing written.
    let (st, hd, v) = s
        .call(
            Method::PATCH,
            BP,
            Some(json!({"hosts": ["x9c0s0b0n0"], "params": "x"})),
        )
        .await;
    assert_problem(st, &hd, &v, StatusCode::NOT_FOUND, "x9c0s0b0n0");

    let (st, _) = s
        .send(Method::DELETE, BP, json!({"hosts": ["x2c0s0b0n0"]}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, hd, v) = s
        .call(Method::GET, &format!("{BP}?name=x2c0s0b0n0"), None)
        .await;
    assert_problem(
        st,
        &hd,
        &v,
        StatusCode::NOT_FOUND,
        "Cannot find boot parameters for requested Hosts",
    );
    let (st, hd, v) = s
        .call(Method::DELETE, BP, Some(json!({"hosts": ["x2c0s0b0n0"]})))
        .await;
    assert_problem(st, &hd, &v, StatusCode::BAD_REQUEST, "x2c0s0b0n0");
    let (st, hd, v) = s.call(Method::GET, &format!("{BP}?nid=abc"), None).await;
    assert_problem(st, &hd, &v, StatusCode::BAD_REQUEST, "Invalid nid 'abc'");
}

#[tokio::test]
async fn macs_and_nids_resolve_to_xnames_or_are_kept_raw() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 5, "Compute", "aa:bb:cc:00:00:05")
        .await;
    let (st, _) = s
        .send(Method::PUT, BP, json!({"macs": ["AA:BB:CC:00:00:05", "02:00:00:00:00:99"], "nids": [5, 77], "kernel": "http://k"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, all) = s.get(BP).await;
    let hosts: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hosts"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hosts, vec!["02:00:00:00:00:99", "nid77", "x1c0s0b0n0"]);
    // GET by MAC finds the xname-keyed record.
    let (st, v) = s.get(&format!("{BP}?mac=aa:bb:cc:00:00:05")).await;
    assert_eq!(
        (st, v[0]["hosts"][0].clone()),
        (StatusCode::OK, json!("x1c0s0b0n0"))
    );
}

#[tokio::test]
async fn image_params_are_appended_and_deleting_an_image_strips_it() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    put_node(&s, "x1c0s0b0n0", "host=1").await;
    let (st, h, _) = s
        .call(
            Method::PUT,
            BP,
            Some(json!({"kernel": "http://images.lab/boot-images/1234/kernel", "params": "img=k"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !h.contains_key("bss-referral-token"),
        "image params get no token"
    );
    let (_, script) = s.get("/boot/v1/bootscript?nid=1").await;
    assert!(
        script
            .as_str()
            .unwrap()
            .contains("initrd=initrd host=1 img=k xname="),
        "{script}"
    );

    let (st, _) = s
        .send(
            Method::DELETE,
            BP,
            json!({"kernel": "http://images.lab/boot-images/1234/kernel"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = s.get(&format!("{BP}?name=x1c0s0b0n0")).await;
    assert_eq!(v[0]["kernel"], "");
    let (st, _) = s.get("/boot/v1/bootscript?nid=1&arch=x86_64").await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a host without a kernel is not bootable"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_problems_and_write_nothing() {
    let s = Server::start().await;
    for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        for body in [
            "{not json",
            "[]",
            r#"{"hosts": "x1c0s0b0n0"}"#,
            r#"{"nids": ["a"]}"#,
            "",
        ] {
            let (st, h, v) = s.raw(m.clone(), BP, body).await;
            assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "Bad Request");
        }
    }
    // Values that would break the iPXE script are refused at write time.
    for (body, needle) in [
        (
            json!({"hosts": ["x1c0s0b0n0"], "params": "a\nchain http://evil/x", "kernel": "http://k"}),
            "control character",
        ),
        (
            json!({"hosts": ["x1c0s0b0n0"], "params": "quiet || shell", "kernel": "http://k"}),
            "command separator",
        ),
        (
            json!({"hosts": ["x1c0s0b0n0"], "params": "x=\"open", "kernel": "http://k"}),
            "unbalanced double quote",
        ),
        (
            json!({"hosts": ["x1c0s0b0n0"], "kernel": "http://k space"}),
            "whitespace",
        ),
        (
            json!({"hosts": ["x1c0s0b0n0", "x1c0s0b0q"], "kernel": "http://k"}),
            "not a valid xname",
        ),
        (
            json!({"hosts": ["bad host"], "kernel": "http://k"}),
            "neither an xname nor a tag",
        ),
        (
            json!({"macs": ["nope"], "kernel": "http://k"}),
            "not a valid MAC",
        ),
        (json!({"nids": [-1], "kernel": "http://k"}), "Invalid nid"),
        (json!({"params": "x"}), "names no hosts"),
    ] {
        let (st, h, v) = s.call(Method::PUT, BP, Some(body.clone())).await;
        assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, needle);
    }
    let (st, h, v) = s.call(Method::GET, BP, None).await;
    assert_eq!(
        (st, v.clone()),
        (StatusCode::OK, json!([])),
        "nothing was written: {v} {h:?}"
    );

    // Oversize body: 413 problem.
    let big = format!(
        r#"{{"hosts":["x1c0s0b0n0"],"params":"{}"}}"#,
        "a".repeat(5 << 20)
    );
    let (st, h, v) = s.raw(Method::PUT, BP, &big).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::PAYLOAD_TOO_LARGE,
        "larger than the configured limit",
    );
}

#[tokio::test]
async fn service_endpoints_and_wrong_methods() {
    let s = Server::start().await;
    for (path, key, want) in [
        ("/boot/v1/service/status", "bss-status", json!("running")),
        ("/boot/v1/service/hsm", "bss-status-hsm", json!("connected")),
        (
            "/boot/v1/service/version",
            "bss-version",
            json!(env!("CARGO_PKG_VERSION")),
        ),
        (
            "/apis/bss/boot/v1/service/status/all",
            "bss-status-storage",
            json!("connected"),
        ),
    ] {
        let (st, v) = s.get(path).await;
        assert_eq!((st, v[key].clone()), (StatusCode::OK, want), "{path}");
    }
    let (st, v) = s.get("/boot/v1/service/storage/status").await;
    assert_eq!(
        (st, v["bss-storage-backend"]["status"].clone()),
        (StatusCode::OK, json!("connected"))
    );
    for path in [
        "/boot/v1/service/status",
        "/boot/v1/service/version",
        "/boot/v1/service/hsm",
        "/boot/v1/service/status/all",
        "/boot/v1/dumpstate",
        "/boot/v1/endpoint-history",
        "/boot/v1/bootscript",
    ] {
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let (st, h, v) = s.call(m.clone(), path, None).await;
            assert_problem(st, &h, &v, StatusCode::METHOD_NOT_ALLOWED, "is not allowed");
        }
    }
    let (st, h, v) = s.call(Method::DELETE, "/boot/v1/hosts", None).await;
    assert_problem(st, &h, &v, StatusCode::METHOD_NOT_ALLOWED, "is not allowed");
    let (st, h, v) = s.call(Method::GET, "/boot/v1/nonsense", None).await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "no such endpoint");
}

#[tokio::test]
async fn hosts_and_dumpstate() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    let (st, _, _) = s.call(Method::POST, "/boot/v1/hosts", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for q in ["name=x1c0s0b0n0", "mac=aa:bb:cc:00:00:01", "nid=1", ""] {
        let (st, v) = s.get(&format!("/boot/v1/hosts?{q}")).await;
        assert_eq!(st, StatusCode::OK, "{q}");
        assert_eq!(v[0]["ID"], "x1c0s0b0n0");
        assert_eq!(v[0]["MAC"], json!(["aa:bb:cc:00:00:01"]));
        assert_eq!(v[0]["NID"], 1);
    }
    for (q, needle) in [
        ("name=x9c0s0b0n0", "Unknown host name"),
        ("mac=02:00:00:00:00:01", "Unknown MAC"),
        ("nid=99", "Unknown NID"),
    ] {
        let (st, h, v) = s
            .call(Method::GET, &format!("/boot/v1/hosts?{q}"), None)
            .await;
        assert_problem(st, &h, &v, StatusCode::NOT_FOUND, needle);
    }
    let (st, h, v) = s.call(Method::GET, "/boot/v1/hosts?nid=abc", None).await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "Invalid nid");
    put_node(&s, "x1c0s0b0n0", "p").await;
    let (st, v) = s.get("/boot/v1/dumpstate").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["Components"][0]["ID"], "x1c0s0b0n0");
    assert_eq!(v["Params"][0]["hosts"], json!(["x1c0s0b0n0"]));
    assert!(v["Params"][0].get("cloud-init").is_none());
}

#[tokio::test]
async fn metrics_count_bootscripts_and_requests() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    put_node(&s, "x1c0s0b0n0", "p").await;
    let _ = s.get("/boot/v1/bootscript?nid=1").await;
    let (st, body) = s.get("/metrics").await;
    assert_eq!(st, StatusCode::OK);
    let text = body.as_str().unwrap();
    assert!(
        text.contains("rackboot_bootscripts_served_total{kind=\"node\"}"),
        "{text}"
    );
    assert!(text.contains("route=\"/boot/v1/bootscript\""), "{text}");
    assert!(
        text.contains("rackboot_http_request_duration_seconds_bucket"),
        "{text}"
    );
    let (st, v) = s.get("/healthz").await;
    assert_eq!((st, v["status"].clone()), (StatusCode::OK, json!("ok")));
    let (st, v) = s.get("/readyz").await;
    assert_eq!((st, v["status"].clone()), (StatusCode::OK, json!("ready")));
}

/// A node agent that half-closes its socket once the request is sent (busybox `nc` does)
/// still gets the answer, every time; before rackboot served HTTP itself, hyper dropped
/// every one of these boot-script requests.
#[tokio::test]
async fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start().await;
    s.add_node("x3000c0s1b0n0", 1, "Compute", "02:00:00:00:00:01")
        .await;
    let addr = s.base.trim_start_matches("http://").to_string();
    for _ in 0..50 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(
            b"GET /boot/v1/bootscript?mac=02:00:00:00:00:01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        c.shutdown().await.unwrap();
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).await.unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 "), "{text:?}");
        assert!(text.contains("#!ipxe"), "{text}");
    }
    s.stop().await;
}
