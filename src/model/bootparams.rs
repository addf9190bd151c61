//! Boot parameters: what a node (or a role, or every unknown node) boots.
//!
//! BSS stores one record per *host key*: a node's xname, a MAC or `nid<N>` that inventory
//! does not know yet, or a tag (`Default`, a role such as `Compute`, `Unknown-<arch>`,
//! `Global`). Kernel and initrd paths may also carry image-level params that every node
//! booting that image gets. Every value here ends up inside an iPXE script, so the rules
//! in [`check_params`] and [`check_path`] are enforced when a record is written: a value
//! that could end a command, start a new one or unbalance the kernel command line's quoting
//! is refused then, never discovered at boot time.

use super::{Mac, Xname};

/// The key a boot-parameter record is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostKey {
    Node(Xname),
    Mac(Mac),
    Nid(i64),
    Tag(String),
}

impl HostKey {
    /// Parse a BSS `hosts` entry: an xname, or a tag such as `Default`, `Compute`,
    /// `Unknown-x86_64` or `Global`. Something that starts like an xname but is not one is
    /// refused, so a typo does not silently become a tag nobody boots from.
    pub fn parse_host(s: &str) -> Result<HostKey, String> {
        let t = s.trim();
        let looks_like_xname = t.len() > 1
            && (t.starts_with('x') || t.starts_with('X'))
            && t.as_bytes()[1].is_ascii_digit();
        if looks_like_xname {
            return Xname::parse(t)
                .map(HostKey::Node)
                .map_err(|e| e.to_string());
        }
        let tag_ok = !t.is_empty()
            && t.len() <= 128
            && t.as_bytes()[0].is_ascii_alphabetic()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !tag_ok {
            return Err(format!(
                "'{s}' is neither an xname nor a tag (tags are names such as Default, Compute or Unknown-x86_64)"
            ));
        }
        Ok(HostKey::Tag(t.to_string()))
    }

    /// The storage key, which is also the name shown in `hosts` on the wire.
    pub fn key(&self) -> String {
        match self {
            HostKey::Node(x) => x.to_string(),
            HostKey::Mac(m) => m.to_string(),
            HostKey::Nid(n) => format!("nid{n}"),
            HostKey::Tag(t) => t.clone(),
        }
    }

    /// Inverse of [`HostKey::key`] for values read back from storage.
    pub fn from_key(k: &str) -> HostKey {
        if let Ok(x) = Xname::parse(k) {
            return HostKey::Node(x);
        }
        if let Ok(m) = Mac::parse(k)
            && k.contains(':')
        {
            return HostKey::Mac(m);
        }
        if let Some(n) = k.strip_prefix("nid").and_then(|n| n.parse::<i64>().ok()) {
            return HostKey::Nid(n);
        }
        HostKey::Tag(k.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootParams {
    #[serde(default)]
    pub params: String,
    #[serde(default)]
    pub kernel: String,
    #[serde(default)]
    pub initrd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_init: Option<serde_json::Value>,
    /// Minted on every PUT/POST for hosts; injected as `bss_referral_token=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_token: Option<String>,
    pub updated: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Kernel,
    Initrd,
}

impl ImageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Kernel => "kernel",
            ImageKind::Initrd => "initrd",
        }
    }
}

/// Params attached to a kernel or initrd path; appended for every node booting it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageParams {
    pub kind: ImageKind,
    pub path: String,
    #[serde(default)]
    pub params: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptValueError {
    #[error(
        "{field} contains a control character (byte 0x{byte:02x}); newlines and control characters would break the iPXE script"
    )]
    Control { field: &'static str, byte: u8 },
    #[error("{field} contains '{token}' as a word, which iPXE reads as a command separator")]
    Separator { field: &'static str, token: String },
    #[error(
        "{field} has an unbalanced double quote, which would swallow the parameters appended after it"
    )]
    UnbalancedQuote { field: &'static str },
    #[error("{field} must not contain whitespace: '{value}'")]
    Whitespace { field: &'static str, value: String },
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
}

const MAX_PARAMS: usize = 8192;
const MAX_PATH: usize = 2048;

fn check_control(field: &'static str, v: &str) -> Result<(), ScriptValueError> {
    match v.bytes().find(|b| *b < 0x20 || *b == 0x7f) {
        Some(byte) => Err(ScriptValueError::Control { field, byte }),
        None => Ok(()),
    }
}

/// A kernel command line that can be placed on an iPXE `kernel` line unchanged.
pub fn check_params(field: &'static str, v: &str) -> Result<(), ScriptValueError> {
    if v.len() > MAX_PARAMS {
        return Err(ScriptValueError::TooLong {
            field,
            max: MAX_PARAMS,
        });
    }
    check_control(field, v)?;
    if let Some(tok) = v.split(' ').find(|t| *t == "||" || *t == "&&") {
        return Err(ScriptValueError::Separator {
            field,
            token: tok.to_string(),
        });
    }
    if v.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
        return Err(ScriptValueError::UnbalancedQuote { field });
    }
    Ok(())
}

/// A kernel or initrd location (URL, `s3://` reference or path): one word, no controls.
pub fn check_path(field: &'static str, v: &str) -> Result<(), ScriptValueError> {
    if v.len() > MAX_PATH {
        return Err(ScriptValueError::TooLong {
            field,
            max: MAX_PATH,
        });
    }
    check_control(field, v)?;
    if v.contains(' ') {
        return Err(ScriptValueError::Whitespace {
            field,
            value: v.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keys() {
        assert_eq!(
            HostKey::parse_host("X3000c0s1b0n0").unwrap().key(),
            "x3000c0s1b0n0"
        );
        assert_eq!(
            HostKey::parse_host("Default").unwrap(),
            HostKey::Tag("Default".into())
        );
        assert_eq!(
            HostKey::parse_host("Unknown-x86_64").unwrap().key(),
            "Unknown-x86_64"
        );
        assert!(HostKey::parse_host("x3000c0s1b0").is_ok()); // a BMC is still an xname
        assert!(HostKey::parse_host("x3000c0s1b0q").is_err());
        assert!(HostKey::parse_host("bad host").is_err());
        assert!(HostKey::parse_host("").is_err());
        for k in ["x1c0s0b0n0", "aa:bb:cc:dd:ee:ff", "nid12", "Compute"] {
            assert_eq!(HostKey::from_key(k).key(), k);
        }
    }

    #[test]
    fn script_values() {
        assert!(check_params("params", "console=ttyS0,115200 root=\"a b\" ${net0/mac}").is_ok());
        assert!(matches!(
            check_params("params", "a\nchain http://evil"),
            Err(ScriptValueError::Control { byte: b'\n', .. })
        ));
        assert!(matches!(
            check_params("params", "quiet || shell"),
            Err(ScriptValueError::Separator { .. })
        ));
        assert!(matches!(
            check_params("params", "x=\"open"),
            Err(ScriptValueError::UnbalancedQuote { .. })
        ));
        assert!(check_params("params", "a||b").is_ok()); // not a word of its own
        assert!(check_path("kernel", "s3://boot-images/k").is_ok());
        assert!(matches!(
            check_path("kernel", "http://a b"),
            Err(ScriptValueError::Whitespace { .. })
        ));
    }
}
