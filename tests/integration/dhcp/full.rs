//! Full DHCP mode in a network namespace: reservations, a pool and boot files handed to
//! busybox `udhcpc`, and ISC `dhclient` binding and releasing its reserved address.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rackboot::config::{DhcpKind, Settings};
use rackboot::dhcp::server::Sockets;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, wait_until};
use crate::netns::{Host, Lan};

use super::{NODE, NODE_MAC, SERVER, blocking, pxe_args, strs, udhcpc};

fn full_settings(pool: &str) -> Settings {
    Settings {
        dhcp: Some(DhcpKind::Full),
        dhcp_interface: Some("eth0".into()),
        dhcp_server_ip: Some(SERVER.parse().unwrap()),
        dhcp_netmask: Some("255.255.255.0".parse().unwrap()),
        dhcp_router: Some("192.168.77.254".parse().unwrap()),
        dhcp_pool: Some(pool.into()),
        advertise_url: Some(format!("http://{SERVER}:8080")),
        ..Default::default()
    }
}

async fn start_full(lan: &mut Lan, dir: &Path, pool: &str) -> (Server, Host) {
    let srv = lan.host("srv", "02:77:00:00:00:fe", Some(&format!("{SERVER}/24")));
    let sockets = srv.enter(|| Sockets::bind("eth0").unwrap());
    let s = Server::start_with(dir, full_settings(pool), "127.0.0.1:0", Some(sockets)).await;
    s.add_node(NODE, 1, "Compute", NODE_MAC).await;
    let (st, v) = s
        .send(
            Method::PATCH,
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/525400770001",
            json!({"IPAddresses": [{"IPAddress": "192.168.77.11"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (s, srv)
}

#[tokio::test]
#[ignore = "tier root: needs root (network namespaces) and busybox; scripts/test.sh runs it"]
async fn full_mode_serves_reservations_a_pool_and_boot_files_to_udhcpc() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut lan = Lan::new();
    let (s, srv) = start_full(&mut lan, &data, "192.168.77.100-192.168.77.103").await;
    let node = lan.host("n1", NODE_MAC, None);
    let d = dir.path().to_path_buf();

    // The reserved node, as BIOS PXE firmware: its address and undionly.kpxe from us.
    let (node, env) = blocking(move || {
        let env = udhcpc(&node, &d, &strs(&pxe_args("0")));
        (node, env)
    })
    .await;
    let env = env.unwrap();
    assert_eq!(env["ip"], "192.168.77.11", "{env:?}");
    assert_eq!(env["subnet"], "255.255.255.0");
    assert_eq!(env["router"], "192.168.77.254");
    assert_eq!(env["serverid"], SERVER);
    assert_eq!(env["siaddr"], SERVER);
    assert_eq!(env["lease"], "3600");
    assert_eq!(env["boot_file"], "undionly.kpxe");
    assert_eq!(env["tftp"], SERVER);

    // x86-64 UEFI gets snponly.efi; iPXE (user class) its boot script, never a binary again;
    // a plain client only an address.
    let d = dir.path().to_path_buf();
    let (_node, efi, ipxe, plain) = blocking(move || {
        let efi = udhcpc(&node, &d, &strs(&pxe_args("7")));
        let mut a = pxe_args("0");
        a.extend(["-x".into(), "0x4d:69505845".into()]);
        let ipxe = udhcpc(&node, &d, &strs(&a));
        let plain = udhcpc(&node, &d, &[]);
        (node, efi, ipxe, plain)
    })
    .await;
    assert_eq!(efi.unwrap()["boot_file"], "snponly.efi");
    assert_eq!(
        ipxe.unwrap()["boot_file"],
        format!("http://{SERVER}:8080/boot/v1/bootscript?mac={NODE_MAC}&arch=x86_64")
    );
    let plain = plain.unwrap();
    assert_eq!(plain["ip"], "192.168.77.11");
    assert!(!plain.contains_key("boot_file"), "{plain:?}");

    // Garbage on both ports is dropped; the server keeps answering.
    let junk = lan.host("junk", "02:77:00:00:00:99", Some("192.168.77.200/24"));
    junk.enter(|| {
        let u = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        for port in [67, 4011] {
            for len in [0usize, 1, 100, 240, 241, 600] {
                let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                u.send_to(&bytes, (SERVER, port)).unwrap();
            }
        }
    });

    // Four unknown MACs at once, a pool of four: four different addresses (the race that
    // made dnsmasq offer one address twice).
    let mut unknown = Vec::new();
    for n in 1..=4 {
        unknown.push(lan.host(&format!("u{n}"), &format!("02:00:00:00:00:0{n}"), None));
    }
    let d = dir.path().to_path_buf();
    let (unknown, got) = blocking(move || {
        let got: Vec<_> = std::thread::scope(|sc| {
            let hs: Vec<_> = unknown
                .iter()
                .map(|h| sc.spawn(|| udhcpc(h, &d, &strs(&pxe_args("0")))))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        (unknown, got)
    })
    .await;
    let mut ips: Vec<String> = got.into_iter().map(|e| e.unwrap()["ip"].clone()).collect();
    ips.sort();
    assert_eq!(
        ips,
        [
            "192.168.77.100",
            "192.168.77.101",
            "192.168.77.102",
            "192.168.77.103"
        ]
    );
    // A fifth finds the pool exhausted and hears nothing.
    let fifth = lan.host("u5", "02:00:00:00:00:05", None);
    let d = dir.path().to_path_buf();
    let (fifth, r) = blocking(move || {
        let r = udhcpc(&fifth, &d, &[]);
        (fifth, r)
    })
    .await;
    assert!(r.is_err(), "{r:?}");

    // The leases, in the API and the CLI, with the node's name.
    let (st, leases) = s.get("/apis/rackboot/v1/dhcp/leases").await;
    assert_eq!(st, StatusCode::OK);
    let leases = leases.as_array().unwrap().clone();
    assert_eq!(leases.len(), 5, "{leases:?}");
    assert_eq!(leases[0]["ip"], "192.168.77.11");
    assert_eq!(leases[0]["mac"], NODE_MAC);
    assert_eq!(leases[0]["node"], NODE);
    assert!(leases.iter().all(|l| l["state"] == "active"));
    let base = s.base.clone();
    let out = blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_rackboot"))
            .args(["dhcp", "leases", "--url", &base])
            .output()
            .unwrap()
    })
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("192.168.77.11") && text.contains(NODE) && text.contains("192.168.77.103"),
        "{text}"
    );

    // DHCP is on the node's timeline.
    let (_, tl) = s
        .get(&format!("/apis/rackboot/v1/nodes/{NODE}/timeline"))
        .await;
    let dhcp: Vec<&Value> = tl["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"] == "dhcp")
        .collect();
    assert!(
        dhcp.iter()
            .any(|e| e["outcome"] == "ack" && e["file"] == "undionly.kpxe"),
        "{dhcp:?}"
    );

    // Leases survive a restart: a pool client gets its address back, and the pool is
    // still full for a newcomer.
    let before: HashMap<String, String> = leases
        .iter()
        .map(|l| {
            (
                l["mac"].as_str().unwrap().to_string(),
                l["ip"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    s.stop().await;
    let sockets = srv.enter(|| Sockets::bind("eth0").unwrap());
    let s = Server::start_with(
        &data,
        full_settings("192.168.77.100-192.168.77.103"),
        "127.0.0.1:0",
        Some(sockets),
    )
    .await;
    let d = dir.path().to_path_buf();
    let (again, newcomer) = blocking(move || {
        (
            udhcpc(&unknown[2], &d, &[]),
            udhcpc(&fifth, &d, &["-t", "2"]),
        )
    })
    .await;
    assert_eq!(again.unwrap()["ip"], before["02:00:00:00:00:03"]);
    assert!(newcomer.is_err());
    s.stop().await;
}

#[tokio::test]
#[ignore = "tier root: needs root (network namespaces) and ISC dhclient; scripts/test.sh runs it"]
async fn dhclient_binds_and_releases_its_reserved_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new();
    let (s, _srv) = start_full(
        &mut lan,
        &dir.path().join("data"),
        "192.168.77.100-192.168.77.101",
    )
    .await;
    let node = lan.host("n1", NODE_MAC, None);
    let d = dir.path().to_path_buf();
    let script = d.join("dhclient.sh");
    let out = d.join("dhclient.log");
    // dhclient runs its script with a clean environment: the log path is in the text.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$reason $new_ip_address $new_subnet_mask\" >> {}\n\
             case $reason in BOUND) ip addr add \"$new_ip_address/24\" dev \"$interface\";; esac\n\
             exit 0\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let common = |c: &mut Command| {
        c.arg("-sf")
            .arg(&script)
            .arg("-lf")
            .arg(d.join("dhclient.leases"))
            .arg("-pf")
            .arg(d.join("dhclient.pid"))
            .stdin(Stdio::null());
    };
    let mut bind = node.cmd("dhclient");
    bind.args(["-4", "-1", "-v"]);
    common(&mut bind);
    bind.arg("eth0");
    let o = blocking(move || {
        bind.output()
            .expect("dhclient (scripts/peers.sh installs isc-dhcp-client)")
    })
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = std::fs::read_to_string(&out).unwrap();
    assert!(log.contains("BOUND 192.168.77.11 255.255.255.0"), "{log}");
    let (_, leases) = s.get("/apis/rackboot/v1/dhcp/leases").await;
    assert_eq!(leases[0]["ip"], "192.168.77.11", "{leases}");

    // Release: dhclient unicasts a RELEASE; the lease is gone from the store.
    let mut release = node.cmd("dhclient");
    release.args(["-4", "-r", "-v"]);
    common(&mut release);
    release.arg("eth0");
    let o = blocking(move || release.output().unwrap()).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait_until(
        "the lease to be released",
        Duration::from_secs(5),
        async || {
            let (_, leases) = s.get("/apis/rackboot/v1/dhcp/leases").await;
            if leases.as_array().unwrap().is_empty() {
                Ok(())
            } else {
                Err(leases)
            }
        },
    )
    .await;
    s.stop().await;
}
