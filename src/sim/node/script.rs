//! Reading an iPXE script the way a node follows it: the first `kernel` line (its URL and
//! command line), every `initrd` line, and the first `chain` line.
//!
//! This is not an iPXE interpreter and does not want to be one: the node only needs what
//! it fetches next, so options are skipped, the `||`/`&&` branches are ignored, and
//! everything else in the script (labels, `sleep`, `goto`) is left alone. It is pure, and
//! tested against what the appliance's own `bootscript` renders.

/// A `kernel` line: its image URL and its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Kernel {
    pub(super) url: String,
    pub(super) args: Vec<String>,
}

impl Kernel {
    /// The value of the first `key=value` argument.
    pub(super) fn arg(&self, key: &str) -> Option<String> {
        self.args.iter().find_map(|a| {
            a.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
    }
}

/// What a node takes from an iPXE script: the first `kernel` line, every `initrd` line, and
/// the first `chain` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Script {
    pub(super) kernel: Option<Kernel>,
    pub(super) initrds: Vec<String>,
    pub(super) chain: Option<String>,
}

/// Read the commands of an iPXE script that matter for fetching: `kernel`/`initrd`/`chain`
/// with their options (`--name x`, `--name=x`, `--autofree`, ...) skipped, and anything
/// after `||` or `&&` (the failure and success branches) ignored.
pub(super) fn parse_script(text: &str) -> Script {
    let mut script = Script::default();
    for line in text.lines() {
        let line = line.trim();
        let cmd = line
            .split("||")
            .next()
            .and_then(|c| c.split("&&").next())
            .unwrap_or_default();
        let mut words = cmd.split_whitespace();
        let Some(verb) = words.next() else { continue };
        if !matches!(verb, "kernel" | "initrd" | "chain" | "imgfetch" | "module") {
            continue;
        }
        let mut rest: Vec<&str> = Vec::new();
        let mut options_done = false;
        while let Some(w) = words.next() {
            if !options_done && w.starts_with('-') {
                // Options that take a separate value.
                if matches!(w, "--name" | "-n" | "--timeout" | "-t") {
                    words.next();
                }
                continue;
            }
            options_done = true;
            rest.push(w);
        }
        let Some((&url, args)) = rest.split_first() else {
            continue;
        };
        match verb {
            "kernel" if script.kernel.is_none() => {
                script.kernel = Some(Kernel {
                    url: url.to_string(),
                    args: args.iter().map(|a| a.to_string()).collect(),
                });
            }
            "initrd" | "imgfetch" | "module" => script.initrds.push(url.to_string()),
            "chain" if script.chain.is_none() => script.chain = Some(url.to_string()),
            _ => {}
        }
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootscript::{BootScript, render_boot, render_discover_arch};

    #[test]
    fn sim_node_parses_what_rackboot_renders() {
        let text = render_boot(&BootScript {
            kernel_url: "http://10.1.0.1:8080/artifacts/abc/kernel",
            initrd_url: Some("http://10.1.0.1:8080/artifacts/abc/initrd"),
            params: "initrd=initrd console=ttyS0 xname=x1c0s0b0n0 nid=1 bss_referral_token=t-1",
            retry_delay_secs: 30,
            chain_url: "http://10.1.0.1:8080/boot/v1/bootscript?mac=aa:bb:cc:dd:ee:ff&retry=1",
        });
        let s = parse_script(&text);
        let k = s.kernel.expect("a kernel line");
        assert_eq!(k.url, "http://10.1.0.1:8080/artifacts/abc/kernel");
        assert_eq!(k.arg("xname").as_deref(), Some("x1c0s0b0n0"));
        assert_eq!(k.arg("bss_referral_token").as_deref(), Some("t-1"));
        assert_eq!(k.arg("initrd").as_deref(), Some("initrd"));
        assert_eq!(k.arg("nid_missing"), None);
        assert!(!k.args.iter().any(|a| a.contains("||") || a == "goto"));
        assert_eq!(s.initrds, ["http://10.1.0.1:8080/artifacts/abc/initrd"]);
        assert_eq!(
            s.chain.as_deref(),
            Some("http://10.1.0.1:8080/boot/v1/bootscript?mac=aa:bb:cc:dd:ee:ff&retry=1")
        );

        let s = parse_script(&render_discover_arch(
            "http://a/boot/v1/bootscript?mac=m&arch=${buildarch}&ts=1",
        ));
        assert_eq!(s.kernel, None);
        assert_eq!(
            s.chain.as_deref(),
            Some("http://a/boot/v1/bootscript?mac=m&arch=${buildarch}&ts=1")
        );
    }

    #[test]
    fn sim_node_script_options_and_branches() {
        let s = parse_script(
            "#!ipxe\n:label\nkernel --name=k --autofree /k a=1 && echo ok\n\
             initrd -n i2 /i1\ninitrd /i2 || goto x\nchain --autofree /c1\nchain /c2\n",
        );
        assert_eq!(
            s.kernel,
            Some(Kernel {
                url: "/k".into(),
                args: vec!["a=1".into()]
            })
        );
        assert_eq!(s.initrds, ["/i1", "/i2"]);
        assert_eq!(s.chain.as_deref(), Some("/c1"));
        assert_eq!(parse_script("#!ipxe\nkernel\n"), Script::default());
    }
}
