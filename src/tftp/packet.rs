//! TFTP on the wire (RFC 1350) and option negotiation (RFC 2347 options, 2348 blksize, 2349
//! timeout and tsize, 7440 windowsize), as pure functions: what the server sends is decided
//! here and tested without a socket. Anything malformed is a [`ParseError`], never a panic
//! (the parser takes bytes from anyone on the network).

use std::time::Duration;

pub const RRQ: u16 = 1;
pub const WRQ: u16 = 2;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;
pub const OACK: u16 = 6;

/// RFC 1350 error codes the server sends.
pub const ERR_UNDEFINED: u16 = 0;
pub const ERR_NOT_FOUND: u16 = 1;
pub const ERR_ACCESS: u16 = 2;
pub const ERR_ILLEGAL: u16 = 4;
pub const ERR_OPTION: u16 = 8;

/// RFC 2348's largest block size.
pub const MAX_BLKSIZE: u16 = 65464;
/// Blocks of the classic protocol.
pub const DEFAULT_BLKSIZE: u16 = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// RRQ or WRQ: file name, mode, and the options in the order given (keys lowercased).
    Request {
        write: bool,
        filename: String,
        mode: String,
        options: Vec<(String, String)>,
    },
    Data {
        block: u16,
        data: &'a [u8],
    },
    Ack(u16),
    Error {
        code: u16,
        message: String,
    },
    Oack(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("packet of {0} bytes is too short")]
    Short(usize),
    #[error("unknown opcode {0}")]
    Opcode(u16),
    #[error("{0} is not terminated by a zero byte")]
    Unterminated(&'static str),
    #[error("{0} is not text")]
    NotText(&'static str),
    #[error("mode '{0}' is not netascii, octet or mail")]
    Mode(String),
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*buf.get(at)?, *buf.get(at + 1)?]))
}

/// Zero-terminated strings from `buf`; a trailing fragment without its zero is an error.
fn strings<'a>(buf: &'a [u8], what: &'static str) -> Result<Vec<&'a str>, ParseError> {
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    if buf.last() != Some(&0) {
        return Err(ParseError::Unterminated(what));
    }
    buf[..buf.len() - 1]
        .split(|b| *b == 0)
        .map(|s| std::str::from_utf8(s).map_err(|_| ParseError::NotText(what)))
        .collect()
}

pub fn parse(buf: &[u8]) -> Result<Packet<'_>, ParseError> {
    let op = u16_at(buf, 0).ok_or(ParseError::Short(buf.len()))?;
    let rest = &buf[2..];
    match op {
        RRQ | WRQ => {
            let parts = strings(rest, "request")?;
            if parts.len() < 2 {
                return Err(ParseError::Unterminated("file name and mode"));
            }
            let mode = parts[1].to_ascii_lowercase();
            if !["netascii", "octet", "mail"].contains(&mode.as_str()) {
                return Err(ParseError::Mode(parts[1].to_string()));
            }
            // Options come in pairs; an unpaired trailing name is ignored (RFC 2347 lets a
            // server ignore what it does not understand).
            let options = parts[2..]
                .chunks_exact(2)
                .map(|kv| (kv[0].to_ascii_lowercase(), kv[1].to_string()))
                .collect();
            Ok(Packet::Request {
                write: op == WRQ,
                filename: parts[0].to_string(),
                mode,
                options,
            })
        }
        DATA => Ok(Packet::Data {
            block: u16_at(buf, 2).ok_or(ParseError::Short(buf.len()))?,
            data: &buf[4..],
        }),
        ACK => Ok(Packet::Ack(
            u16_at(buf, 2).ok_or(ParseError::Short(buf.len()))?,
        )),
        ERROR => {
            let code = u16_at(buf, 2).ok_or(ParseError::Short(buf.len()))?;
            // Clients often leave out the message's terminator; take what is there.
            let raw = &buf[4..];
            let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
            Ok(Packet::Error {
                code,
                message: String::from_utf8_lossy(raw).into_owned(),
            })
        }
        OACK => {
            let parts = strings(rest, "option acknowledgement")?;
            Ok(Packet::Oack(
                parts
                    .chunks_exact(2)
                    .map(|kv| (kv[0].to_ascii_lowercase(), kv[1].to_string()))
                    .collect(),
            ))
        }
        other => Err(ParseError::Opcode(other)),
    }
}

