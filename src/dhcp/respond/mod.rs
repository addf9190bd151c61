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
//! - `full`: addresses from the [`Plan`](super::leases::Plan) (reservations, pool, held offers), with the boot
//!   answer added for PXE clients; port 4011 is answered too, for firmware that asks it.
//!
//! Replies go where RFC 2131 §4.1 says: to a relay (giaddr) on port 67, to a client that
//! already has an address (ciaddr) by unicast, else broadcast (the client cannot receive
//! unicast before it has an address, and answering by ARP-less unicast needs raw sockets);
//! port-4011 requests are answered to their source.
//!
//! `pxe` is the boot answer (what PXE firmware and iPXE are told, and all of `proxy` mode);
//! `full` is address assignment. This file holds what both build replies from.

mod full;
mod pxe;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use super::boot::BootFiles;
use super::leases::Lease;
use super::packet::{Message, opt};
use crate::model::Mac;

pub use full::full;
pub use pxe::proxy;

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

pub(super) fn outcome(event: Event) -> Outcome {
    Outcome {
        reply: None,
        effect: Effect::None,
        event,
    }
}

pub(super) fn event(kind: &'static str, mac: Mac) -> Event {
    Event {
        kind,
        mac,
        ip: None,
        boot: None,
        detail: String::new(),
    }
}

pub(super) fn ignored(mac: Mac, why: impl Into<String>) -> Outcome {
    outcome(Event {
        detail: why.into(),
        ..event("ignored", mac)
    })
}

/// The reply skeleton: type, server identifier, and option 97 echoed (PXE clients match
/// replies by it).
pub(super) fn reply(req: &Message, msg_type: u8, id: &Identity) -> Message {
    let mut m = req.reply();
    m.options.push((opt::MESSAGE_TYPE, vec![msg_type]));
    m.options
        .push((opt::SERVER_ID, id.server_ip.octets().to_vec()));
    if let Some(uuid) = req.option(opt::CLIENT_UUID) {
        m.options.push((opt::CLIENT_UUID, uuid.to_vec()));
    }
    m
}

pub(super) fn destination(req: &Message, arrived: Arrived, nak: bool) -> To {
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
