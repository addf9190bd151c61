//! The TFTP server's section: its address (or `off`) and its per-client limit.
//!
//! The server serves `Config::ipxe_dir`, which is resolved with the other paths.

use std::net::SocketAddr;

use super::{ConfigError, Settings, positive};

/// The TFTP server's address and limits (it serves `Config::ipxe_dir`).
#[derive(Debug, Clone)]
pub struct TftpConfig {
    pub listen: SocketAddr,
    pub max_per_client: usize,
}

pub(super) fn resolve(s: &Settings) -> Result<Option<TftpConfig>, ConfigError> {
    let raw = s.tftp_listen.as_deref().unwrap_or("0.0.0.0:69").trim();
    if raw == "off" {
        return Ok(None);
    }
    let listen = raw.parse().map_err(|_| {
        ConfigError::Invalid(format!(
            "tftp_listen '{raw}' is not an IP:port such as 0.0.0.0:69 or [::]:69, or off"
        ))
    })?;
    let max_per_client = positive(
        "tftp_max_per_client",
        s.tftp_max_per_client.map(|n| n as u64),
        8,
    )? as usize;
    Ok(Some(TftpConfig {
        listen,
        max_per_client,
    }))
}
