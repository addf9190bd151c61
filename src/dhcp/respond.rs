//! What the DHCP server says to one message, as a function of the message, the mode and the
//! lease table: the reply (if any), where it goes, what must be persisted before it is sent,
//! and the event to count and put on the node's timeline. No sockets, no clock, no store.
//!
//! - `proxy` (PXE spec §2.2.1, ProxyDHCP): a site server hands out addresses; we answer PXE
//!   clients' DISCOVERs on port 67 with an offer that carries no address, only where to
//!   boot, and their REQUESTs on port 4011 with the same. BIOS PXE and iPXE are told to skip
//!   boot-server discovery (option 43, discovery control 8). UEFI PXE gets no option 43: as
//!   pixiecore found, some UEFI firmware ignores an offer that bypasses discovery, while all
//!   of it then asks port 4011 of the offering server (EDK2's "BINL" offer), which answers.
//! - `full`: addresses from the [`Plan`] (reservations, pool, held offers), with the boot
//!   answer added for PXE clients; port 4011 is answered too, for firmware that asks it.
//!
//! Replies go where RFC 2131 §4.1 says: to a relay (giaddr) on port 67, to a client that
//! already has an address (ciaddr) by unicast, else broadcast (the client cannot receive
//! unicast before it has an address, and answering by ARP-less unicast needs raw sockets);
//! port-4011 requests are answered to their source.

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};

use super::boot::{BootAnswer, BootFiles, NoBoot, boot_answer};
use super::leases::{Decision, Lease, Leases, Plan};
use super::packet::{Message, kind, opt};
use crate::model::Mac;

/// Which socket a message came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    /// Port 67.
    Dhcp,
    /// Port 4011 (PXE boot server / ProxyDHCP requests).
    Pxe,
}

/// This server on the boot network.
#[derive(Debug, Clone)]
pub struct Identity {
    pub server_ip: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub router: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
}

/// What netbooting clients are pointed at.
#[derive(Debug, Clone)]
pub struct BootTarget {
    pub files: BootFiles,
    /// The advertise URL, without a trailing slash.
    pub base_url: String,
}

/// Where a reply goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    /// 255.255.255.255:68 on the interface.
    Broadcast,
    /// A client that has an address, on port 68.
    Client(Ipv4Addr),
    /// A relay agent, on port 67.
    Relay(Ipv4Addr),
    /// Back to the request's source address and port (port-4011 requests).
    Source,
}

/// What must be persisted before the reply is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    Save(Lease),
    Remove(Mac),
}

/// What happened, for metrics, logs and the node's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `offer`, `ack`, `nak`, `proxy-offer`, `pxe-ack`, `release`, `decline`, `ignored`.
    pub kind: &'static str,
    pub mac: Mac,
    /// The client's address, when it has or gets one.
    pub ip: Option<Ipv4Addr>,
    /// The boot file or URL it was given.
    pub boot: Option<String>,
    /// Why nothing was said, or what was off (e.g. no binary for the architecture).
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub reply: Option<(Message, To)>,
    pub effect: Effect,
    pub event: Event,
}

fn outcome(event: Event) -> Outcome {
    Outcome {
        reply: None,
        effect: Effect::None,
        event,
    }
}

fn event(kind: &'static str, mac: Mac) -> Event {
    Event {
        kind,
        mac,
        ip: None,
        boot: None,
        detail: String::new(),
    }
}

fn ignored(mac: Mac, why: impl Into<String>) -> Outcome {
    outcome(Event {
        detail: why.into(),
        ..event("ignored", mac)
    })
}

/// The reply skeleton: type, server identifier, and option 97 echoed (PXE clients match
/// replies by it).
fn reply(req: &Message, msg_type: u8, id: &Identity) -> Message {
    let mut m = req.reply();
    m.options.push((opt::MESSAGE_TYPE, vec![msg_type]));
    m.options
        .push((opt::SERVER_ID, id.server_ip.octets().to_vec()));
    if let Some(uuid) = req.option(opt::CLIENT_UUID) {
        m.options.push((opt::CLIENT_UUID, uuid.to_vec()));
    }
    m
}

