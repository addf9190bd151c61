//! The boot network's DHCP side (DESIGN §7): how netbooting firmware learns where to boot.
//!
//! So far the pure parts: the DHCPv4 wire format (`packet`, fuzzed), the chainload decision
//! (`boot`: which iPXE binary or URL a client gets, by architecture and class) and `full`
//! mode's address planner (`leases`: reservations from inventory, a dynamic pool, held
//! offers so concurrent DISCOVERs never share an address).
//! The proxy and full servers, their leases and their network-namespace tests are the rest
//! of issue 7 and not built yet; `dhcp` stays `off`.

pub mod boot;
pub mod leases;
pub mod packet;
