//! DHCPv4 messages on the wire (RFC 2131 header, RFC 2132 options), as pure functions. The
//! parser takes bytes from anyone on the boot network, so anything malformed is a
//! [`ParseError`], never a panic; unknown options are kept as bytes and ignored by callers.
//!
//! Our own codec rather than dhcproto: a DHCPv4 header and the dozen options a PXE responder
//! reads and writes (including the PXE vendor sub-options of option 43, which dhcproto
//! leaves as raw bytes anyway) fit in this file, property-tested; dhcproto would bring
//! DHCPv6 and hickory-proto's DNS types for none of them.

use std::net::Ipv4Addr;

pub const BOOTREQUEST: u8 = 1;
pub const BOOTREPLY: u8 = 2;
const MAGIC: [u8; 4] = [99, 130, 83, 99];
const HEADER: usize = 236;

/// Option codes used here.
pub mod opt {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const MESSAGE: u8 = 56;
    pub const PARAMETER_LIST: u8 = 55;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const TFTP_SERVER: u8 = 66;
    pub const BOOTFILE: u8 = 67;
    pub const USER_CLASS: u8 = 77;
    pub const CLIENT_ARCH: u8 = 93;
    pub const CLIENT_NDI: u8 = 94;
    pub const CLIENT_UUID: u8 = 97;
    pub const VENDOR_SPECIFIC: u8 = 43;
    /// iPXE's encapsulated options: present only in requests from iPXE.
    pub const IPXE: u8 = 175;
    pub const END: u8 = 255;
}

/// DHCP message types (option 53).
pub mod kind {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const DECLINE: u8 = 4;
    pub const ACK: u8 = 5;
    pub const NAK: u8 = 6;
    pub const RELEASE: u8 = 7;
    pub const INFORM: u8 = 8;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message of {0} bytes is shorter than a DHCP header")]
    Short(usize),
    #[error("no DHCP magic cookie")]
    NoMagic,
    #[error("option {0} runs past the end of the message")]
    Truncated(u8),
    #[error("op {0} is neither a request nor a reply")]
    Op(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    pub sname: Vec<u8>,
    pub file: Vec<u8>,
    /// In the order received; pads and the end marker are not kept.
    pub options: Vec<(u8, Vec<u8>)>,
}

fn ip(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn cstr(b: &[u8]) -> Vec<u8> {
    b.iter().take_while(|c| **c != 0).copied().collect()
}

pub fn parse(buf: &[u8]) -> Result<Message, ParseError> {
    if buf.len() < HEADER + 4 {
        return Err(ParseError::Short(buf.len()));
    }
    if buf[HEADER..HEADER + 4] != MAGIC {
        return Err(ParseError::NoMagic);
    }
    let op = buf[0];
    if op != BOOTREQUEST && op != BOOTREPLY {
        return Err(ParseError::Op(op));
    }
    let mut options = Vec::new();
    let mut i = HEADER + 4;
    while i < buf.len() {
        let code = buf[i];
        match code {
            opt::PAD => i += 1,
            opt::END => break,
            _ => {
                let len = *buf.get(i + 1).ok_or(ParseError::Truncated(code))? as usize;
                let body = buf
                    .get(i + 2..i + 2 + len)
                    .ok_or(ParseError::Truncated(code))?;
                options.push((code, body.to_vec()));
                i += 2 + len;
            }
        }
    }
    let mut chaddr = [0u8; 16];
    chaddr.copy_from_slice(&buf[28..44]);
    Ok(Message {
        op,
        htype: buf[1],
        hlen: buf[2],
        hops: buf[3],
        xid: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        secs: u16::from_be_bytes([buf[8], buf[9]]),
        flags: u16::from_be_bytes([buf[10], buf[11]]),
        ciaddr: ip(&buf[12..16]),
        yiaddr: ip(&buf[16..20]),
        siaddr: ip(&buf[20..24]),
        giaddr: ip(&buf[24..28]),
        chaddr,
        sname: cstr(&buf[44..108]),
        file: cstr(&buf[108..236]),
        options,
    })
}

impl Message {
    /// The first value of option `code`.
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    pub fn message_type(&self) -> Option<u8> {
        self.option(opt::MESSAGE_TYPE)
            .and_then(|v| v.first().copied())
    }

    /// The hardware address, for Ethernet (htype 1, hlen 6).
    pub fn mac(&self) -> Option<[u8; 6]> {
        (self.htype == 1 && self.hlen == 6).then(|| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&self.chaddr[..6]);
            m
        })
    }

