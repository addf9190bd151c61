//! The DHCP server on a private network (see `netns`), against real clients: busybox
//! `udhcpc` and ISC `dhclient` in full mode; in proxy mode beside a dnsmasq that plays the
//! site's DHCP server, with PXE requests sent as firmware sends them (no PXE client runs
//! outside a VM; the QEMU lab covers iPXE and OVMF). One test runs the `rackboot` binary
//! itself in a namespace and follows the whole chain: DHCP → TFTP → the boot script.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rackboot::config::{DhcpKind, Settings};
use rackboot::dhcp::packet::{self, Message, kind, opt};
use rackboot::dhcp::server::Sockets;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::common::{Server, poll, wait_until};
use super::netns::{Host, Lan};

const SERVER: &str = "192.168.77.1";
const NODE: &str = "x3000c0s1b0n0";
const NODE_MAC: &str = "52:54:00:77:00:01";

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

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// busybox udhcpc in `host`, once: the `bound` environment, or why it got no lease.
fn udhcpc(host: &Host, dir: &Path, args: &[&str]) -> Result<HashMap<String, String>, String> {
    let script = dir.join("udhcpc.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n[ \"$1\" = bound ] && env > \"$UDHCPC_OUT\"\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.join(format!("{}.env", host.ns));
    let _ = std::fs::remove_file(&out);
    let o = host
        .cmd("busybox")
        .args([
            "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "3", "-T", "1",
        ])
        .args(["-O", "tftp", "-O", "bootfile", "-s"])
        .arg(&script)
        .args(args)
        .env("UDHCPC_OUT", &out)
        .output()
        .expect("busybox udhcpc (scripts/peers.sh installs busybox-static)");
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success() {
        return Err(log);
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{e}: {log}"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn pxe_args(arch: &str) -> Vec<String> {
    vec![
        "-V".into(),
        format!("PXEClient:Arch:{arch:0>5}:UNDI:002001"),
        "-x".into(),
        format!("0x5d:{:04x}", arch.parse::<u16>().unwrap()),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
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

/// A PXE ROM's message (as iPXE and EDK2 send them), with a client UUID (option 97).
fn pxe_message(mac: [u8; 6], t: u8, arch: u16, ipxe: bool) -> Message {
    let vendor = format!("PXEClient:Arch:{arch:05}:UNDI:002001");
    let mut m = packet::client_request(mac, Some(arch), Some(&vendor), ipxe);
    m.options[0] = (opt::MESSAGE_TYPE, vec![t]);
    m.options.push((opt::CLIENT_UUID, vec![0; 17]));
    m
}

/// Send `m` to `to` from port 68 in `host` and collect the replies for `wait`.
fn exchange(host: &Host, m: Message, to: SocketAddr, wait: Duration) -> Vec<(SocketAddr, Message)> {
    host.enter(move || {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        s.set_reuse_address(true).unwrap();
        s.set_broadcast(true).unwrap();
        s.bind_device(Some(b"eth0")).unwrap();
        s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 68)).into())
            .unwrap();
        let u: std::net::UdpSocket = s.into();
        u.send_to(&m.encode(), to).unwrap();
        let deadline = std::time::Instant::now() + wait;
        let mut got = Vec::new();
        let mut buf = [0u8; 1500];
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            u.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            match u.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Ok(r) = packet::parse(&buf[..n])
                        && r.xid == m.xid
                        && r.op == packet::BOOTREPLY
                    {
                        got.push((from, r));
                    }
                }
                Err(_) => break,
            }
        }
        got
    })
}

