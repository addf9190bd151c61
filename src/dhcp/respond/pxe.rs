//! The boot answer for PXE-family clients, and all of `proxy` mode: a reply that carries
//! where to boot and no address (why UEFI PXE gets no option 43 is in the parent module).
//!
//! Which file or URL a client gets is [`boot_answer`]'s decision (by architecture and
//! class, never a loop); this module only puts it on the wire: `siaddr`/`sname`, the boot
//! file (in `file` too when it fits), the vendor class echoed, option 43 for discovery
//! control, and on port 4011 the boot item the client asked for.

use super::{
    Arrived, BootTarget, Effect, Event, Identity, Outcome, destination, event, ignored, reply,
};
use crate::dhcp::boot::{BootAnswer, NoBoot, boot_answer};
use crate::dhcp::packet::{Message, kind, opt};
use crate::model::Mac;

pub(super) fn is_pxe_family(req: &Message) -> bool {
    req.vendor_class()
        .is_some_and(|v| v.starts_with("PXEClient") || v.starts_with("HTTPClient"))
        || req.option(opt::IPXE).is_some()
}

/// iPXE's encapsulated option (inside 175) telling it not to wait for ProxyDHCP offers.
pub(super) const IPXE_NO_PXEDHCP: u8 = 176;

pub(super) fn is_ipxe(req: &Message) -> bool {
    req.option(opt::IPXE).is_some() || req.user_class().is_some_and(|u| u.contains("iPXE"))
}

/// Put the boot answer into `m`; returns what the client was given.
pub(super) fn add_boot(
    m: &mut Message,
    req: &Message,
    answer: &BootAnswer,
    id: &Identity,
) -> String {
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

pub(super) fn no_boot_detail(e: &NoBoot) -> String {
    match e {
        NoBoot::NotNetboot => "not a netboot client".into(),
        NoBoot::NoBinaryFor(a) => format!("no iPXE binary is configured for architecture {a:?}"),
    }
}

/// A reply carrying only where to boot, no address: ProxyDHCP's OFFER on 67, and the ACK
/// both modes give on 4011 (and proxy mode on 67 to a client that selected its offer).
pub(super) fn boot_only(
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