fn is_pxe_family(req: &Message) -> bool {
    req.vendor_class()
        .is_some_and(|v| v.starts_with("PXEClient") || v.starts_with("HTTPClient"))
        || req.option(opt::IPXE).is_some()
}

/// iPXE's encapsulated option (inside 175) telling it not to wait for ProxyDHCP offers.
const IPXE_NO_PXEDHCP: u8 = 176;

fn is_ipxe(req: &Message) -> bool {
    req.option(opt::IPXE).is_some() || req.user_class().is_some_and(|u| u.contains("iPXE"))
}

/// Put the boot answer into `m`; returns what the client was given.
fn add_boot(m: &mut Message, req: &Message, answer: &BootAnswer, id: &Identity) -> String {
    m.siaddr = id.server_ip;
    m.sname = id.server_ip.to_string().into_bytes();
    let vendor = req.vendor_class().unwrap_or_default();
    let class: &[u8] = if vendor.starts_with("HTTPClient") {
        b"HTTPClient"
    } else {
        b"PXEClient"
    };
    m.options.push((opt::VENDOR_CLASS, class.to_vec()));
    let name = match answer {
        BootAnswer::Tftp(f) => {
            m.options
                .push((opt::TFTP_SERVER, id.server_ip.to_string().into_bytes()));
            f.clone()
        }
        BootAnswer::Url(u) => u.clone(),
    };
    if name.len() <= 127 {
        m.file = name.clone().into_bytes();
    }
    m.options.push((opt::BOOTFILE, name.clone().into_bytes()));
    name
}

/// PXE option 43 telling BIOS PXE and iPXE to boot the offered file without boot-server
/// discovery; and, on port 4011, echoing the boot item a discovering client asked for.
fn pxe_vendor_options(req: &Message, arrived: Arrived) -> Option<Vec<u8>> {
    if arrived == Arrived::Pxe {
        let item = req.option(opt::VENDOR_SPECIFIC).and_then(boot_item)?;
        let mut v = vec![71, item.len() as u8];
        v.extend_from_slice(&item);
        v.push(255);
        return Some(v);
    }
    let efi_pxe = matches!(req.client_arch(), Some(6 | 7 | 9 | 10 | 11));
    (!efi_pxe || is_ipxe(req)).then(|| vec![6, 1, 8, 255])
}

/// Sub-option 71 (PXE_BOOT_ITEM) of a request's option 43.
fn boot_item(v: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while i + 1 < v.len() {
        let (code, len) = (v[i], v[i + 1] as usize);
        if code == 255 {
            break;
        }
        let body = v.get(i + 2..i + 2 + len)?;
        if code == 71 {
            return Some(body.to_vec());
        }
        i += 2 + len;
    }
    None
}

fn destination(req: &Message, arrived: Arrived, nak: bool) -> To {
    if arrived == Arrived::Pxe {
        To::Source
    } else if !req.giaddr.is_unspecified() {
        To::Relay(req.giaddr)
    } else if !nak && !req.ciaddr.is_unspecified() {
        To::Client(req.ciaddr)
    } else {
        To::Broadcast
    }
}

fn no_boot_detail(e: &NoBoot) -> String {
    match e {
        NoBoot::NotNetboot => "not a netboot client".into(),
        NoBoot::NoBinaryFor(a) => format!("no iPXE binary is configured for architecture {a:?}"),
    }
}