    /// Option 93's first architecture type (RFC 4578).
    pub fn client_arch(&self) -> Option<u16> {
        self.option(opt::CLIENT_ARCH)
            .filter(|v| v.len() >= 2)
            .map(|v| u16::from_be_bytes([v[0], v[1]]))
    }

    pub fn vendor_class(&self) -> Option<String> {
        self.option(opt::VENDOR_CLASS)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// Option 77 as text (RFC 3004 packs length-prefixed strings; iPXE sends the bare
    /// string `iPXE`, so both are searched).
    pub fn user_class(&self) -> Option<String> {
        self.option(opt::USER_CLASS)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.option(opt::REQUESTED_IP)
            .filter(|v| v.len() == 4)
            .map(ip)
    }

    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.option(opt::SERVER_ID).filter(|v| v.len() == 4).map(ip)
    }

    /// A reply to this request: header fields copied as RFC 2131 §4.3.1 asks, no options.
    pub fn reply(&self) -> Message {
        Message {
            op: BOOTREPLY,
            htype: self.htype,
            hlen: self.hlen,
            hops: 0,
            xid: self.xid,
            secs: 0,
            flags: self.flags,
            ciaddr: self.ciaddr,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: self.giaddr,
            chaddr: self.chaddr,
            sname: Vec::new(),
            file: Vec::new(),
            options: Vec::new(),
        }
    }

    /// Wire bytes, padded to the 300-byte BOOTP minimum. Options longer than 255 bytes are
    /// split into several instances (RFC 3396); sname and file are cut to their fields.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; HEADER];
        b[0] = self.op;
        b[1] = self.htype;
        b[2] = self.hlen;
        b[3] = self.hops;
        b[4..8].copy_from_slice(&self.xid.to_be_bytes());
        b[8..10].copy_from_slice(&self.secs.to_be_bytes());
        b[10..12].copy_from_slice(&self.flags.to_be_bytes());
        b[12..16].copy_from_slice(&self.ciaddr.octets());
        b[16..20].copy_from_slice(&self.yiaddr.octets());
        b[20..24].copy_from_slice(&self.siaddr.octets());
        b[24..28].copy_from_slice(&self.giaddr.octets());
        b[28..44].copy_from_slice(&self.chaddr);
        let sname = &self.sname[..self.sname.len().min(63)];
        b[44..44 + sname.len()].copy_from_slice(sname);
        let file = &self.file[..self.file.len().min(127)];
        b[108..108 + file.len()].copy_from_slice(file);
        b.extend_from_slice(&MAGIC);
        for (code, value) in &self.options {
            if value.is_empty() {
                b.extend_from_slice(&[*code, 0]);
            }
            for chunk in value.chunks(255) {
                b.push(*code);
                b.push(chunk.len() as u8);
                b.extend_from_slice(chunk);
            }
        }
        b.push(opt::END);
        if b.len() < 300 {
            b.resize(300, 0);
        }
        b
    }
}

