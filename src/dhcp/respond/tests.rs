//! `proxy` and `full` answers to real-shaped client messages, checked as they go on the
//! wire (encoded and parsed back).

use chrono::{Duration, Utc};

use super::*;
use crate::dhcp::leases::{Leases, Plan, Pool};
use crate::dhcp::packet::{client_request, kind, parse};

const MAC: [u8; 6] = [0x52, 0x54, 0, 0x77, 0, 1];

fn id() -> Identity {
    Identity {
        server_ip: Ipv4Addr::new(192, 168, 77, 1),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        router: Some(Ipv4Addr::new(192, 168, 77, 254)),
        dns: vec![],
    }
}

fn target() -> BootTarget {
    BootTarget {
        files: BootFiles::default(),
        base_url: "http://192.168.77.1:8080".into(),
    }
}

fn pxe(arch: u16, ipxe: bool) -> Message {
    let vendor = format!("PXEClient:Arch:{arch:05}:UNDI:002001");
    client_request(MAC, Some(arch), Some(&vendor), ipxe)
}

fn with_type(mut m: Message, t: u8) -> Message {
    m.options.retain(|(c, _)| *c != opt::MESSAGE_TYPE);
    m.options.insert(0, (opt::MESSAGE_TYPE, vec![t]));
    m
}

fn plan() -> Plan {
    Plan::new(
        [(Mac::from_bytes(MAC), Ipv4Addr::new(192, 168, 77, 11))].into(),
        Some(Pool::parse("192.168.77.100-192.168.77.110").unwrap()),
        Duration::hours(1),
        Duration::seconds(30),
    )
}

#[test]
fn proxy_offers_carry_boot_information_and_no_address() {
    let o = proxy(&pxe(0, false), Arrived::Dhcp, &id(), &target());
    let (m, to) = o.reply.unwrap();
    assert_eq!(to, To::Broadcast);
    // What goes on the wire parses back with the PXE fields a ROM looks for.
    let m = parse(&m.encode()).unwrap();
    assert_eq!(m.message_type(), Some(kind::OFFER));
    assert_eq!(m.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.siaddr, Ipv4Addr::new(192, 168, 77, 1));
    assert_eq!(m.file, b"undionly.kpxe");
    assert_eq!(m.option(opt::VENDOR_CLASS), Some(&b"PXEClient"[..]));
    assert_eq!(m.option(opt::VENDOR_SPECIFIC), Some(&[6, 1, 8, 255][..]));
    assert_eq!(m.server_id(), Some(Ipv4Addr::new(192, 168, 77, 1)));
    assert_eq!(o.event.kind, "proxy-offer");

    // UEFI PXE: no option 43, so the firmware asks port 4011, which answers.
    let o = proxy(&pxe(7, false), Arrived::Dhcp, &id(), &target());
    let (m, _) = o.reply.unwrap();
    assert!(m.option(opt::VENDOR_SPECIFIC).is_none());
    assert_eq!(m.file, b"snponly.efi");
    let mut req = with_type(pxe(7, false), kind::REQUEST);
    req.ciaddr = Ipv4Addr::new(192, 168, 77, 50);
    let o = proxy(&req, Arrived::Pxe, &id(), &target());
    let (m, to) = o.reply.unwrap();
    assert_eq!(to, To::Source);
    assert_eq!(m.message_type(), Some(kind::ACK));
    assert_eq!(m.file, b"snponly.efi");
    assert_eq!(m.ciaddr, req.ciaddr);

    // iPXE gets its script, never a binary again.
    let o = proxy(&pxe(0, true), Arrived::Dhcp, &id(), &target());
    assert_eq!(
        o.event.boot.as_deref(),
        Some("http://192.168.77.1:8080/boot/v1/bootscript?mac=52:54:00:77:00:01&arch=x86_64")
    );

    // Plain DHCP clients, and REQUESTs for the site server, are not ours.
    let plain = client_request(MAC, None, None, false);
    assert!(
        proxy(&plain, Arrived::Dhcp, &id(), &target())
            .reply
            .is_none()
    );
    let mut r = with_type(pxe(0, false), kind::REQUEST);
    r.options.push((opt::SERVER_ID, vec![192, 168, 77, 2]));
    assert!(proxy(&r, Arrived::Dhcp, &id(), &target()).reply.is_none());
}

#[test]
fn relayed_requests_are_answered_through_the_relay() {
    let mut req = pxe(0, false);
    req.giaddr = Ipv4Addr::new(10, 1, 0, 1);
    let (_, to) = proxy(&req, Arrived::Dhcp, &id(), &target()).reply.unwrap();
    assert_eq!(to, To::Relay(Ipv4Addr::new(10, 1, 0, 1)));
    let mut leases = Leases::default();
    let o = full(
        &req,
        Arrived::Dhcp,
        &id(),
        &target(),
        &plan(),
        &mut leases,
        Utc::now(),
    );
    assert_eq!(o.reply.unwrap().1, To::Relay(Ipv4Addr::new(10, 1, 0, 1)));
}

