//! Limits that keep one client from starving the others: open connections per client
//! address (per listener), and the process's open-files limit raised to its hard limit at
//! start (at the common soft limit of 1,024, one client's idle connections can take every
//! descriptor and stop the boot plane and the store).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Counts open connections per client address; a slot is given back when its guard drops.
#[derive(Clone)]
pub struct ConnectionLimit {
    max_per_address: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

pub struct Slot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionLimit {
    pub fn new(max_per_address: usize) -> ConnectionLimit {
        ConnectionLimit {
            max_per_address,
            open: Arc::default(),
        }
    }

    /// A slot for a new connection from `ip`, or `None` when it holds its share already.
    pub fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().expect("connection counts");
        let n = open.entry(ip).or_default();
        if *n >= self.max_per_address {
            return None;
        }
        *n += 1;
        Some(Slot {
            ip,
            open: self.open.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("connection counts");
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Raise the open-files soft limit to the hard limit; returns (before, after).
pub fn raise_nofile() -> Result<(u64, u64), String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| format!("getrlimit(NOFILE): {e}"))?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
            .map_err(|e| format!("setrlimit(NOFILE, {hard}): {e}"))?;
    }
    Ok((soft, hard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_share_and_slots_come_back() {
        let l = ConnectionLimit::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = l.admit(a).unwrap();
        let _s2 = l.admit(a).unwrap();
        assert!(l.admit(a).is_none(), "a's share is used");
        assert!(l.admit(b).is_some(), "b is not affected");
        drop(s1);
        assert!(l.admit(a).is_some(), "a slot came back");
    }
}
