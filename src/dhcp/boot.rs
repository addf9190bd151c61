//! What a netbooting client is told to boot (docs/architecture.md, "Boot network"), as a pure
//! function of its DHCP request: the chainload that takes firmware to iPXE and iPXE to its boot
//! script, without loops.
//!
//! - iPXE (user class `iPXE`, or its option 175) gets the boot script URL with its MAC; it is
//!   never handed an iPXE binary again, which is what would loop.
//! - UEFI HTTP Boot (vendor class `HTTPClient`) gets an HTTP URL of the iPXE EFI binary.
//! - PXE firmware gets an iPXE binary over TFTP by architecture (option 93, RFC 4578): BIOS →
//!   `undionly.kpxe`; x86-64 UEFI (7, 9) → `snponly.efi` or `ipxe.efi`; arm64 UEFI (11) → the
//!   arm64 binary when one is configured, else nothing.
//! - Anything else (no PXE vendor class) is not a netboot client: no boot answer.
//!
//! Unknown MACs get the same script URL; the Boot Script Service answers them with its
//! `Unknown-<arch>` entry.

use super::packet::Message;

/// The binaries the TFTP server offers, by firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFiles {
    pub bios: String,
    pub x86_64_efi: String,
    pub arm64_efi: Option<String>,
}

impl Default for BootFiles {
    fn default() -> BootFiles {
        BootFiles {
            bios: "undionly.kpxe".into(),
            x86_64_efi: "snponly.efi".into(),
            arm64_efi: None,
        }
    }
}

impl BootFiles {
    /// The files handed out that are not in `dir` (the TFTP root).
    pub fn missing_from(&self, dir: &std::path::Path) -> Vec<&str> {
        [
            Some(&self.bios),
            Some(&self.x86_64_efi),
            self.arm64_efi.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter(|f| !dir.join(f).is_file())
        .map(String::as_str)
        .collect()
    }
}

/// The firmware family option 93 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Bios,
    X86_64Efi,
    Arm64Efi,
    X86_64Http,
    Arm64Http,
    Other(u16),
}

impl Arch {
    pub fn from_code(code: u16) -> Arch {
        match code {
            0 => Arch::Bios,
            7 | 9 => Arch::X86_64Efi,
            11 => Arch::Arm64Efi,
            16 => Arch::X86_64Http,
            19 => Arch::Arm64Http,
            other => Arch::Other(other),
        }
    }

    /// The Boot Script Service's name for it (`Unknown-<arch>` entries, `${buildarch}`).
    pub fn bss_name(self) -> &'static str {
        match self {
            Arch::Arm64Efi | Arch::Arm64Http => "arm64",
            _ => "x86_64",
        }
    }
}

/// What to put in the reply's boot fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootAnswer {
    /// A file on the TFTP server (the reply's `file`, with `siaddr`/option 66 set to us).
    Tftp(String),
    /// A URL (iPXE's script, or the EFI binary for HTTP Boot; HTTP Boot replies also carry
    /// vendor class `HTTPClient`).
    Url(String),
}

/// Why a request gets no boot answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBoot {
    NotNetboot,
    NoBinaryFor(Arch),
}

