//! Private layer-2 networks for the boot-network tests: one network namespace holding a
//! bridge, and one namespace per host, each joined to the bridge by a veth pair. Addresses
//! exist only inside these namespaces, so DHCP broadcasts never leave them. Needs root (or
//! CAP_SYS_ADMIN + CAP_NET_ADMIN); everything is deleted when the [`Lan`] is dropped.
//!
//! Real clients run in a host with [`Host::cmd`] (`ip netns exec`); sockets the appliance
//! needs on the boot network are made in a host with [`Host::enter`], on a thread that has
//! joined the namespace, and handed to the in-process server: a socket keeps its namespace.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) {
    let o = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
    assert!(
        o.status.success(),
        "ip {} failed: {} (the boot-network tests need root to create network namespaces)",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr).trim()
    );
}

pub struct Lan {
    id: String,
    bridge_ns: String,
    hosts: Vec<String>,
}

pub struct Host {
    pub ns: String,
}

impl Lan {
    pub fn new() -> Lan {
        let id = format!(
            "rbt{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let bridge_ns = format!("{id}-lan");
        ip(&["netns", "add", &bridge_ns]);
        ip(&["-n", &bridge_ns, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &bridge_ns, "link", "set", "br0", "up"]);
        Lan {
            id,
            bridge_ns,
            hosts: Vec::new(),
        }
    }

    /// A host on the bridge with interface `eth0` (MAC `mac`, address `cidr` if given).
    pub fn host(&mut self, name: &str, mac: &str, cidr: Option<&str>) -> Host {
        let ns = format!("{}-{name}", self.id);
        let port = format!("p{}", self.hosts.len());
        ip(&["netns", "add", &ns]);
        self.hosts.push(ns.clone());
        ip(&[
            "-n",
            &ns,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &self.bridge_ns,
        ]);
        ip(&[
            "-n",
            &self.bridge_ns,
            "link",
            "set",
            &port,
            "master",
            "br0",
            "up",
        ]);
        ip(&["-n", &ns, "link", "set", "eth0", "address", mac]);
        if let Some(c) = cidr {
            ip(&["-n", &ns, "addr", "add", c, "dev", "eth0"]);
        }
        ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        Host { ns }
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.bridge_ns)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Host {
    /// `program` run inside this host's namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program]);
        c
    }

    /// Run `f` on a thread that has joined this host's network namespace.
    pub fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            // SAFETY: setns on this thread only; the descriptor is a network namespace.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("thread in the namespace panicked")
    }
}
