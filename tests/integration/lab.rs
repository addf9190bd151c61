//! The QEMU lab in the suite: real firmware (SeaBIOS with Debian's iPXE ROM, OVMF with its
//! own PXE) in QEMU VMs netboots through rackboot's DHCP, TFTP, scripts and artifacts,
//! powered over Redfish by sushy-tools through a private libvirtd, and the CLI drives a Boot,
//! a Reboot and a Shutdown session to the end (`tests/lab/lab.sh` does the work and checks
//! each step; its README lists them). Two BIOS nodes and one UEFI node, once with rackboot's
//! DHCP in full mode and once in proxy mode beside a site dnsmasq. Needs root; installs what
//! it needs (apt, a pip venv) on first use. On failure the consoles and logs are kept in
//! `target/tmp/lab-artifacts-<mode>` (the lab prints their tails too).

use std::process::Command;

#[test]
#[ignore = "tier lab: needs root, QEMU and libvirt (tests/lab/lab.sh installs them); scripts/test.sh runs it"]
fn qemu_nodes_boot_reboot_and_shut_down_through_rackboot() {
    for mode in ["full", "proxy"] {
        let artifacts =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lab-artifacts-{mode}"));
        let _ = std::fs::remove_dir_all(&artifacts);
        let status = Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/lab.sh"))
            .env("RACKBOOT", env!("CARGO_BIN_EXE_rackboot"))
            .env("N_BIOS", "2")
            .env("N_UEFI", "1")
            .env("DHCP_MODE", mode)
            .env("ARTIFACTS", &artifacts)
            .status()
            .expect("bash tests/lab/lab.sh");
        assert!(
            status.success(),
            "the QEMU lab failed in {mode} mode ({status}); consoles and logs are in {}",
            artifacts.display()
        );
    }
}
