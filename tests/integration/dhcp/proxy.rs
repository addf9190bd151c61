//! Proxy DHCP mode beside a site dnsmasq, with PXE requests sent as firmware sends them.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration;

use rackboot::config::{DhcpKind, Settings};
use rackboot::dhcp::packet::{self, Message, kind, opt};
use rackboot::dhcp::server::Sockets;

use crate::common::Server;
use crate::netns::{Host, Lan};

use super::{NODE_MAC, SERVER, blocking, udhcpc};

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