#[test]
fn port_4011_echoes_the_boot_item() {
    let mut req = with_type(pxe(0, false), kind::REQUEST);
    req.options
        .push((opt::VENDOR_SPECIFIC, vec![71, 4, 0x80, 0, 0, 0, 255]));
    let (m, _) = proxy(&req, Arrived::Pxe, &id(), &target()).reply.unwrap();
    assert_eq!(
        m.option(opt::VENDOR_SPECIFIC),
        Some(&[71, 4, 0x80, 0, 0, 0, 255][..])
    );
}

#[test]
fn full_mode_offers_and_acknowledges_addresses_with_boot_files() {
    let now = Utc::now();
    let mut leases = Leases::default();
    let p = plan();
    let o = full(
        &pxe(7, false),
        Arrived::Dhcp,
        &id(),
        &target(),
        &p,
        &mut leases,
        now,
    );
    let (m, to) = o.reply.unwrap();
    assert_eq!(to, To::Broadcast);
    assert_eq!(m.yiaddr, Ipv4Addr::new(192, 168, 77, 11));
    assert_eq!(m.file, b"snponly.efi");
    assert_eq!(m.option(opt::SUBNET_MASK), Some(&[255, 255, 255, 0][..]));
    assert_eq!(m.option(opt::ROUTER), Some(&[192, 168, 77, 254][..]));
    assert_eq!(m.option(opt::LEASE_TIME), Some(&30u32.to_be_bytes()[..]));
    assert_eq!(o.effect, Effect::None, "offers are not persisted");

    let mut req = with_type(pxe(7, false), kind::REQUEST);
    req.options
        .push((opt::REQUESTED_IP, vec![192, 168, 77, 11]));
    req.options.push((opt::SERVER_ID, vec![192, 168, 77, 1]));
    let o = full(&req, Arrived::Dhcp, &id(), &target(), &p, &mut leases, now);
    let (m, _) = o.reply.clone().unwrap();
    assert_eq!(m.message_type(), Some(kind::ACK));
    assert_eq!(m.option(opt::LEASE_TIME), Some(&3600u32.to_be_bytes()[..]));
    assert!(matches!(o.effect, Effect::Save(ref l) if l.ip == Ipv4Addr::new(192, 168, 77, 11)));

    // iPXE is told not to wait for ProxyDHCP offers (there are none in full mode);
    // firmware without iPXE is not.
    assert!(m.option(opt::IPXE).is_none());
    let mut leases2 = Leases::default();
    let o = full(
        &pxe(0, true),
        Arrived::Dhcp,
        &id(),
        &target(),
        &p,
        &mut leases2,
        now,
    );
    let (m, _) = o.reply.unwrap();
    assert_eq!(m.option(opt::IPXE), Some(&[176, 1, 1][..]));

    // Renewal by unicast; release.
    let mut renew = with_type(client_request(MAC, None, None, false), kind::REQUEST);
    renew.ciaddr = Ipv4Addr::new(192, 168, 77, 11);
    let o = full(
        &renew,
        Arrived::Dhcp,
        &id(),
        &target(),
        &p,
        &mut leases,
        now,
    );
    assert_eq!(o.reply.unwrap().1, To::Client(renew.ciaddr));
    let mut rel = with_type(client_request(MAC, None, None, false), kind::RELEASE);
    rel.ciaddr = Ipv4Addr::new(192, 168, 77, 11);
    let o = full(&rel, Arrived::Dhcp, &id(), &target(), &p, &mut leases, now);
    assert_eq!(o.effect, Effect::Remove(Mac::from_bytes(MAC)));
    assert!(leases.get(Mac::from_bytes(MAC)).is_none());
}

#[test]
fn full_mode_naks_wrong_addresses_and_lets_go_of_offers_taken_elsewhere() {
    let now = Utc::now();
    let mut leases = Leases::default();
    let p = plan();
    let other = client_request([2, 0, 0, 0, 0, 9], None, None, false);
    let o = full(
        &other,
        Arrived::Dhcp,
        &id(),
        &target(),
        &p,
        &mut leases,
        now,
    );
    assert_eq!(o.event.ip, Some(Ipv4Addr::new(192, 168, 77, 100)));
    assert!(o.event.boot.is_none(), "a plain client gets no boot file");
    // It took another server's offer: the held address is free again.
    let mut r = with_type(other.clone(), kind::REQUEST);
    r.options.push((opt::SERVER_ID, vec![10, 0, 0, 1]));
    full(&r, Arrived::Dhcp, &id(), &target(), &p, &mut leases, now);
    assert!(leases.get(Mac::from_bytes([2, 0, 0, 0, 0, 9])).is_none());
    // INIT-REBOOT asking for someone else's reserved address: NAK, broadcast.
    let mut r = with_type(other, kind::REQUEST);
    r.options.push((opt::REQUESTED_IP, vec![192, 168, 77, 11]));
    let o = full(&r, Arrived::Dhcp, &id(), &target(), &p, &mut leases, now);
    let (m, to) = o.reply.unwrap();
    assert_eq!(m.message_type(), Some(kind::NAK));
    assert_eq!(to, To::Broadcast);
    assert_eq!(o.event.kind, "nak");
}