fn hex_mac(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `base` is the advertise URL (no trailing slash).
pub fn boot_answer(m: &Message, files: &BootFiles, base: &str) -> Result<BootAnswer, NoBoot> {
    let arch = Arch::from_code(m.client_arch().unwrap_or(0));
    let is_ipxe = m.option(super::packet::opt::IPXE).is_some()
        || m.user_class().is_some_and(|u| u.contains("iPXE"));
    if is_ipxe {
        let mac = m.mac().map(hex_mac).unwrap_or_default();
        return Ok(BootAnswer::Url(format!(
            "{base}/boot/v1/bootscript?mac={mac}&arch={}",
            arch.bss_name()
        )));
    }
    let vendor = m.vendor_class().unwrap_or_default();
    if vendor.starts_with("HTTPClient") {
        return match arch {
            Arch::Arm64Http | Arch::Arm64Efi => files
                .arm64_efi
                .as_ref()
                .map(|f| BootAnswer::Url(format!("{base}/ipxe/{f}")))
                .ok_or(NoBoot::NoBinaryFor(arch)),
            _ => Ok(BootAnswer::Url(format!("{base}/ipxe/{}", files.x86_64_efi))),
        };
    }
    if !vendor.starts_with("PXEClient") {
        return Err(NoBoot::NotNetboot);
    }
    match arch {
        Arch::Bios => Ok(BootAnswer::Tftp(files.bios.clone())),
        Arch::X86_64Efi => Ok(BootAnswer::Tftp(files.x86_64_efi.clone())),
        Arch::Arm64Efi => files
            .arm64_efi
            .clone()
            .map(BootAnswer::Tftp)
            .ok_or(NoBoot::NoBinaryFor(arch)),
        other => Err(NoBoot::NoBinaryFor(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::{Message, client_request, opt};
    use super::*;

    fn request(arch: Option<u16>, vendor: Option<&str>, ipxe: bool) -> Message {
        let mut m = client_request([0x52, 0x54, 0, 0x77, 0, 1], arch, vendor, false);
        if ipxe {
            // The user class alone; option 175 is checked on its own below.
            m.options.push((opt::USER_CLASS, b"iPXE".to_vec()));
        }
        m
    }

    const BASE: &str = "http://10.0.0.1:8080";

    #[test]
    fn each_firmware_gets_its_next_stage() {
        let f = BootFiles::default();
        let pxe = |a: u16| format!("PXEClient:Arch:{a:05}:UNDI:003016");
        let tftp = |s: &str| Ok(BootAnswer::Tftp(s.into()));
        assert_eq!(
            boot_answer(&request(Some(0), Some(&pxe(0)), false), &f, BASE),
            tftp("undionly.kpxe")
        );
        assert_eq!(
            boot_answer(&request(None, Some("PXEClient"), false), &f, BASE),
            tftp("undionly.kpxe")
        );
        assert_eq!(
            boot_answer(&request(Some(7), Some(&pxe(7)), false), &f, BASE),
            tftp("snponly.efi")
        );
        assert_eq!(
            boot_answer(&request(Some(9), Some(&pxe(9)), false), &f, BASE),
            tftp("snponly.efi")
        );
        assert_eq!(
            boot_answer(&request(Some(11), Some(&pxe(11)), false), &f, BASE),
            Err(NoBoot::NoBinaryFor(Arch::Arm64Efi))
        );
        let with_arm = BootFiles {
            arm64_efi: Some("arm64/snponly.efi".into()),
            x86_64_efi: "ipxe.efi".into(),
            ..BootFiles::default()
        };
        assert_eq!(
            boot_answer(&request(Some(11), Some(&pxe(11)), false), &with_arm, BASE),
            tftp("arm64/snponly.efi")
        );
        assert_eq!(
            boot_answer(&request(Some(7), Some(&pxe(7)), false), &with_arm, BASE),
            tftp("ipxe.efi")
        );
        // UEFI HTTP Boot: a URL of the EFI binary.
        assert_eq!(
            boot_answer(
                &request(Some(16), Some("HTTPClient:Arch:00016:UNDI:003001"), false),
                &f,
                BASE
            ),
            Ok(BootAnswer::Url(format!("{BASE}/ipxe/snponly.efi")))
        );
        // Not a netboot client at all.
        assert_eq!(
            boot_answer(&request(None, None, false), &f, BASE),
            Err(NoBoot::NotNetboot)
        );
        assert_eq!(
            boot_answer(&request(None, Some("MSFT 5.0"), false), &f, BASE),
            Err(NoBoot::NotNetboot)
        );
    }

    #[test]
    fn ipxe_gets_its_script_never_a_binary_again() {
        let f = BootFiles::default();
        for (arch, name) in [(0, "x86_64"), (7, "x86_64"), (11, "arm64")] {
            let pxe = format!("PXEClient:Arch:{arch:05}:UNDI:002001");
            assert_eq!(
                boot_answer(&request(Some(arch), Some(&pxe), true), &f, BASE),
                Ok(BootAnswer::Url(format!(
                    "{BASE}/boot/v1/bootscript?mac=52:54:00:77:00:01&arch={name}"
                ))),
                "arch {arch}"
            );
        }
        // Option 175 alone marks iPXE too.
        let mut m = request(Some(0), Some("PXEClient"), false);
        m.options.push((opt::IPXE, vec![1, 1, 1]));
        assert!(
            matches!(boot_answer(&m, &f, BASE), Ok(BootAnswer::Url(u)) if u.contains("bootscript"))
        );
    }
}
