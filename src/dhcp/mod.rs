//! The boot network's DHCP side (DESIGN §7): how netbooting firmware learns where to boot.
//!
//! So far the pure parts: the DHCPv4 wire format (`packet`, fuzzed) and the chainload
//! decision (`boot`: which iPXE binary or URL a client gets, by architecture and class).
//! The proxy and full servers, their leases and their network-namespace tests are the rest
//! of issue 7 and not built yet; `dhcp` stays `off`.

pub mod boot;
pub mod packet;
