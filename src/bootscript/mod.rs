//! Boot parameters + node → iPXE script text. Pure: no I/O, no clock, no store.
//!
//! The output keeps the upstream BSS shape byte for byte where clients or nodes could notice
//! (`#!ipxe`, `kernel --name kernel`, `initrd=initrd` as the first parameter when an initrd
//! is set, the `:boot_retry` loop chaining back with `retry=N+1`), from the templates in
//! `ipxe/`. Two upstream quirks are deliberately not copied: `initrd=` handling works on
//! whole words (upstream deletes the first *substring* starting with `initrd`), and no
//! `ds=nocloud-net` is injected because this appliance serves no cloud-init datasource.

const BOOT: &str = include_str!("../../ipxe/boot.ipxe");
const INITRD: &str = include_str!("../../ipxe/initrd.ipxe");
const DISCOVER_ARCH: &str = include_str!("../../ipxe/discover-arch.ipxe");

/// Everything a full boot script needs, already resolved.
#[derive(Debug, Clone)]
pub struct BootScript<'a> {
    pub kernel_url: &'a str,
    pub initrd_url: Option<&'a str>,
    /// The assembled kernel command line (see [`assemble_params`]).
    pub params: &'a str,
    pub retry_delay_secs: u64,
    pub chain_url: &'a str,
}

/// Render the full script for a node (or an `Unknown-<arch>` boot).
pub fn render_boot(s: &BootScript<'_>) -> String {
    let initrd_block = match s.initrd_url {
        Some(url) => INITRD.replace("{{initrd}}", url),
        None => String::new(),
    };
    let kernel_args = if s.params.is_empty() {
        s.kernel_url.to_string()
    } else {
        format!("{} {}", s.kernel_url, s.params)
    };
    BOOT.replace("{{kernel}} {{params}}", &kernel_args)
        .replace("{{initrd_block}}", &initrd_block)
        .replace("{{retry_delay}}", &s.retry_delay_secs.to_string())
        .replace("{{chain}}", s.chain_url)
        + "\n"
}

/// The answer for an unknown node that has not said its architecture yet.
pub fn render_discover_arch(chain_url: &str) -> String {
    DISCOVER_ARCH.replace("{{chain}}", chain_url) + "\n"
}

/// Parameters appended to the command line unless a word with the same `key=` exists.
#[derive(Debug, Clone, Default)]
pub struct Injections<'a> {
    pub xname: Option<&'a str>,
    pub nid: Option<i64>,
    pub referral_token: Option<&'a str>,
}

/// Build the kernel command line as BSS does: host params, then the kernel image's and
/// the initrd image's params; then `xname=`, `nid=`, `bss_referral_token=` unless already
/// present; then, when an initrd is used, `initrd=initrd` first (replacing any other
/// `initrd=` word) so that UEFI kernels find the initrd iPXE registered as `initrd`.
pub fn assemble_params(parts: &[&str], inject: &Injections<'_>, has_initrd: bool) -> String {
    let mut words: Vec<String> = parts
        .iter()
        .flat_map(|p| p.split(' '))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let has = |words: &[String], key: &str| words.iter().any(|w| w.starts_with(key));
    if let Some(x) = inject.xname
        && !has(&words, "xname=")
    {
        words.push(format!("xname={x}"));
    }
    if let Some(n) = inject.nid
        && !has(&words, "nid=")
    {
        words.push(format!("nid={n}"));
    }
    if let Some(t) = inject.referral_token
        && !has(&words, "bss_referral_token=")
    {
        words.push(format!("bss_referral_token={t}"));
    }
    if has_initrd {
        words.retain(|w| !w.starts_with("initrd="));
        words.insert(0, "initrd=initrd".to_string());
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injects_once_and_puts_initrd_first() {
        let p = assemble_params(
            &["console=ttyS0 initrd=old xname=x9c0s0b0n0", "", "quiet"],
            &Injections {
                xname: Some("x1c0s0b0n0"),
                nid: Some(3),
                referral_token: Some("tok"),
            },
            true,
        );
        assert_eq!(
            p,
            "initrd=initrd console=ttyS0 xname=x9c0s0b0n0 quiet nid=3 bss_referral_token=tok"
        );
    }

    #[test]
    fn initrd_handling_is_by_whole_word() {
        // Upstream would cut "rd.initrd_debug" because it contains "initrd"; we do not.
        let p = assemble_params(&["rd.initrd_debug=1"], &Injections::default(), true);
        assert_eq!(p, "initrd=initrd rd.initrd_debug=1");
        let p = assemble_params(&["initrd=foo"], &Injections::default(), false);
        assert_eq!(p, "initrd=foo");
    }

    #[test]
    fn renders_the_upstream_shape() {
        let s = render_boot(&BootScript {
            kernel_url: "http://a/k",
            initrd_url: Some("http://a/i"),
            params: "initrd=initrd x=1",
            retry_delay_secs: 30,
            chain_url: "http://a/boot/v1/bootscript?mac=aa:bb:cc:dd:ee:ff&retry=1",
        });
        assert_eq!(
            s,
            "#!ipxe\nkernel --name kernel http://a/k initrd=initrd x=1 || goto boot_retry\n\
             initrd --name initrd http://a/i || goto boot_retry\n\
             imgstat || echo Could not show image information.\n\
             boot || goto boot_retry\n:boot_retry\nsleep 30\n\
             chain http://a/boot/v1/bootscript?mac=aa:bb:cc:dd:ee:ff&retry=1\n\n"
        );
        let s = render_boot(&BootScript {
            kernel_url: "k",
            initrd_url: None,
            params: "",
            retry_delay_secs: 5,
            chain_url: "c",
        });
        assert_eq!(
            s,
            "#!ipxe\nkernel --name kernel k || goto boot_retry\nboot || goto boot_retry\n:boot_retry\nsleep 5\nchain c\n\n"
        );
    }
}
