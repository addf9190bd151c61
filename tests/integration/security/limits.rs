//! Slow and greedy clients: one client's idle connections do not stop others, a header
//! trickled one byte at a time is cut off at the header timeout, idle connections close,
//! and oversized headers and bodies and over-deep JSON are refused.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::Server;

async fn with_node(settings: rackboot::config::Settings) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), settings).await;
    s.add_node("x3000c0s0b0n0", 1, "Compute", "02:00:00:00:00:01")
        .await;
    let (st, v) = s
        .send(
            reqwest::Method::PUT,
            "/boot/v1/bootparameters",
            serde_json::json!({"hosts": ["x3000c0s0b0n0"], "kernel": "http://h/k"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (s, dir)
}

fn addr(s: &Server) -> String {
    s.boot_base.trim_start_matches("http://").to_string()
}

#[tokio::test]
async fn two_thousand_idle_connections_from_one_client_do_not_stop_boot_scripts_for_others() {
    let (s, _dir) = with_node(rackboot::config::Settings::default()).await;
    let target = addr(&s);
    let mut idle = Vec::new();
    for _ in 0..2000 {
        match TcpStream::connect(&target).await {
            Ok(c) => idle.push(c),
            Err(e) => panic!("connect {} failed: {e}", idle.len()),
        }
    }
    // Another client (another loopback address) still gets its scripts, and the appliance
    // stays ready.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for i in 0..6 {
        let r = other
            .get(s.boot_url("/boot/v1/bootscript?mac=02:00:00:00:00:01"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("probe {i} with 2000 idle connections open: {e}"));
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = other.get(s.boot_url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, v) = s.get("/readyz").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    drop(idle);
    s.stop().await;
}

#[tokio::test]
async fn a_header_sent_one_byte_at_a_time_is_cut_off_at_the_header_timeout() {
    let (s, _dir) = with_node(rackboot::config::Settings {
        header_timeout_secs: Some(2),
        ..Default::default()
    })
    .await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    let request = b"GET /boot/v1/bootscript?mac=02:00:00:00:00:01 HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let start = Instant::now();
    let mut cut = None;
    for b in request {
        if c.write_all(&[*b]).await.is_err() {
            cut = Some(start.elapsed());
            break;
        }
        // Time passing is the behaviour under test: a byte every 250 ms.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut buf = [0u8; 64];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), c.read(&mut buf)).await {
            cut = Some(start.elapsed());
            break;
        }
    }
    let cut = cut.expect("the connection stayed open while the header trickled in for 25 s");
    assert!(cut >= Duration::from_millis(1900), "cut too early: {cut:?}");
    assert!(
        cut < Duration::from_secs(6),
        "cut long after the 2 s header timeout: {cut:?}"
    );
    // An ordinary client is not affected.
    let r = reqwest::get(s.boot_url("/boot/v1/bootscript?mac=02:00:00:00:00:01"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let (s, _dir) = with_node(rackboot::config::Settings {
        idle_timeout_secs: Some(1),
        ..Default::default()
    })
    .await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).await.unwrap();
    got.extend_from_slice(&buf[..n]);
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // Then silence: the appliance closes it after the idle timeout.
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "an idle connection stayed open 8 s with a 1 s idle timeout"
    );
    s.stop().await;
}

#[tokio::test]
async fn oversized_headers_and_bodies_and_over_deep_json_are_refused() {
    let s = Server::start().await;
    // Headers: hyper's read buffer (about 400 KiB) bounds them.
    let r = reqwest::Client::new()
        .get(s.url("/healthz"))
        .header("x-big", "a".repeat(1 << 20))
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    // Bodies: max_body_bytes (4 MiB by default).
    let (st, _, v) = s
        .raw(
            reqwest::Method::POST,
            "/apis/smd/hsm/v2/State/Components",
            &"x".repeat(5 << 20),
        )
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    // JSON depth: serde_json's recursion limit (128) answers a clear 400, also where the
    // body is read as any JSON value.
    let deep = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    let (st, _, v) = s
        .raw(
            reqwest::Method::PATCH,
            "/apis/bos/v2/components/x3000c0s0b0n0",
            &deep,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("recursion limit"),
        "{v}"
    );
    s.stop().await;
}

#[tokio::test]
async fn one_address_asking_too_fast_is_slowed_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(
        dir.path(),
        rackboot::config::Settings {
            boot_rate_limit: Some(5),
            ..crate::common::secure_settings()
        },
    )
    .await;
    let url = s.boot_url("/boot/v1/bootscript?mac=02:00:00:00:00:01");
    let greedy = reqwest::Client::new();
    let mut limited = 0;
    for _ in 0..40 {
        let r = greedy.get(&url).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "1");
            limited += 1;
        }
    }
    assert!(
        limited >= 10,
        "only {limited} of 40 quick requests were limited at 5/s (bursts of 25)"
    );
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let r = other.get(&url).send().await.unwrap();
    assert_ne!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "another address is not limited"
    );
    s.stop().await;
}
