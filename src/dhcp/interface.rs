//! The boot interface: the server's sockets bound to it, and the address it answers from.
//!
//! Sockets are bound to the interface (`SO_BINDTODEVICE`, through socket2), on ports 67 and
//! 4011, with `SO_BROADCAST` (clients without an address are answered by broadcast). The
//! server's own address and netmask come from the settings or, where unset, from the
//! interface itself (read with `nix`'s getifaddrs).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use super::server::{PXE_PORT, SERVER_PORT};

/// The two sockets of the server: port 67 and port 4011.
#[derive(Debug)]
pub struct Sockets {
    pub dhcp: std::net::UdpSocket,
    pub pxe: std::net::UdpSocket,
}

impl Sockets {
    /// Bind 0.0.0.0:67 and 0.0.0.0:4011 on `interface`.
    pub fn bind(interface: &str) -> io::Result<Sockets> {
        Self::bind_ports(interface, SERVER_PORT, PXE_PORT)
    }

    pub fn bind_ports(interface: &str, dhcp: u16, pxe: u16) -> io::Result<Sockets> {
        Ok(Sockets {
            dhcp: udp_on(interface, dhcp)?,
            pxe: udp_on(interface, pxe)?,
        })
    }
}

fn udp_on(interface: &str, port: u16) -> io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_broadcast(true)?;
    s.bind_device(Some(interface.as_bytes())).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot bind to interface {interface}: {e}"),
        )
    })?;
    s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind UDP port {port}: {e}")))?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// The first IPv4 address of `interface` and its netmask (/24 when it has none).
pub fn interface_ipv4(interface: &str) -> io::Result<Option<(Ipv4Addr, Ipv4Addr)>> {
    let addrs = nix::ifaddrs::getifaddrs().map_err(io::Error::from)?;
    Ok(addrs
        .filter(|a| a.interface_name == interface)
        .find_map(|a| {
            let ip = a.address?.as_sockaddr_in()?.ip();
            let mask = a
                .netmask
                .and_then(|m| m.as_sockaddr_in().map(|m| m.ip()))
                .unwrap_or(Ipv4Addr::new(255, 255, 255, 0));
            Some((ip, mask))
        }))
}

/// Why the server's own address could not be found.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("cannot read the addresses of interface {interface}")]
    Read {
        interface: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "dhcp_interface {interface} has no IPv4 address (or does not exist); give it one, or set dhcp_server_ip"
    )]
    NoAddress { interface: String },
}

/// The address and netmask the server answers with: as configured, else the interface's
/// (an address configured without a netmask, on an interface without one, gets a /24).
pub fn server_address(
    interface: &str,
    ip: Option<Ipv4Addr>,
    netmask: Option<Ipv4Addr>,
) -> Result<(Ipv4Addr, Ipv4Addr), AddressError> {
    let found = match (ip, netmask) {
        (Some(_), Some(_)) => None,
        _ => interface_ipv4(interface).map_err(|source| AddressError::Read {
            interface: interface.to_string(),
            source,
        })?,
    };
    match (ip, netmask, found) {
        (Some(ip), Some(mask), _) => Ok((ip, mask)),
        (ip, mask, Some((if_ip, if_mask))) => Ok((ip.unwrap_or(if_ip), mask.unwrap_or(if_mask))),
        (Some(ip), None, None) => Ok((ip, Ipv4Addr::new(255, 255, 255, 0))),
        (None, _, None) => Err(AddressError::NoAddress {
            interface: interface.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address_and_configured_values_win() {
        assert_eq!(
            interface_ipv4("lo").unwrap(),
            Some((Ipv4Addr::LOCALHOST, Ipv4Addr::new(255, 0, 0, 0)))
        );
        assert_eq!(interface_ipv4("no-such-if0").unwrap(), None);
        let ip = Ipv4Addr::new(10, 9, 0, 1);
        assert_eq!(
            server_address("no-such-if0", Some(ip), None).unwrap(),
            (ip, Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(
            server_address("lo", Some(ip), None).unwrap(),
            (ip, Ipv4Addr::new(255, 0, 0, 0))
        );
        assert!(matches!(
            server_address("no-such-if0", None, None),
            Err(AddressError::NoAddress { .. })
        ));
    }
}