/// A reply carrying only where to boot, no address: ProxyDHCP's OFFER on 67, and the ACK
/// both modes give on 4011 (and proxy mode on 67 to a client that selected its offer).
fn boot_only(
    req: &Message,
    msg_type: u8,
    mac: Mac,
    arrived: Arrived,
    id: &Identity,
    boot: &BootTarget,
) -> Outcome {
    let answer = match boot_answer(req, &boot.files, &boot.base_url) {
        Ok(a) => a,
        Err(e) => return ignored(mac, no_boot_detail(&e)),
    };
    let mut m = reply(req, msg_type, id);
    let given = add_boot(&mut m, req, &answer, id);
    if let Some(v43) = pxe_vendor_options(req, arrived) {
        m.options.push((opt::VENDOR_SPECIFIC, v43));
    }
    let kind = if msg_type == kind::OFFER {
        "proxy-offer"
    } else {
        "pxe-ack"
    };
    Outcome {
        reply: Some((m, destination(req, arrived, false))),
        effect: Effect::None,
        event: Event {
            ip: (!req.ciaddr.is_unspecified()).then_some(req.ciaddr),
            boot: Some(given),
            ..event(kind, mac)
        },
    }
}

/// ProxyDHCP: boot information for PXE clients only, never an address.
pub fn proxy(req: &Message, arrived: Arrived, id: &Identity, boot: &BootTarget) -> Outcome {
    let Some(mac) = req.mac().map(Mac::from_bytes) else {
        return ignored(Mac::from_bytes([0; 6]), "not an Ethernet client");
    };
    if !is_pxe_family(req) {
        return ignored(
            mac,
            "not a PXE client (proxy mode answers PXE clients only)",
        );
    }
    match (arrived, req.message_type()) {
        (Arrived::Pxe, Some(kind::REQUEST | kind::INFORM)) => {
            boot_only(req, kind::ACK, mac, arrived, id, boot)
        }
        (Arrived::Dhcp, Some(kind::DISCOVER)) => {
            boot_only(req, kind::OFFER, mac, arrived, id, boot)
        }
        (Arrived::Dhcp, Some(kind::REQUEST)) if req.server_id() == Some(id.server_ip) => {
            boot_only(req, kind::ACK, mac, arrived, id, boot)
        }
        (_, t) => ignored(mac, format!("message type {t:?} is not for a proxy")),
    }
}

/// The address options of an OFFER or ACK.
fn add_address(m: &mut Message, lease: &Lease, id: &Identity, now: DateTime<Utc>) {
    m.yiaddr = lease.ip;
    let secs = (lease.expires - now)
        .num_seconds()
        .clamp(1, u32::MAX as i64) as u32;
    m.options
        .push((opt::LEASE_TIME, secs.to_be_bytes().to_vec()));
    m.options
        .push((opt::SUBNET_MASK, id.netmask.octets().to_vec()));
    if let Some(r) = id.router {
        m.options.push((opt::ROUTER, r.octets().to_vec()));
    }
    if !id.dns.is_empty() {
        m.options.push((
            opt::DNS,
            id.dns.iter().flat_map(|a| a.octets()).collect::<Vec<u8>>(),
        ));
    }
}

