//! `full` mode: addresses from the [`Plan`] (reservations from inventory, a dynamic pool,
//! offers held in memory so concurrent DISCOVERs never share an address), with the boot
//! answer added for PXE clients; port 4011 is answered too, for firmware that asks it.
//!
//! An OFFER is only held in the lease table; an ACK is an [`Effect::Save`], persisted
//! before it is sent, so an address the server acknowledged survives a restart. A client
//! that takes another server's offer has ours released at once.

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};

use super::pxe::{IPXE_NO_PXEDHCP, add_boot, boot_only, is_ipxe, is_pxe_family, no_boot_detail};
use super::{
    Arrived, BootTarget, Effect, Event, Identity, Outcome, destination, event, ignored, reply,
};
use crate::dhcp::boot::boot_answer;
use crate::dhcp::leases::{Decision, Lease, Leases, Plan};
use crate::dhcp::packet::{Message, kind, opt};
use crate::model::Mac;

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
