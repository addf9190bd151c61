//! The DHCP server on a private network (see `netns`), against real clients: busybox
//! `udhcpc` and ISC `dhclient` in full mode; in proxy mode beside a dnsmasq that plays the
//! site's DHCP server, with PXE requests sent as firmware sends them (no PXE client runs
//! outside a VM; the QEMU lab covers iPXE and OVMF). One test runs the `rackboot` binary
//! itself in a namespace and follows the whole chain: DHCP → TFTP → the boot script.
//!
//! The addresses and the client helpers (udhcpc, PXE arguments) are here; the tests are in
//! the topic modules below.

use std::collections::HashMap;
use std::path::Path;

use super::netns::Host;

mod full;
mod proxy;
mod serve;

const SERVER: &str = "192.168.77.1";
const NODE: &str = "x3000c0s1b0n0";
const NODE_MAC: &str = "52:54:00:77:00:01";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// busybox udhcpc in `host`, once: the `bound` environment, or why it got no lease.
fn udhcpc(host: &Host, dir: &Path, args: &[&str]) -> Result<HashMap<String, String>, String> {
    let script = dir.join("udhcpc.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n[ \"$1\" = bound ] && env > \"$UDHCPC_OUT\"\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.join(format!("{}.env", host.ns));
    let _ = std::fs::remove_file(&out);
    let o = host
        .cmd("busybox")
        .args([
            "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "3", "-T", "1",
        ])
        .args(["-O", "tftp", "-O", "bootfile", "-s"])
        .arg(&script)
        .args(args)
        .env("UDHCPC_OUT", &out)
        .output()
        .expect("busybox udhcpc (scripts/peers.sh installs busybox-static)");
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success() {
        return Err(log);
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{e}: {log}"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn pxe_args(arch: &str) -> Vec<String> {
    vec![
        "-V".into(),
        format!("PXEClient:Arch:{arch:0>5}:UNDI:002001"),
        "-x".into(),
        format!("0x5d:{:04x}", arch.parse::<u16>().unwrap()),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