/// Full DHCP: the address from the plan, plus the boot answer for PXE clients.
pub fn full(
    req: &Message,
    arrived: Arrived,
    id: &Identity,
    boot: &BootTarget,
    plan: &Plan,
    leases: &mut Leases,
    now: DateTime<Utc>,
) -> Outcome {
    let Some(mac) = req.mac().map(Mac::from_bytes) else {
        return ignored(Mac::from_bytes([0; 6]), "not an Ethernet client");
    };
    if arrived == Arrived::Pxe {
        return match req.message_type() {
            Some(kind::REQUEST | kind::INFORM) if is_pxe_family(req) => {
                boot_only(req, kind::ACK, mac, arrived, id, boot)
            }
            t => ignored(mac, format!("message type {t:?} on port 4011")),
        };
    }
    let with_boot = |m: &mut Message, ev: &mut Event| {
        if is_ipxe(req) {
            // iPXE waits ~2 s after an address offer for a ProxyDHCP offer that will never
            // come here; its encapsulated option 176 (no-pxedhcp) tells it not to.
            m.options.push((opt::IPXE, vec![IPXE_NO_PXEDHCP, 1, 1]));
        }
        if !is_pxe_family(req) {
            return;
        }
        match boot_answer(req, &boot.files, &boot.base_url) {
            Ok(a) => ev.boot = Some(add_boot(m, req, &a, id)),
            Err(e) => ev.detail = no_boot_detail(&e),
        }
    };
    // An OFFER (held in memory) or an ACK (persisted before it is sent) of lease `l`.
    let addressed = |leases: &mut Leases, msg_type: u8, l: Lease| {
        let mut m = reply(req, msg_type, id);
        add_address(&mut m, &l, id, now);
        let ack = msg_type == kind::ACK;
        let mut ev = Event {
            ip: Some(l.ip),
            ..event(if ack { "ack" } else { "offer" }, mac)
        };
        with_boot(&mut m, &mut ev);
        leases.insert(l.clone());
        Outcome {
            reply: Some((m, destination(req, arrived, false))),
            effect: if ack { Effect::Save(l) } else { Effect::None },
            event: ev,
        }
    };
    match req.message_type() {
        Some(kind::DISCOVER) => match plan.discover(mac, leases, now) {
            Decision::Offer(l) => addressed(leases, kind::OFFER, l),
            Decision::Ignore(why) | Decision::Nak(why) => ignored(mac, why),
            Decision::Ack(_) => unreachable!("discover never acknowledges"),
        },
        Some(kind::REQUEST) => {
            if let Some(sid) = req.server_id()
                && sid != id.server_ip
            {
                // The client took another server's offer: let ours go.
                if leases.get(mac).is_some_and(|l| l.offered) {
                    leases.remove(mac);
                }
                return ignored(mac, format!("the client chose server {sid}"));
            }
            let requested = req
                .requested_ip()
                .or((!req.ciaddr.is_unspecified()).then_some(req.ciaddr));
            match plan.request(mac, requested, leases, now) {
                Decision::Ack(l) => addressed(leases, kind::ACK, l),
                Decision::Nak(why) => {
                    let mut m = reply(req, kind::NAK, id);
                    m.ciaddr = Ipv4Addr::UNSPECIFIED;
                    m.options.push((opt::MESSAGE, why.clone().into_bytes()));
                    Outcome {
                        reply: Some((m, destination(req, arrived, true))),
                        effect: Effect::None,
                        event: Event {
                            ip: requested,
                            detail: why,
                            ..event("nak", mac)
                        },
                    }
                }
                Decision::Ignore(why) => ignored(mac, why),
                Decision::Offer(_) => unreachable!("request never offers"),
            }
        }
        Some(kind::RELEASE) => {
            if leases.get(mac).is_some_and(|l| l.ip == req.ciaddr) {
                leases.remove(mac);
                Outcome {
                    reply: None,
                    effect: Effect::Remove(mac),
                    event: Event {
                        ip: Some(req.ciaddr),
                        ..event("release", mac)
                    },
                }
            } else {
                ignored(mac, "release of an address the client does not hold")
            }
        }
        Some(kind::DECLINE) => match req.requested_ip() {
            Some(ip) => {
                leases.decline(mac, ip, now + chrono::Duration::minutes(10));
                Outcome {
                    reply: None,
                    effect: Effect::Remove(mac),
                    event: Event {
                        ip: Some(ip),
                        detail: "the client found the address in use".into(),
                        ..event("decline", mac)
                    },
                }
            }
            None => ignored(mac, "decline without an address"),
        },
        Some(kind::INFORM) => {
            let mut m = reply(req, kind::ACK, id);
            m.options
                .push((opt::SUBNET_MASK, id.netmask.octets().to_vec()));
            if let Some(r) = id.router {
                m.options.push((opt::ROUTER, r.octets().to_vec()));
            }
            let mut ev = Event {
                ip: Some(req.ciaddr),
                ..event("ack", mac)
            };
            with_boot(&mut m, &mut ev);
            Outcome {
                reply: Some((m, destination(req, arrived, false))),
                effect: Effect::None,
                event: ev,
            }
        }
        t => ignored(mac, format!("message type {t:?} is not for a server")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::leases::Pool;
    use super::super::packet::{client_request, parse};
    use super::*;
    use chrono::Duration;

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
}