pub fn data(block: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len());
    out.extend_from_slice(&DATA.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

pub fn ack(block: u16) -> Vec<u8> {
    let mut out = ACK.to_be_bytes().to_vec();
    out.extend_from_slice(&block.to_be_bytes());
    out
}

pub fn error(code: u16, message: &str) -> Vec<u8> {
    let mut out = ERROR.to_be_bytes().to_vec();
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(message.as_bytes());
    out.push(0);
    out
}

pub fn oack(options: &[(String, String)]) -> Vec<u8> {
    let mut out = OACK.to_be_bytes().to_vec();
    for (k, v) in options {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

pub fn request(write: bool, filename: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut out = if write { WRQ } else { RRQ }.to_be_bytes().to_vec();
    for s in [filename, mode]
        .into_iter()
        .chain(options.iter().flat_map(|(k, v)| [*k, *v]))
    {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out
}

/// What the server allows a client to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_blksize: u16,
    pub max_windowsize: u16,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_blksize: 1468,
            max_windowsize: 64,
        }
    }
}

/// The parameters of one transfer, and the options to acknowledge (none: no OACK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub blksize: u16,
    /// Retransmission timeout: the client's `timeout`, else `default_timeout`.
    pub timeout: Duration,
    pub windowsize: u16,
    pub oack: Vec<(String, String)>,
}

