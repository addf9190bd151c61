//! The `rackboot serve` binary's DHCP: the whole chain DHCP → TFTP → boot script on its
//! interface in a namespace, and a refused interface that is not there.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::poll;
use crate::netns::Lan;

use super::{SERVER, blocking, pxe_args, strs, udhcpc};

#[tokio::test]
#[ignore = "tier root: needs root (network namespaces), busybox, curl, tftp-hpa and Debian's ipxe; scripts/test.sh runs it"]
async fn the_binary_serves_dhcp_tftp_and_the_script_on_its_interface() {
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new();
    let srv = lan.host("srv", "02:77:00:00:00:fe", Some(&format!("{SERVER}/24")));
    let mut child = srv
        .cmd(env!("CARGO_BIN_EXE_rackboot"))
        .args(["serve", "--dhcp", "full", "--dhcp-interface", "eth0"])
        .args(["--dhcp-pool", "192.168.77.100-192.168.77.110"])
        .args(["--listen", &format!("{SERVER}:8080")])
        // The lab shape: the test writes boot parameters on the same plain listener.
        .args(["--control-listen", "boot", "--no-auth"])
        .args(["--advertise-url", &format!("http://{SERVER}:8080")])
        .args(["--tftp-listen", &format!("{SERVER}:69")])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let node = lan.host("n1", "02:00:00:00:00:31", None);
    let d = dir.path().to_path_buf();
    let runtime = tokio::runtime::Handle::current();
    let result = blocking(move || -> Result<(), String> {
        // An unknown MAC boots BSS's Unknown-x86_64 entry.
        let o = srv
            .cmd("curl")
            .args(["-sS", "--fail", "--retry", "20", "--retry-connrefused", "--retry-delay", "1"])
            .args(["-X", "POST", "-H", "Content-Type: application/json"])
            .args(["-d", r#"{"hosts": ["Unknown-x86_64"], "kernel": "http://192.168.77.1:8080/k", "params": "console=ttyS0"}"#])
            .arg(format!("http://{SERVER}:8080/boot/v1/bootparameters"))
            .output()
            .unwrap();
        if !o.status.success() {
            return Err(format!("bootparameters: {}", String::from_utf8_lossy(&o.stderr)));
        }
        // The node is in the inventory by MAC only: its address will be a pool lease.
        let post = |path: &str, body: &str| {
            let o = srv
                .cmd("curl")
                .args(["-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/json"])
                .args(["-d", body])
                .arg(format!("http://{SERVER}:8080{path}"))
                .output()
                .unwrap();
            o.status.success().then_some(()).ok_or_else(|| {
                format!("{path}: {}", String::from_utf8_lossy(&o.stderr))
            })
        };
        post(
            "/apis/smd/hsm/v2/State/Components",
            r#"{"Components": [{"ID": "x3000c0s9b0n0", "State": "Off", "NID": 9}]}"#,
        )?;
        post(
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces",
            r#"{"MACAddress": "02:00:00:00:00:31", "ComponentID": "x3000c0s9b0n0"}"#,
        )?;
        // DHCP with a PXE ROM's classes: an address (found on eth0 by the server) and a file.
        let mut env = Err("not tried".to_string());
        for _ in 0..10 {
            env = udhcpc(&node, &d, &strs(&pxe_args("0")));
            if env.is_ok() {
                break;
            }
        }
        let env = env?;
        if env.get("boot_file").map(String::as_str) != Some("undionly.kpxe")
            || env.get("serverid").map(String::as_str) != Some(SERVER)
        {
            return Err(format!("{env:?}"));
        }
        let ip = &env["ip"];
        let st = Command::new("ip")
            .args([
                "-n",
                &node.ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                "eth0",
            ])
            .status()
            .unwrap();
        assert!(st.success());
        // TFTP from the server DHCP named, with tftp-hpa.
        let got = d.join("undionly.kpxe");
        let o = node
            .cmd("tftp")
            .args(["-m", "binary", &env["siaddr"], "-c", "get", "undionly.kpxe"])
            .arg(&got)
            .output()
            .unwrap();
        if !o.status.success()
            || std::fs::read(&got).ok() != std::fs::read("/usr/lib/ipxe/undionly.kpxe").ok()
        {
            return Err(format!(
                "tftp: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        // Both are on the node's timeline; TFTP found it through the DHCP lease (recorded
        // just after the transfer: poll briefly). On this blocking thread, `poll` runs on the
        // test's runtime; a timeout is an `Err`, so the server is still stopped and its log shown.
        let timeline = poll(Duration::from_secs(3), async || {
            let o = srv
                .cmd("curl")
                .args(["-sS", "--fail"])
                .arg(format!(
                    "http://{SERVER}:8080/apis/rackboot/v1/nodes/x3000c0s9b0n0/timeline"
                ))
                .output()
                .unwrap();
            let tl = String::from_utf8_lossy(&o.stdout).into_owned();
            let both = tl.contains(r#""what":"dhcp""#) && tl.contains(r#""what":"tftp""#);
            if both { Ok(()) } else { Err(tl) }
        });
        if let Err(tl) = runtime.block_on(timeline) {
            return Err(format!("timeline: {tl}"));
        }
        // iPXE's DHCP: the script URL, fetched with curl from the node.
        let mut a = pxe_args("0");
        a.extend(["-x".into(), "0x4d:69505845".into()]);
        let env = udhcpc(&node, &d, &strs(&a))?;
        let o = node
            .cmd("curl")
            .args(["-sS", "--fail", &env["boot_file"]])
            .output()
            .unwrap();
        let script = String::from_utf8_lossy(&o.stdout);
        if !script.starts_with("#!ipxe") {
            return Err(format!(
                "script: {script} {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Ok(())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    result.unwrap_or_else(|e| panic!("{e}\nserver log:\n{log}"));
    assert!(log.contains("DHCP serving"), "{log}");
}

#[tokio::test]
async fn serve_refuses_an_interface_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rackboot"))
        .args(["serve", "--dhcp", "proxy", "--dhcp-interface", "nosuch0"])
        .args(["--listen", "127.0.0.1:0", "--tftp-listen", "off"])
        .args(["--advertise-url", "http://10.0.0.1:8080"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("dhcp_interface nosuch0 has no IPv4 address (or does not exist)"),
        "{err}"
    );
}
