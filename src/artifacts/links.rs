//! Which artifacts a node's boot names, and the URLs it gets for them instead.
//!
//! Boot parameters name artifacts as `s3://bucket/key`: the kernel, the initrd, and root
//! filesystems inside the kernel parameters (`root=live:s3://…`, `metal.server=s3://…`,
//! `nmd_data=url=s3://…,etag=…`). A node gets `<advertise>/artifacts/<token>/<name>` for each
//! instead, where the token is per node and per boot-parameter write, and the name is
//! `kernel`, `initrd`, `rootfs` (then `rootfs-2`, …). http(s) URLs given by the admin pass
//! through untouched. Pure functions: the boot read model and the script renderer share them.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::ObjectRef;

/// Parameter prefixes whose value may be an `s3://` root filesystem.
const PARAM_PREFIXES: &[&str] = &["root=live:", "metal.server=", "nmd_data=url="];

/// The artifacts a boot names, by the name a node fetches them under.
pub fn artifact_names(kernel: &str, initrd: &str, params: &str) -> BTreeMap<String, ObjectRef> {
    let mut out = BTreeMap::new();
    if let Ok(k) = ObjectRef::parse(kernel) {
        out.insert("kernel".to_string(), k);
    }
    if let Ok(i) = ObjectRef::parse(initrd) {
        out.insert("initrd".to_string(), i);
    }
    for (name, obj) in param_objects(params) {
        out.insert(name, obj);
    }
    out
}

/// `s3://` values in the kernel parameters, named `rootfs`, `rootfs-2`, … in order of
/// first appearance (the same object twice gets one name).
fn param_objects(params: &str) -> Vec<(String, ObjectRef)> {
    let mut out: Vec<(String, ObjectRef)> = Vec::new();
    for word in params.split_whitespace() {
        let Some((_, value)) = split_param(word) else {
            continue;
        };
        let raw = value.split(',').next().unwrap_or(value);
        let Ok(obj) = ObjectRef::parse(raw) else {
            continue;
        };
        if out.iter().any(|(_, o)| *o == obj) {
            continue;
        }
        let name = match out.len() {
            0 => "rootfs".to_string(),
            n => format!("rootfs-{}", n + 1),
        };
        out.push((name, obj));
    }
    out
}

fn split_param(word: &str) -> Option<(&str, &str)> {
    PARAM_PREFIXES
        .iter()
        .find_map(|p| word.strip_prefix(p).map(|rest| (*p, rest)))
}

/// Kernel URL, initrd URL and parameters with every `s3://` artifact replaced by its
/// `prefix/<name>` URL (`prefix` is `<advertise>/artifacts/<token>`).
pub fn rewrite(kernel: &str, initrd: &str, params: &str, prefix: &str) -> (String, String, String) {
    let k = if ObjectRef::parse(kernel).is_ok() {
        format!("{prefix}/kernel")
    } else {
        kernel.to_string()
    };
    let i = if ObjectRef::parse(initrd).is_ok() {
        format!("{prefix}/initrd")
    } else {
        initrd.to_string()
    };
    let objects = param_objects(params);
    let words: Vec<String> = params
        .split_whitespace()
        .map(|word| {
            let Some((p, value)) = split_param(word) else {
                return word.to_string();
            };
            let (raw, rest) = match value.find(',') {
                Some(at) => (&value[..at], &value[at..]),
                None => (value, ""),
            };
            match ObjectRef::parse(raw)
                .ok()
                .and_then(|o| objects.iter().find(|(_, x)| *x == o))
            {
                Some((name, _)) => format!("{p}{prefix}/{name}{rest}"),
                None => word.to_string(),
            }
        })
        .collect();
    (k, i, words.join(" "))
}

/// A node's artifact token: unguessable without the appliance's secret, different for every
/// node and every boot-parameter write (`version` is the write's referral token).
pub fn token(secret: &[u8], node: &str, version: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret);
    h.update(b"\0");
    h.update(node.as_bytes());
    h.update(b"\0");
    h.update(version.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_artifacts_are_named_and_rewritten_and_http_passes_through() {
        let params = "console=ttyS0 root=live:s3://boot-images/i1/rootfs nmd_data=url=s3://boot-images/i1/rootfs,etag=abc metal.server=s3://other/r2 ip=dhcp";
        let names = artifact_names("s3://boot-images/i1/kernel", "http://x/initrd", params);
        let got: Vec<(&str, String)> = names
            .iter()
            .map(|(n, o)| (n.as_str(), o.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("kernel", "s3://boot-images/i1/kernel".to_string()),
                ("rootfs", "s3://boot-images/i1/rootfs".to_string()),
                ("rootfs-2", "s3://other/r2".to_string()),
            ]
        );
        let (k, i, p) = rewrite(
            "s3://boot-images/i1/kernel",
            "http://x/initrd",
            params,
            "http://a/artifacts/T",
        );
        assert_eq!(k, "http://a/artifacts/T/kernel");
        assert_eq!(i, "http://x/initrd");
        assert_eq!(
            p,
            "console=ttyS0 root=live:http://a/artifacts/T/rootfs nmd_data=url=http://a/artifacts/T/rootfs,etag=abc metal.server=http://a/artifacts/T/rootfs-2 ip=dhcp"
        );
    }

    #[test]
    fn tokens_differ_by_node_version_and_secret() {
        let t = token(b"s", "x1c0s0b0n0", "v1");
        assert_eq!(t.len(), 32);
        assert_ne!(t, token(b"s", "x1c0s0b0n1", "v1"));
        assert_ne!(t, token(b"s", "x1c0s0b0n0", "v2"));
        assert_ne!(t, token(b"t", "x1c0s0b0n0", "v1"));
    }
}
