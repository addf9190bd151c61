//! Deterministic rewriting of the MAC addresses and UUIDs in a recorded tree, so that many
//! BMCs replayed from one tree (or many nodes derived from one recorded node) never share a
//! MAC or a UUID, as no real site does.
//!
//! Only values are rewritten, and only under keys that name a MAC (`MACAddress`,
//! `PermanentMACAddress`, `MacAddress`, ...) or a UUID (`UUID`, `ServiceEntryPointUUID`, ...):
//! the recorded trees also hold UUID-shaped resource Ids and device-class GUIDs, which must stay
//! as recorded, and links never change. Each new value is a hash of (seed, old value), so the
//! same MAC appearing in two documents (a NIC and its port) stays the same MAC after rewriting;
//! the text's shape (separator, letter case) is kept. Hand-written rather than a regex: the two
//! shapes are fixed-width and checked in a few lines.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Rewrite every MAC and UUID value under `v` with `seed`. Seed 0 leaves the tree as recorded.
pub(crate) fn rewrite(v: &mut Value, seed: u64) {
    if seed == 0 {
        return;
    }
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(s) if is_mac_key(key) && is_mac(s) => *s = new_mac(s, seed),
                    Value::String(s) if key.ends_with("UUID") && is_uuid(s) => {
                        *s = new_uuid(s, seed)
                    }
                    _ => rewrite(value, seed),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, seed)),
        _ => {}
    }
}

fn is_mac_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("macaddress")
}

/// `xx:xx:xx:xx:xx:xx` or `xx-xx-xx-xx-xx-xx`, any letter case.
pub(crate) fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':' || *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// `8-4-4-4-12` hex digits, any letter case.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn digest(seed: u64, old: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(old.to_ascii_lowercase().as_bytes());
    h.finalize().into()
}

/// Put the hex digits of `bytes` into the shape of `old` (separators kept, case followed).
fn shaped(old: &str, bytes: &[u8]) -> String {
    let upper = old.chars().any(|c| c.is_ascii_uppercase());
    let mut digits = super::super::tls::hex(bytes).into_bytes().into_iter();
    old.chars()
        .map(|c| {
            if c.is_ascii_hexdigit() {
                let d = char::from(digits.next().unwrap_or(b'0'));
                if upper { d.to_ascii_uppercase() } else { d }
            } else {
                c
            }
        })
        .collect()
}

fn new_mac(old: &str, seed: u64) -> String {
    // The same MAC written with dashes is the same MAC.
    let canonical = old.replace('-', ":");
    let mut b: [u8; 6] = digest(seed, &canonical)[..6].try_into().expect("32 >= 6");
    b[0] = (b[0] & 0xfe) | 0x02; // unicast, locally administered
    shaped(old, &b)
}

fn new_uuid(old: &str, seed: u64) -> String {
    let mut b: [u8; 16] = digest(seed, old)[..16].try_into().expect("32 >= 16");
    b[6] = (b[6] & 0x0f) | 0x50; // version 5 (name-based, SHA)
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    shaped(old, &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rewrites_macs_and_uuids_only_under_their_keys() {
        let mut doc = json!({
            "Id": "24C5E8D6-7D92-4E54-916E-FEE44013F13F",
            "UUID": "24c5e8d6-7d92-4e54-916e-fee44013f13f",
            "MACAddress": "B4:7A:F1:3B:0E:DE",
            "Nested": [{"PermanentMACAddress": "b4-7a-f1-3b-0e-de", "MACAddress": "Not Available"}],
            "DeviceClass": "4d36e972-e325-11ce-bfc1-08002be10318",
        });
        let before = doc.clone();
        rewrite(&mut doc, 0);
        assert_eq!(doc, before, "seed 0 keeps the recording");
        rewrite(&mut doc, 7);
        assert_eq!(doc["Id"], before["Id"]);
        assert_eq!(doc["DeviceClass"], before["DeviceClass"]);
        assert_eq!(doc["Nested"][0]["MACAddress"], "Not Available");
        let mac = doc["MACAddress"].as_str().unwrap();
        assert!(is_mac(mac) && mac != "B4:7A:F1:3B:0E:DE", "{mac}");
        assert_eq!(mac, mac.to_ascii_uppercase());
        let permanent = doc["Nested"][0]["PermanentMACAddress"].as_str().unwrap();
        assert_eq!(permanent, mac.to_ascii_lowercase().replace(':', "-"));
        let uuid = doc["UUID"].as_str().unwrap();
        assert!(is_uuid(uuid) && uuid != before["UUID"], "{uuid}");
        let mut again = before.clone();
        rewrite(&mut again, 7);
        assert_eq!(again, doc, "deterministic");
        let mut other = before;
        rewrite(&mut other, 8);
        assert_ne!(other["MACAddress"], doc["MACAddress"]);
    }
}