#[tokio::test]
#[ignore = "tier root: needs root (network namespaces), dnsmasq and busybox; scripts/test.sh runs it"]
async fn proxy_mode_adds_boot_information_beside_a_site_dnsmasq() {
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new();
    let site = lan.host("site", "02:77:00:00:00:fd", Some("192.168.77.2/24"));
    let mut dnsmasq = site
        .cmd("dnsmasq")
        .args([
            "--no-daemon",
            "--port=0",
            "--conf-file=/dev/null",
            "--interface=eth0",
            "--bind-interfaces",
            "--user=root",
            "--dhcp-range=192.168.77.50,192.168.77.60,255.255.255.0,1h",
            "--log-dhcp",
            // Offer at once, without pinging the address for 3 s first.
            "--no-ping",
        ])
        .arg(format!(
            "--dhcp-leasefile={}",
            dir.path().join("dnsmasq.leases").display()
        ))
        .arg(format!(
            "--pid-file={}",
            dir.path().join("dnsmasq.pid").display()
        ))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("dnsmasq.log")).unwrap())
        .spawn()
        .expect("dnsmasq (scripts/peers.sh installs dnsmasq-base)");
    let srv = lan.host("srv", "02:77:00:00:00:fe", Some(&format!("{SERVER}/24")));
    let sockets = srv.enter(|| Sockets::bind("eth0").unwrap());
    let settings = Settings {
        dhcp: Some(DhcpKind::Proxy),
        dhcp_interface: Some("eth0".into()),
        dhcp_server_ip: Some(SERVER.parse().unwrap()),
        dhcp_netmask: Some("255.255.255.0".parse().unwrap()),
        advertise_url: Some(format!("http://{SERVER}:8080")),
        ..Default::default()
    };
    let s = Server::start_with(
        &dir.path().join("data"),
        settings,
        "127.0.0.1:0",
        Some(sockets),
    )
    .await;
    let client = lan.host("c1", NODE_MAC, None);
    let mac = [0x52, 0x54, 0, 0x77, 0, 1];

    // A plain client gets its address from the site server; the proxy stays out of it.
    let d = dir.path().to_path_buf();
    let (client, env) = blocking(move || {
        // dnsmasq may still be starting: udhcpc retries. `-B` asks for broadcast replies, as
        // PXE ROMs do (dnsmasq's unicast offers to an unconfigured veth go unseen).
        let env = udhcpc(&client, &d, &["-B"]);
        (client, env)
    })
    .await;
    let env = env.unwrap_or_else(|e| {
        let log = std::fs::read_to_string(dir.path().join("dnsmasq.log")).unwrap_or_default();
        panic!("udhcpc beside dnsmasq: {e}\ndnsmasq:\n{log}")
    });
    assert_eq!(env["serverid"], "192.168.77.2", "{env:?}");
    assert!(!env.contains_key("boot_file"));

    // A BIOS PXE DISCOVER hears two offers: an address from dnsmasq, and from us no address
    // but where to boot, with discovery bypassed (option 43).
    let bcast = SocketAddr::from((Ipv4Addr::BROADCAST, 67));
    let (client, offers) = blocking(move || {
        let o = exchange(
            &client,
            pxe_message(mac, kind::DISCOVER, 0, false),
            bcast,
            Duration::from_secs(2),
        );
        (client, o)
    })
    .await;
    let ours: Vec<&Message> = offers
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.server_id() == Some(SERVER.parse().unwrap()))
        .collect();
    let site_offer = offers
        .iter()
        .map(|(_, m)| m)
        .find(|m| m.server_id() == Some("192.168.77.2".parse().unwrap()))
        .expect("an offer from the site dnsmasq");
    assert_eq!(ours.len(), 1, "{offers:?}");
    let proxy = ours[0];
    assert_eq!(proxy.message_type(), Some(kind::OFFER));
    assert_eq!(proxy.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(proxy.siaddr, SERVER.parse::<Ipv4Addr>().unwrap());
    assert_eq!(proxy.file, b"undionly.kpxe");
    assert_eq!(proxy.option(opt::VENDOR_CLASS), Some(&b"PXEClient"[..]));
    assert_eq!(
        proxy.option(opt::VENDOR_SPECIFIC),
        Some(&[6, 1, 8, 255][..])
    );
    assert_eq!(proxy.option(opt::CLIENT_UUID), Some(&[0u8; 17][..]));
    assert!(site_offer.yiaddr.octets()[3] >= 50);

    // With the site's address, UEFI firmware asks port 4011 (EDK2's ProxyDHCP request) and
    // gets snponly.efi; iPXE gets its boot script.
    let addr = site_offer.yiaddr;
    let c = Command::new("ip")
        .args([
            "-n",
            &client.ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ])
        .status()
        .unwrap();
    assert!(c.success());
    let to = SocketAddr::from((SERVER.parse::<Ipv4Addr>().unwrap(), 4011));
    let (client, acks) = blocking(move || {
        let mut r = pxe_message(mac, kind::REQUEST, 7, false);
        r.ciaddr = addr;
        let efi = exchange(&client, r, to, Duration::from_secs(2));
        let ipxe = exchange(
            &client,
            pxe_message(mac, kind::DISCOVER, 0, true),
            bcast,
            Duration::from_secs(2),
        );
        (client, (efi, ipxe))
    })
    .await;
    let (efi, ipxe) = acks;
    assert_eq!(efi.len(), 1, "{efi:?}");
    assert_eq!(efi[0].1.message_type(), Some(kind::ACK));
    assert_eq!(efi[0].1.file, b"snponly.efi");
    assert_eq!(efi[0].0.port(), 4011);
    let url = format!("http://{SERVER}:8080/boot/v1/bootscript?mac={NODE_MAC}&arch=x86_64");
    assert!(
        ipxe.iter()
            .any(|(_, m)| m.yiaddr.is_unspecified() && m.file == url.as_bytes()),
        "{ipxe:?}"
    );
    drop(client);
    let _ = dnsmasq.kill();
    let _ = dnsmasq.wait();
    s.stop().await;
}