/// RFC 2347: accept the options the server understands, within its limits, in the client's
/// order; ignore the rest and any value out of range. `size` answers `tsize`.
pub fn negotiate(
    options: &[(String, String)],
    size: u64,
    limits: Limits,
    default_timeout: Duration,
) -> Negotiated {
    let mut n = Negotiated {
        blksize: DEFAULT_BLKSIZE,
        timeout: default_timeout,
        windowsize: 1,
        oack: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for (k, v) in options {
        if !seen.insert(k.as_str()) {
            continue;
        }
        match k.as_str() {
            "blksize" => {
                if let Ok(b) = v.parse::<u32>()
                    && (8..=u32::from(MAX_BLKSIZE)).contains(&b)
                {
                    n.blksize = (b as u16).min(limits.max_blksize.max(8));
                    n.oack.push((k.clone(), n.blksize.to_string()));
                }
            }
            "timeout" => {
                if let Ok(t) = v.parse::<u64>()
                    && (1..=255).contains(&t)
                {
                    n.timeout = Duration::from_secs(t);
                    n.oack.push((k.clone(), t.to_string()));
                }
            }
            "tsize" if v.parse::<u64>().is_ok() => {
                n.oack.push((k.clone(), size.to_string()));
            }
            "windowsize" => {
                if let Ok(w) = v.parse::<u32>()
                    && (1..=65535).contains(&w)
                {
                    n.windowsize = (w as u16).min(limits.max_windowsize.max(1));
                    n.oack.push((k.clone(), n.windowsize.to_string()));
                }
            }
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_options_are_lowercased() {
        let raw = request(
            false,
            "undionly.kpxe",
            "OCTET",
            &[("BlkSize", "1468"), ("tsize", "0")],
        );
        let p = parse(&raw).unwrap();
        assert_eq!(
            p,
            Packet::Request {
                write: false,
                filename: "undionly.kpxe".into(),
                mode: "octet".into(),
                options: vec![
                    ("blksize".into(), "1468".into()),
                    ("tsize".into(), "0".into())
                ],
            }
        );
        assert_eq!(parse(&ack(7)).unwrap(), Packet::Ack(7));
        assert_eq!(
            parse(&data(3, b"abc")).unwrap(),
            Packet::Data {
                block: 3,
                data: b"abc"
            }
        );
        assert_eq!(
            parse(&error(1, "File not found")).unwrap(),
            Packet::Error {
                code: 1,
                message: "File not found".into()
            }
        );
        let o = vec![("blksize".to_string(), "1428".to_string())];
        assert_eq!(parse(&oack(&o)).unwrap(), Packet::Oack(o));
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(parse(&[]), Err(ParseError::Short(0)));
        assert_eq!(parse(&[0]), Err(ParseError::Short(1)));
        assert_eq!(parse(&[0, 9, 1]), Err(ParseError::Opcode(9)));
        assert!(matches!(
            parse(b"\x00\x01file"),
            Err(ParseError::Unterminated(_))
        ));
        assert!(matches!(
            parse(b"\x00\x01file\x00"),
            Err(ParseError::Unterminated(_))
        ));
        assert!(matches!(
            parse(b"\x00\x01f\x00bogus\x00"),
            Err(ParseError::Mode(_))
        ));
        assert!(matches!(
            parse(b"\x00\x01\xff\x00octet\x00"),
            Err(ParseError::NotText(_))
        ));
        assert_eq!(parse(&[0, 4, 1]), Err(ParseError::Short(3)));
        // An unpaired option name is ignored.
        let p = parse(b"\x00\x01f\x00octet\x00blksize\x00").unwrap();
        assert!(matches!(p, Packet::Request { options, .. } if options.is_empty()));
    }

    #[test]
    fn negotiation_caps_and_ignores() {
        let o = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let l = Limits::default();
        let t = Duration::from_secs(1);
        let n = negotiate(
            &o(&[
                ("blksize", "9000"),
                ("tsize", "0"),
                ("windowsize", "16"),
                ("x", "1"),
            ]),
            4242,
            l,
            t,
        );
        assert_eq!((n.blksize, n.windowsize), (1468, 16));
        assert_eq!(
            n.oack,
            o(&[("blksize", "1468"), ("tsize", "4242"), ("windowsize", "16")])
        );
        // Out of range or not numbers: ignored, as the RFCs allow.
        let n = negotiate(
            &o(&[
                ("blksize", "7"),
                ("timeout", "0"),
                ("windowsize", "0"),
                ("tsize", "x"),
            ]),
            1,
            l,
            t,
        );
        assert_eq!((n.blksize, n.windowsize, n.timeout), (512, 1, t));
        assert!(n.oack.is_empty());
        let n = negotiate(&o(&[("timeout", "3"), ("windowsize", "1000")]), 1, l, t);
        assert_eq!((n.timeout, n.windowsize), (Duration::from_secs(3), 64));
    }

    /// The parser takes bytes from anyone on the network: whatever arrives, it answers Ok or
    /// Err, never panics, and what it accepts as a request survives a round trip.
    mod fuzz {
        use proptest::prelude::*;

        use super::super::*;

        /// Requests as clients send them, then damaged by the strategies below.
        fn seeds() -> Vec<Vec<u8>> {
            vec![
                request(false, "undionly.kpxe", "octet", &[]),
                request(
                    false,
                    "ipxe.efi",
                    "octet",
                    &[("blksize", "1468"), ("tsize", "0"), ("windowsize", "16")],
                ),
                request(true, "up.bin", "netascii", &[("timeout", "3")]),
                ack(65535),
                data(1, &[0u8; 512]),
                error(1, "File not found"),
                oack(&[("blksize".into(), "1468".into())]),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(20_000))]

            #[test]
            fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = parse(&bytes);
            }

            #[test]
            fn damaged_packets_never_panic(
                seed in 0usize..7,
                cut in 0usize..80,
                flips in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
            ) {
                let mut p = seeds()[seed].clone();
                for (at, b) in flips {
                    if !p.is_empty() {
                        let i = at % p.len();
                        p[i] = b;
                    }
                }
                p.truncate(cut.min(p.len()));
                let _ = parse(&p);
            }

            #[test]
            fn requests_round_trip(
                name in "[a-zA-Z0-9._/-]{1,40}",
                blk in 8u32..70000,
                win in 0u32..70000,
            ) {
                let (b, w) = (blk.to_string(), win.to_string());
                let raw = request(false, &name, "octet", &[("blksize", &b), ("windowsize", &w)]);
                let parsed = parse(&raw);
                prop_assert!(
                    matches!(&parsed, Ok(Packet::Request { filename, options, .. })
                        if *filename == name && options.len() == 2),
                    "{parsed:?}"
                );
                if let Ok(Packet::Request { options, .. }) = parsed {
                    let n = negotiate(&options, 1, Limits::default(), Duration::from_secs(1));
                    prop_assert!((8..=1468).contains(&n.blksize) || n.blksize == DEFAULT_BLKSIZE);
                    prop_assert!((1..=64).contains(&n.windowsize));
                }
            }
        }
    }
}
