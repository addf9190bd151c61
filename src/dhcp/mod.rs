//! The boot network's DHCP side (docs/architecture.md, "Boot network"): how netbooting firmware
//! learns where to boot.
//!
//! - `packet`: the DHCPv4 wire format (property-tested: nothing malformed panics);
//! - `boot`: the chainload decision (which iPXE binary or URL a client gets, by architecture and
//!   class, never a loop);
//! - `leases`: `full` mode's address planner (reservations from inventory, a dynamic pool, held
//!   offers so concurrent DISCOVERs never share an address);
//! - `respond`: what to answer one message in `proxy` or `full` mode (pure);
//! - `interface`: the sockets on the boot interface and the address the server answers from;
//! - `server`: the loop that acts on `respond`.

pub mod boot;
pub mod interface;
pub mod leases;
pub mod packet;
pub mod respond;
pub mod server;