#[tokio::test]
#[ignore = "tier root: needs root (network namespaces), busybox, curl, tftp-hpa and Debian's ipxe; scripts/test.sh runs it"]
async fn the_binary_serves_dhcp_tftp_and_the_script_on_its_interface() {
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new();
    let srv = lan.host("srv", "02:77:00:00:00:fe", Some(&format!("{SERVER}/24")));
    let mut child = srv
        .cmd(env!("CARGO_BIN_EXE_rackboot"))
        .args(["serve", "--dhcp", "full", "--dhcp-interface", "eth0"])
        .args(["--dhcp-pool", "192.168.77.100-192.168.77.110"])
        .args(["--listen", &format!("{SERVER}:8080")])
        .args(["--advertise-url", &format!("http://{SERVER}:8080")])
        .args(["--tftp-listen", &format!("{SERVER}:69")])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let node = lan.host("n1", "02:00:00:00:00:31", None);
    let d = dir.path().to_path_buf();
    let runtime = tokio::runtime::Handle::current();
    let result = blocking(move || -> Result<(), String> {
        // An unknown MAC boots BSS's Unknown-x86_64 entry.
        let o = srv
            .cmd("curl")
            .args(["-sS", "--fail", "--retry", "20", "--retry-connrefused", "--retry-delay", "1"])
            .args(["-X", "POST", "-H", "Content-Type: application/json"])
            .args(["-d", r#"{"hosts": ["Unknown-x86_64"], "kernel": "http://192.168.77.1:8080/k", "params": "console=ttyS0"}"#])
            .arg(format!("http://{SERVER}:8080/boot/v1/bootparameters"))
            .output()
            .unwrap();
        if !o.status.success() {
            return Err(format!("bootparameters: {}", String::from_utf8_lossy(&o.stderr)));
        }
        // The node is in the inventory by MAC only: its address will be a pool lease.
        let post = |path: &str, body: &str| {
            let o = srv
                .cmd("curl")
                .args(["-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/json"])
                .args(["-d", body])
                .arg(format!("http://{SERVER}:8080{path}"))
                .output()
                .unwrap();
            o.status.success().then_some(()).ok_or_else(|| {
                format!("{path}: {}", String::from_utf8_lossy(&o.stderr))
            })
        };
        post(
            "/apis/smd/hsm/v2/State/Components",
            r#"{"Components": [{"ID": "x3000c0s9b0n0", "State": "Off", "NID": 9}]}"#,
        )?;
        post(
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces",
            r#"{"MACAddress": "02:00:00:00:00:31", "ComponentID": "x3000c0s9b0n0"}"#,
        )?;
        // DHCP with a PXE ROM's classes: an address (found on eth0 by the server) and a file.
        let mut env = Err("not tried".to_string());
        for _ in 0..10 {
            env = udhcpc(&node, &d, &strs(&pxe_args("0")));
            if env.is_ok() {
                break;
            }
        }
        let env = env?;
        if env.get("boot_file").map(String::as_str) != Some("undionly.kpxe")
            || env.get("serverid").map(String::as_str) != Some(SERVER)
        {
            return Err(format!("{env:?}"));
        }
        let ip = &env["ip"];
        let st = Command::new("ip")
            .args([
                "-n",
                &node.ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                "eth0",
            ])
            .status()
            .unwrap();
        assert!(st.success());
        // TFTP from the server DHCP named, with tftp-hpa.
        let got = d.join("undionly.kpxe");
        let o = node
            .cmd("tftp")
            .args(["-m", "binary", &env["siaddr"], "-c", "get", "undionly.kpxe"])
            .arg(&got)
            .output()
            .unwrap();
        if !o.status.success()
            || std::fs::read(&got).ok() != std::fs::read("/usr/lib/ipxe/undionly.kpxe").ok()
        {
            return Err(format!(
                "tftp: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        // Both are on the node's timeline; TFTP found it through the DHCP lease (recorded
        // just after the transfer: poll briefly). On this blocking thread, `poll` runs on the
        // test's runtime; a timeout is an `Err`, so the server is still stopped and its log shown.
        let timeline = poll(Duration::from_secs(3), async || {
            let o = srv
                .cmd("curl")
                .args(["-sS", "--fail"])
                .arg(format!(
                    "http://{SERVER}:8080/apis/rackboot/v1/nodes/x3000c0s9b0n0/timeline"
                ))
                .output()
                .unwrap();
            let tl = String::from_utf8_lossy(&o.stdout).into_owned();
            let both = tl.contains(r#""what":"dhcp""#) && tl.contains(r#""what":"tftp""#);
            if both { Ok(()) } else { Err(tl) }
        });
        if let Err(tl) = runtime.block_on(timeline) {
            return Err(format!("timeline: {tl}"));
        }
        // iPXE's DHCP: the script URL, fetched with curl from the node.
        let mut a = pxe_args("0");
        a.extend(["-x".into(), "0x4d:69505845".into()]);
        let env = udhcpc(&node, &d, &strs(&a))?;
        let o = node
            .cmd("curl")
            .args(["-sS", "--fail", &env["boot_file"]])
            .output()
            .unwrap();
        let script = String::from_utf8_lossy(&o.stdout);
        if !script.starts_with("#!ipxe") {
            return Err(format!(
                "script: {script} {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Ok(())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    result.unwrap_or_else(|e| panic!("{e}\nserver log:\n{log}"));
    assert!(log.contains("DHCP serving"), "{log}");
}

#[tokio::test]
async fn serve_refuses_an_interface_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rackboot"))
        .args(["serve", "--dhcp", "proxy", "--dhcp-interface", "nosuch0"])
        .args(["--listen", "127.0.0.1:0", "--tftp-listen", "off"])
        .args(["--advertise-url", "http://10.0.0.1:8080"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("dhcp_interface nosuch0 has no IPv4 address (or does not exist)"),
        "{err}"
    );
}
