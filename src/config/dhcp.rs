//! The DHCP server's section: off, proxy or full, and what full mode hands out.
//!
//! Everything that can be checked without the network is checked here, so a typo in a
//! pool or DNS list fails start with the setting's name; the interface's own address and
//! netmask are looked up when the server starts. Boot file names must stay inside the TFTP
//! root, since they are sent to clients and served from there.

use std::path::Path;

use super::{ConfigError, DhcpKind, Settings};

/// The DHCP server's settings (validated; the interface's address is looked up at start).
#[derive(Debug, Clone)]
pub struct DhcpConfig {
    pub mode: crate::dhcp::server::Mode,
    pub interface: String,
    pub server_ip: Option<std::net::Ipv4Addr>,
    pub netmask: Option<std::net::Ipv4Addr>,
    pub router: Option<std::net::Ipv4Addr>,
    pub dns: Vec<std::net::Ipv4Addr>,
    pub pool: Option<crate::dhcp::leases::Pool>,
    pub lease_time: chrono::Duration,
    pub efi_binary: String,
    pub arm64_binary: Option<String>,
}

pub(super) fn resolve(s: &Settings, ipxe_dir: &Path) -> Result<Option<DhcpConfig>, ConfigError> {
    use crate::dhcp::server::Mode;
    let invalid = |m: String| ConfigError::Invalid(m);
    let mode = match s.dhcp.unwrap_or(DhcpKind::Off) {
        DhcpKind::Off => {
            let stray = [
                ("dhcp_interface", s.dhcp_interface.is_some()),
                ("dhcp_pool", s.dhcp_pool.is_some()),
            ];
            if let Some((name, _)) = stray.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "{name} is set but dhcp is off; set dhcp to proxy or full"
                )));
            }
            return Ok(None);
        }
        DhcpKind::Proxy => Mode::Proxy,
        DhcpKind::Full => Mode::Full,
    };
    let interface = s
        .dhcp_interface
        .clone()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| {
            invalid(
                "dhcp needs dhcp_interface: the boot network interface to answer on, e.g. eth1"
                    .into(),
            )
        })?;
    let pool = match (&s.dhcp_pool, mode) {
        (Some(_), Mode::Proxy) => {
            return Err(invalid(
                "dhcp_pool is for full mode; in proxy mode the site DHCP server hands out addresses"
                    .into(),
            ));
        }
        (Some(p), Mode::Full) => Some(
            crate::dhcp::leases::Pool::parse(p).map_err(|e| invalid(format!("dhcp_pool {e}")))?,
        ),
        (None, _) => None,
    };
    let dns = s
        .dhcp_dns
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse()
                .map_err(|_| invalid(format!("dhcp_dns '{d}' is not an IPv4 address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lease_secs = s.dhcp_lease_secs.unwrap_or(3600);
    if lease_secs < 60 {
        return Err(invalid(format!(
            "dhcp_lease_secs {lease_secs} is too short (at least 60)"
        )));
    }
    let efi_binary = s
        .dhcp_efi_binary
        .clone()
        .unwrap_or_else(|| "snponly.efi".into());
    let arm64_binary = s.dhcp_arm64_binary.clone().or_else(|| {
        let default = "arm64-efi/snponly.efi";
        ipxe_dir
            .join(default)
            .is_file()
            .then(|| default.to_string())
    });
    for name in std::iter::once(&efi_binary).chain(arm64_binary.as_ref()) {
        if name.is_empty() || name.starts_with('/') || name.split('/').any(|p| p == "..") {
            return Err(invalid(format!(
                "'{name}' must be a file name inside the TFTP root"
            )));
        }
    }
    Ok(Some(DhcpConfig {
        mode,
        interface,
        server_ip: s.dhcp_server_ip,
        netmask: s.dhcp_netmask,
        router: s.dhcp_router,
        dns,
        pool,
        lease_time: chrono::Duration::seconds(lease_secs as i64),
        efi_binary,
        arm64_binary,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn dhcp_settings_are_checked_once() {
        let base = || Settings {
            advertise_url: Some("http://10.0.0.1:8080".into()),
            ..Default::default()
        };
        let err = |s: Settings| Config::resolve(s.or(base())).unwrap_err().to_string();
        assert!(
            Config::resolve(base()).unwrap().dhcp.is_none(),
            "off by default"
        );
        let e = err(Settings {
            dhcp: Some(DhcpKind::Full),
            ..Default::default()
        });
        assert!(e.contains("dhcp_interface"), "{e}");
        let e = err(Settings {
            dhcp: Some(DhcpKind::Proxy),
            dhcp_interface: Some("eth1".into()),
            dhcp_pool: Some("10.0.0.100-10.0.0.110".into()),
            ..Default::default()
        });
        assert!(e.contains("dhcp_pool is for full mode"), "{e}");
        let e = err(Settings {
            dhcp_interface: Some("eth1".into()),
            ..Default::default()
        });
        assert!(e.contains("dhcp is off"), "{e}");
        for (pool, dns, lease, want) in [
            ("10.0.0.9-10.0.0.1", "", 3600, "after the last"),
            ("10.0.0.1", "", 3600, "address range"),
            ("10.0.0.1-10.0.0.9", "10.0.0.300", 3600, "dhcp_dns"),
            ("10.0.0.1-10.0.0.9", "", 30, "dhcp_lease_secs"),
        ] {
            let e = err(Settings {
                dhcp: Some(DhcpKind::Full),
                dhcp_interface: Some("eth1".into()),
                dhcp_pool: Some(pool.into()),
                dhcp_dns: Some(dns.into()),
                dhcp_lease_secs: Some(lease),
                ..Default::default()
            });
            assert!(e.contains(want), "{pool} {dns} {lease}: {e}");
        }
        let e = err(Settings {
            dhcp: Some(DhcpKind::Full),
            dhcp_interface: Some("eth1".into()),
            dhcp_efi_binary: Some("../../etc/passwd".into()),
            ..Default::default()
        });
        assert!(e.contains("inside the TFTP root"), "{e}");
        let c = Config::resolve(
            Settings {
                dhcp: Some(DhcpKind::Full),
                dhcp_interface: Some("eth1".into()),
                dhcp_pool: Some("10.0.0.100-10.0.0.110".into()),
                dhcp_dns: Some("10.0.0.53, 10.0.0.54".into()),
                ..Default::default()
            }
            .or(base()),
        )
        .unwrap();
        let d = c.dhcp.unwrap();
        assert_eq!(d.dns.len(), 2);
        assert_eq!(d.efi_binary, "snponly.efi");
        assert_eq!(d.lease_time, chrono::Duration::hours(1));
    }
}
