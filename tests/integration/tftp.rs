//! The TFTP server against real clients (installed by scripts/peers.sh): tftp-hpa `tftp`,
//! `atftp` (the one that negotiates windowsize), and `curl tftp://`, on 127.0.0.1 and ::1
//! high ports, serving Debian's iPXE binaries and a generated file; plus a raw-socket client
//! for what no client does on purpose (garbage, vanishing mid-transfer).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rackboot::config::Settings;
use rackboot::tftp::packet;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Server, wait_until};

/// A server with TFTP on `listen`, serving a fresh directory with a 3 MiB file (`big.bin`),
/// a small one, and Debian's `undionly.kpxe` and `ipxe.efi`.
async fn start(listen: &str) -> (Server, tempfile::TempDir, PathBuf) {
    start_serving(listen, &["undionly.kpxe", "ipxe.efi"]).await
}

/// The same with only the given iPXE binaries (none for tests that need no Debian package).
async fn start_serving(listen: &str, ipxe: &[&str]) -> (Server, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tftp");
    std::fs::create_dir_all(&root).unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(root.join("big.bin"), big).unwrap();
    std::fs::write(root.join("small.txt"), b"hello from rackboot\n").unwrap();
    for f in ipxe {
        let src = Path::new("/usr/lib/ipxe").join(f);
        std::fs::copy(&src, root.join(f)).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (scripts/peers.sh installs Debian's ipxe package)",
                src.display()
            )
        });
    }
    std::fs::write(dir.path().join("secret"), b"outside the root").unwrap();
    let s = Server::start_in(
        &dir.path().join("data"),
        Settings {
            tftp_listen: Some(listen.into()),
            tftp_root: Some(root.clone()),
            ..Default::default()
        },
    )
    .await;
    (s, dir, root)
}

fn run(cmd: &mut Command) -> (bool, String) {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/peers.sh installs the TFTP clients)"));
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn same(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(
        x == y,
        "{} ({} bytes) differs from {} ({} bytes)",
        a.display(),
        x.len(),
        b.display(),
        y.len()
    );
}

