//! The boot-artifact proxy with the local-directory source: tokens, rewriting in scripts,
//! Range/ETag/HEAD/304, superseded tokens, the timeline, and origin failures.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ADVERTISE, Server, assert_problem};

fn body(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

/// Put an object into the local source's directory, as an admin (or `images import`) would.
fn put_local(s: &Server, key: &str, data: &[u8]) {
    let path = s.data_dir.join("artifacts").join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// The `/artifacts/<token>` prefix in a node's boot script, pointed at the test server.
async fn artifact_prefix(s: &Server, mac: &str) -> String {
    let (st, script) = s.get(&format!("/boot/v1/bootscript?mac={mac}")).await;
    assert_eq!(st, StatusCode::OK, "{script}");
    let script = script.as_str().unwrap().to_string();
    let at = script
        .find(&format!("{ADVERTISE}/artifacts/"))
        .unwrap_or_else(|| panic!("no artifact URL in {script}"));
    let rest = &script[at + ADVERTISE.len()..];
    let token_end = rest["/artifacts/".len()..].find('/').unwrap() + "/artifacts/".len();
    rest[..token_end].to_string()
}

#[tokio::test]
async fn nodes_fetch_their_artifacts_through_tokens_with_ranges_etags_and_a_timeline() {
    let s = Server::start().await;
    let kernel = body(300_000, 1);
    let initrd = body(1_000_000, 2);
    put_local(&s, "boot-images/img1/kernel", &kernel);
    put_local(&s, "boot-images/img1/initrd", &initrd);
    put_local(&s, "boot-images/img1/rootfs", b"squash");
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    s.add_node("x1c0s0b0n1", 2, "Compute", "aa:bb:cc:00:00:02")
        .await;
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/img1/kernel",
                   "initrd": "s3://boot-images/img1/initrd",
                   "params": "console=ttyS0 root=live:s3://boot-images/img1/rootfs"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, script) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    let script = script.as_str().unwrap();
    assert!(
        !script.contains("s3://"),
        "no S3 reference reaches a node: {script}"
    );
    let prefix = artifact_prefix(&s, "aa:bb:cc:00:00:01").await;
    assert!(
        script.contains(&format!("root=live:{ADVERTISE}{prefix}/rootfs")),
        "{script}"
    );

    // Whole objects.
    let resp = s
        .http
        .get(s.url(&format!("{prefix}/kernel")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert!(resp.headers().contains_key("last-modified"));
    assert_eq!(
        resp.headers()["content-length"],
        kernel.len().to_string().as_str()
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), kernel);
    let got = s
        .http
        .get(s.url(&format!("{prefix}/initrd")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), initrd);
    // HEAD, Range, bad range, If-None-Match.
    let resp = s
        .http
        .head(s.url(&format!("{prefix}/initrd")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-length"], "1000000");
    let resp = s
        .http
        .get(s.url(&format!("{prefix}/initrd")))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.headers()["content-range"], "bytes 100-199/1000000");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), initrd[100..200]);
    let resp = s
        .http
        .get(s.url(&format!("{prefix}/initrd")))
        .header("Range", "bytes=2000000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(resp.headers()["content-range"], "bytes */1000000");
    let resp = s
        .http
        .get(s.url(&format!("{prefix}/kernel")))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    // The timeline shows the fetches, with the client's address.
    let (st, tl) = s.get("/apis/rackboot/v1/nodes/x1c0s0b0n0/timeline").await;
    assert_eq!(st, StatusCode::OK, "{tl}");
    let events = tl["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["what"] == "bootscript" && e["client"] == "127.0.0.1"),
        "{tl}"
    );
    let kernel_ev = events.iter().find(|e| e["what"] == "kernel").unwrap();
    assert_eq!(kernel_ev["outcome"], "complete", "{tl}");
    assert_eq!(kernel_ev["bytes"], kernel.len() as u64);
    assert_eq!(kernel_ev["client"], "127.0.0.1");
    assert!(
        events
            .iter()
            .any(|e| e["what"] == "initrd" && e["outcome"] == "partial"),
        "{tl}"
    );

    // Not an open proxy: unknown tokens, names the boot does not have, and another node's.
    let (st, h, v) = s
        .call(
            Method::GET,
            "/artifacts/0123456789abcdef0123456789abcdef/kernel",
            None,
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::NOT_FOUND,
        "unknown or superseded token",
    );
    let (st, h, v) = s
        .call(Method::GET, &format!("{prefix}/manifest"), None)
        .await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "no artifact 'manifest'");
    // Node 2 boots another image under its own token; each token opens only its node's.
    put_local(&s, "boot-images/img2/kernel", b"kernel two");
    let (st, _) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x1c0s0b0n1"], "kernel": "s3://boot-images/img2/kernel"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let other = artifact_prefix(&s, "aa:bb:cc:00:00:02").await;
    assert_ne!(other, prefix);
    let two = s
        .http
        .get(s.url(&format!("{other}/kernel")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&two[..], b"kernel two");
    let (st, _) = s.get(&format!("{other}/initrd")).await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "node 2's boot has no initrd; node 1's is not reachable through it"
    );

    // A new write supersedes the token.
    let (st, _) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/img1/kernel", "params": "console=ttyS1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.get(&format!("{prefix}/kernel")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let fresh = artifact_prefix(&s, "aa:bb:cc:00:00:01").await;
    assert_ne!(fresh, prefix);
    let resp = s
        .http
        .get(s.url(&format!("{fresh}/kernel")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // An object the boot names but the origin does not have.
    let (st, _) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/missing/kernel"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let gone = artifact_prefix(&s, "aa:bb:cc:00:00:01").await;
    let (st, h, v) = s.call(Method::GET, &format!("{gone}/kernel"), None).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::NOT_FOUND,
        "s3://boot-images/missing/kernel not found",
    );
    s.stop().await;
}

#[tokio::test]
async fn an_unreachable_origin_is_a_502_naming_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let endpoint = format!("http://127.0.0.1:{port}");
    let s = Server::start_in(
        dir.path(),
        rackboot::config::Settings {
            s3_endpoint: Some(endpoint.clone()),
            s3_access_key: Some("k".into()),
            s3_secret_key: Some("s".into()),
            ..Default::default()
        },
    )
    .await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    s.send(
        Method::PUT,
        "/boot/v1/bootparameters",
        json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/img1/kernel"}),
    )
    .await;
    let prefix = artifact_prefix(&s, "aa:bb:cc:00:00:01").await;
    let (st, h, v) = s.call(Method::GET, &format!("{prefix}/kernel"), None).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_GATEWAY,
        &format!("S3 {endpoint}"),
    );
    s.stop().await;
}

#[tokio::test]
async fn s3_references_that_escape_are_refused_at_write_time() {
    let s = Server::start().await;
    for (field, value) in [
        ("kernel", "s3://boot-images/../etc/passwd"),
        ("initrd", "s3://boot-images//abs"),
        ("params", "root=live:s3://boot-images/a/../../x"),
    ] {
        let mut body = json!({"hosts": ["Default"], "kernel": "s3://boot-images/ok/kernel"});
        body[field] = value.into();
        let (st, h, v) = s
            .call(Method::PUT, "/boot/v1/bootparameters", Some(body))
            .await;
        assert_problem(
            st,
            &h,
            &v,
            StatusCode::BAD_REQUEST,
            &format!("invalid {field}"),
        );
    }
    let (_, all) = s.get("/boot/v1/bootparameters").await;
    assert_eq!(
        all.as_array().map(|a| a.len()),
        Some(0),
        "nothing was written: {all}"
    );
    s.stop().await;
}

#[tokio::test]
async fn manifests_are_validated_naming_the_path_and_the_problem() {
    let s = Server::start().await;
    put_local(&s, "boot-images/good/kernel", b"k");
    let good = json!({"artifacts": [{"type": "application/vnd.cray.image.kernel", "link": {"path": "s3://boot-images/good/kernel", "etag": "e", "type": "s3"}}]});
    put_local(
        &s,
        "boot-images/good/manifest.json",
        good.to_string().as_bytes(),
    );
    let broken = json!({"artifacts": [{"type": "application/vnd.cray.image.kernel", "link": {"path": "s3://boot-images/gone/kernel", "type": "s3"}}]});
    put_local(
        &s,
        "boot-images/broken/manifest.json",
        broken.to_string().as_bytes(),
    );
    put_local(
        &s,
        "boot-images/nokernel/manifest.json",
        br#"{"artifacts": []}"#,
    );
    let m = "/apis/rackboot/v1/manifest?path=";
    let (st, v) = s
        .get(&format!("{m}s3://boot-images/good/manifest.json"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["kernel"]["path"], "s3://boot-images/good/kernel");
    for (path, needle) in [
        (
            "s3://boot-images/none/manifest.json",
            "manifest s3://boot-images/none/manifest.json does not exist",
        ),
        (
            "s3://boot-images/broken/manifest.json",
            "names s3://boot-images/gone/kernel, which does not exist",
        ),
        (
            "s3://boot-images/nokernel/manifest.json",
            "has no artifact of type application/vnd.cray.image.kernel",
        ),
        ("s3://boot-images/../x", "manifest path"),
    ] {
        let (st, h, v) = s.call(Method::GET, &format!("{m}{path}"), None).await;
        assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, needle);
    }
    s.stop().await;
}

#[tokio::test]
async fn a_node_that_disconnects_mid_transfer_does_not_poison_the_cache() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let s = Server::start().await;
    let big = body(32 << 20, 5);
    put_local(&s, "boot-images/big/kernel", &big);
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    s.send(
        Method::PUT,
        "/boot/v1/bootparameters",
        json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/big/kernel"}),
    )
    .await;
    let prefix = artifact_prefix(&s, "aa:bb:cc:00:00:01").await;
    // A raw client reads a little of the (uncached) kernel, then hangs up.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(format!("GET {prefix}/kernel HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(conn);
    // The next node gets all of it, and the origin was read once.
    let got = s
        .http
        .get(s.url(&format!("{prefix}/kernel")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got.to_vec() == big);
    let (_, m) = s.get("/metrics").await;
    let gets: f64 = m
        .as_str()
        .unwrap()
        .lines()
        .find(|l| l.starts_with("rackboot_artifact_origin_gets_total"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        gets, 1.0,
        "one origin read (nextest runs each test in its own process)"
    );
    let (_, tl) = s.get("/apis/rackboot/v1/nodes/x1c0s0b0n0/timeline").await;
    let outcomes: Vec<&str> = tl["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"] == "kernel")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["aborted", "complete"], "{tl}");
    s.stop().await;
}

#[tokio::test]
async fn unknown_nodes_get_their_discovery_boot_artifacts_through_the_proxy_too() {
    let s = Server::start().await;
    put_local(&s, "boot-images/discovery/kernel", b"discovery kernel");
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["Unknown-x86_64"], "kernel": "s3://boot-images/discovery/kernel"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, script) = s
        .get("/boot/v1/bootscript?mac=0e:ff:ff:ff:ff:ff&arch=x86_64")
        .await;
    assert_eq!(st, StatusCode::OK, "{script}");
    let script = script.as_str().unwrap();
    assert!(!script.contains("s3://"), "{script}");
    let url = script
        .lines()
        .find_map(|l| l.strip_prefix("kernel --name kernel "))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .replace(ADVERTISE, &s.base);
    let got = s.http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], b"discovery kernel");
    s.stop().await;
}