/// A client's DISCOVER as firmware sends it (tests and load tools): option 93 `arch`, option
/// 60 `vendor`, and iPXE's user class and option 175 when `ipxe`.
pub fn client_request(
    mac: [u8; 6],
    arch: Option<u16>,
    vendor: Option<&str>,
    ipxe: bool,
) -> Message {
    let mut chaddr = [0u8; 16];
    chaddr[..6].copy_from_slice(&mac);
    let mut options = vec![(opt::MESSAGE_TYPE, vec![kind::DISCOVER])];
    if let Some(a) = arch {
        options.push((opt::CLIENT_ARCH, a.to_be_bytes().to_vec()));
    }
    if let Some(v) = vendor {
        options.push((opt::VENDOR_CLASS, v.as_bytes().to_vec()));
    }
    if ipxe {
        options.push((opt::USER_CLASS, b"iPXE".to_vec()));
        options.push((opt::IPXE, vec![1, 1, 1]));
    }
    Message {
        op: BOOTREQUEST,
        htype: 1,
        hlen: 6,
        hops: 0,
        xid: 0x1234_5678,
        secs: 3,
        flags: 0x8000,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        yiaddr: Ipv4Addr::UNSPECIFIED,
        siaddr: Ipv4Addr::UNSPECIFIED,
        giaddr: Ipv4Addr::UNSPECIFIED,
        chaddr,
        sname: Vec::new(),
        file: Vec::new(),
        options,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DISCOVER as iPXE sends it.
    pub fn discover(mac: [u8; 6], arch: u16, ipxe: bool) -> Vec<u8> {
        let pxe = format!("PXEClient:Arch:{arch:05}:UNDI:002001");
        client_request(mac, Some(arch), Some(&pxe), ipxe).encode()
    }

    #[test]
    fn messages_round_trip() {
        let raw = discover([0x52, 0x54, 0, 0x77, 0, 1], 7, true);
        assert_eq!(raw.len(), 300);
        let m = parse(&raw).unwrap();
        assert_eq!(m.message_type(), Some(kind::DISCOVER));
        assert_eq!(m.mac(), Some([0x52, 0x54, 0, 0x77, 0, 1]));
        assert_eq!(m.client_arch(), Some(7));
        assert!(
            m.vendor_class()
                .unwrap()
                .starts_with("PXEClient:Arch:00007")
        );
        assert_eq!(m.user_class().as_deref(), Some("iPXE"));
        assert!(m.option(opt::IPXE).is_some());
        assert_eq!(m.xid, 0x1234_5678);
        let mut r = m.reply();
        r.file = b"undionly.kpxe".to_vec();
        r.options.push((opt::BOOTFILE, vec![b'x'; 300]));
        let back = parse(&r.encode()).unwrap();
        assert_eq!(back.file, b"undionly.kpxe");
        assert_eq!(back.op, BOOTREPLY);
        // A long option travels split in two (RFC 3396).
        assert_eq!(
            back.options
                .iter()
                .filter(|(c, _)| *c == opt::BOOTFILE)
                .count(),
            2
        );
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert_eq!(parse(&[0u8; 100]), Err(ParseError::Short(100)));
        assert_eq!(parse(&[1u8; 300]), Err(ParseError::NoMagic));
        let mut raw = discover([2, 0, 0, 0, 0, 1], 0, false);
        raw[0] = 9;
        assert_eq!(parse(&raw), Err(ParseError::Op(9)));
        let mut raw = discover([2, 0, 0, 0, 0, 1], 0, false);
        raw.truncate(HEADER + 4 + 2);
        raw[HEADER + 4 + 1] = 200;
        assert_eq!(parse(&raw), Err(ParseError::Truncated(opt::MESSAGE_TYPE)));
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(20_000))]

            #[test]
            fn random_and_damaged_messages_never_panic(
                bytes in proptest::collection::vec(any::<u8>(), 0..700),
                flips in proptest::collection::vec((0usize..400, any::<u8>()), 0..8),
                cut in 0usize..400,
            ) {
                let _ = parse(&bytes);
                let mut m = super::discover([2, 0, 0, 0, 0, 1], 7, true);
                for (at, b) in flips {
                    let i = at % m.len();
                    m[i] = b;
                }
                m.truncate(cut.max(HEADER));
                if let Ok(msg) = parse(&m) {
                    let _ = (msg.client_arch(), msg.mac(), msg.user_class(), msg.reply().encode());
                }
            }
        }
    }
}