#[tokio::test]
#[ignore = "tier peers: needs tftp-hpa, atftp, curl and Debian's ipxe; scripts/test.sh installs and runs it"]
async fn tftp_serves_ipxe_to_tftp_hpa_atftp_and_curl() {
    let (s, dir, root) = start("127.0.0.1:0").await;
    let port = s.tftp.unwrap().port().to_string();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();

    // tftp-hpa: classic 512-byte blocks, no options.
    let (p, o) = (port.clone(), out.join("undionly.kpxe"));
    let (ok, text) = blocking(move || {
        run(Command::new("tftp")
            .args([
                "-m",
                "binary",
                "127.0.0.1",
                &p,
                "-c",
                "get",
                "undionly.kpxe",
            ])
            .arg(&o))
    })
    .await;
    assert!(ok, "{text}");
    same(&root.join("undionly.kpxe"), &out.join("undionly.kpxe"));

    // atftp with blksize, tsize and windowsize: the OACK carries all three.
    for w in ["1", "8", "16"] {
        let (p, o) = (port.clone(), out.join(format!("big.{w}")));
        let w2 = w.to_string();
        let (ok, text) = blocking(move || {
            run(Command::new("atftp")
                .args(["--option", "blksize 1468", "--option", "tsize 0"])
                .args(["--option", &format!("windowsize {w2}"), "--trace", "-g"])
                .args(["-r", "big.bin", "-l"])
                .arg(&o)
                .args(["127.0.0.1", &p]))
        })
        .await;
        assert!(ok, "windowsize {w}: {text}");
        assert!(
            text.contains(&format!("windowsize: {w}")) && text.contains("blksize: 1468"),
            "the OACK should carry the options:\n{text}"
        );
        assert!(text.contains("tsize: 3145728"), "{text}");
        same(&root.join("big.bin"), &out.join(format!("big.{w}")));
    }

    // curl, with a large block size, and its error codes for a missing file and a way out.
    let (p, o) = (port.clone(), out.join("ipxe.efi"));
    let (ok, text) = blocking(move || {
        run(Command::new("curl")
            .args(["-sS", "--tftp-blksize", "1468", "-o"])
            .arg(&o)
            .arg(format!("tftp://127.0.0.1:{p}/ipxe.efi")))
    })
    .await;
    assert!(ok, "{text}");
    same(&root.join("ipxe.efi"), &out.join("ipxe.efi"));
    for (name, code) in [("nope.efi", 68), ("../secret", 69), ("/../secret", 69)] {
        let p = port.clone();
        let url = format!("tftp://127.0.0.1:{p}/{name}");
        let o = blocking(move || {
            Command::new("curl")
                .args(["-sS", "--path-as-is", "-o", "/dev/null", &url])
                .output()
                .unwrap()
        })
        .await;
        assert_eq!(
            o.status.code(),
            Some(code),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    // A write is refused with error 2.
    let (p, local) = (port.clone(), root.join("small.txt"));
    let (ok, text) = blocking(move || {
        run(Command::new("tftp")
            .args(["-m", "binary", "127.0.0.1", &p, "-c", "put"])
            .arg(&local)
            .arg("uploaded.txt"))
    })
    .await;
    assert!(
        text.contains("read-only"),
        "a put must be refused ({ok}): {text}"
    );
    assert!(!root.join("uploaded.txt").exists());

    // Counted in the metrics.
    let (_, _, m) = s.call(Method::GET, "/metrics", None).await;
    let m = m.as_str().unwrap_or_default().to_string();
    assert!(
        m.contains("rackboot_tftp_transfers_total{outcome=\"complete\"} 5"),
        "{m}"
    );
    assert!(
        m.contains("rackboot_tftp_transfers_total{outcome=\"refused\"}"),
        "{m}"
    );
}

#[tokio::test]
#[ignore = "tier peers: needs curl, Debian's ipxe and IPv6 loopback; scripts/test.sh installs and runs it"]
async fn tftp_listens_on_ipv6() {
    let (s, dir, root) = start("[::1]:0").await;
    let port = s.tftp.unwrap().port();
    let out = dir.path().join("small.txt");
    let o = out.clone();
    let (ok, text) = blocking(move || {
        run(Command::new("curl")
            .args(["-sS", "-g", "-o"])
            .arg(&o)
            .arg(format!("tftp://[::1]:{port}/small.txt")))
    })
    .await;
    assert!(ok, "{text}");
    same(&root.join("small.txt"), &out);
}

#[tokio::test]
#[ignore = "tier peers: needs curl and Debian's ipxe; scripts/test.sh installs and runs it"]
async fn tftp_transfers_of_known_nodes_are_on_their_timeline() {
    let (s, dir, _root) = start("127.0.0.1:0").await;
    s.add_node("x3000c0s1b0n0", 1, "Compute", "02:00:00:00:00:01")
        .await;
    let (st, v) = s
        .send(
            Method::PATCH,
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/020000000001",
            json!({"IPAddresses": [{"IPAddress": "127.0.0.1"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let port = s.tftp.unwrap().port();
    let o = dir.path().join("u");
    let (ok, text) = blocking(move || {
        run(Command::new("curl")
            .args(["-sS", "-o"])
            .arg(&o)
            .arg(format!("tftp://127.0.0.1:{port}/undionly.kpxe")))
    })
    .await;
    assert!(ok, "{text}");
    let events = wait_until(
        "the TFTP event on the timeline",
        Duration::from_millis(2500),
        async || {
            let (_, tl) = s
                .get("/apis/rackboot/v1/nodes/x3000c0s1b0n0/timeline")
                .await;
            if tl.to_string().contains("undionly.kpxe") {
                Ok(tl)
            } else {
                Err(tl)
            }
        },
    )
    .await;
    let e = events["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no TFTP event on the timeline"))
        .iter()
        .find(|e| e["what"] == "tftp")
        .unwrap()
        .clone();
    assert_eq!(e["file"], "undionly.kpxe");
    assert_eq!(e["outcome"], "complete");
    assert_eq!(e["client"], "127.0.0.1");
    assert_eq!(
        e["bytes"].as_u64().unwrap(),
        std::fs::metadata("/usr/lib/ipxe/undionly.kpxe")
            .unwrap()
            .len()
    );
}

/// Wait until the appliance's metrics contain `line`.
async fn wait_for_metric(s: &Server, line: &str, within: Duration) {
    wait_until(line, within, async || {
        let (_, _, m) = s.call(Method::GET, "/metrics", None).await;
        let text = m.as_str().unwrap_or_default();
        if text.contains(line) {
            Ok(())
        } else {
            Err(text.to_string())
        }
    })
    .await
}

/// A raw client: sends `req` from a fresh socket and returns it and the first answer.
async fn raw(server: SocketAddr, req: &[u8]) -> (tokio::net::UdpSocket, Vec<u8>, SocketAddr) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(req, server).await.unwrap();
    let mut buf = vec![0u8; 70000];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("the server answers")
        .unwrap();
    buf.truncate(n);
    (sock, buf, from)
}

#[tokio::test]
async fn tftp_survives_garbage_and_frees_the_slots_of_vanished_clients() {
    let (s, _dir, _root) = start_serving("127.0.0.1:0", &[]).await;
    let server = s.tftp.unwrap();
    // Garbage of every kind is dropped; the server keeps serving.
    let junk = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for g in [
        &b""[..],
        b"\x00",
        b"\x00\x09abc",
        b"\x00\x01no-terminator",
        b"\x00\x01f\x00weird-mode\x00",
        b"\x00\x03\x00\x01data to the server port",
        b"\x00\x04",
        &[0xff; 600],
    ] {
        junk.send_to(g, server).await.unwrap();
    }
    let (sock, answer, tid) = raw(server, &packet::request(false, "small.txt", "octet", &[])).await;
    assert_eq!(
        packet::parse(&answer).unwrap(),
        packet::Packet::Data {
            block: 1,
            data: b"hello from rackboot\n"
        }
    );
    assert_ne!(tid, server, "the transfer runs on its own port (TID)");
    sock.send_to(&packet::ack(1), tid).await.unwrap();
    // Its slot is given back before the transfer is counted.
    wait_for_metric(
        &s,
        "rackboot_tftp_transfers_total{outcome=\"complete\"} 1",
        Duration::from_secs(5),
    )
    .await;
    // Eight clients from this address start big transfers and vanish after the first
    // packet: the ninth is turned away until the server gives up on them.
    let mut vanished = Vec::new();
    for _ in 0..8 {
        let (sock, first, _) = raw(
            server,
            &packet::request(false, "big.bin", "octet", &[("windowsize", "4")]),
        )
        .await;
        assert!(matches!(packet::parse(&first), Ok(packet::Packet::Oack(_))));
        vanished.push(sock);
    }
    let (_, refused, _) = raw(server, &packet::request(false, "small.txt", "octet", &[])).await;
    assert!(
        matches!(packet::parse(&refused), Ok(packet::Packet::Error { code: 0, ref message }) if message.contains("too many")),
        "{:?}",
        packet::parse(&refused)
    );
    // 1 s timeout, 5 retries: gone after about 6 s (within 8 s).
    wait_for_metric(
        &s,
        "rackboot_tftp_transfers_total{outcome=\"timeout\"} 8",
        Duration::from_secs(8),
    )
    .await;
    let (_, answer, _) = raw(server, &packet::request(false, "small.txt", "octet", &[])).await;
    assert!(
        matches!(
            packet::parse(&answer),
            Ok(packet::Packet::Data { block: 1, .. })
        ),
        "{:?}",
        packet::parse(&answer)
    );
    let (_, _, m) = s.call(Method::GET, "/metrics", None).await;
    assert!(
        m.as_str()
            .unwrap_or_default()
            .contains("rackboot_tftp_transfers_total{outcome=\"timeout\"} 8"),
        "{m}"
    );
    drop(vanished);
}

#[tokio::test]
async fn tftp_is_off_when_asked_and_bad_addresses_are_refused() {
    let s = Server::start().await;
    assert!(
        s.tftp.is_none(),
        "the test servers run without TFTP unless asked"
    );
    let e = rackboot::config::Config::resolve(Settings {
        advertise_url: Some("http://10.0.0.1:8080".into()),
        tftp_listen: Some("0.0.0.0".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("tftp_listen '0.0.0.0'"), "{e}");
}

#[tokio::test]
#[ignore = "tier peers: needs Debian's ipxe; scripts/test.sh installs and runs it"]
async fn ipxe_binaries_are_served_over_http_too() {
    let (s, _dir, root) = start("off").await;
    let bytes = s
        .http
        .get(s.url("/ipxe/undionly.kpxe"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        bytes.as_ref(),
        std::fs::read(root.join("undionly.kpxe")).unwrap()
    );
    let (st, v) = s.get("/ipxe/nope.efi").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = s.get("/ipxe/%2e%2e/secret").await;
    assert!(
        st == StatusCode::BAD_REQUEST || st == StatusCode::NOT_FOUND,
        "{st} {v}"
    );
    assert!(!v.to_string().contains("outside the root"), "{v}");
}
