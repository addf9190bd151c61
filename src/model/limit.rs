//! The BOS session `limit` grammar: which of a boot set's nodes a session acts on.
//!
//! Comma-separated items are applied left to right to an initially empty set: a plain item
//! adds (union), `&item` keeps only what it also names (intersection), `!item` removes
//! (difference). An item is `all`/`*` (every node of the boot set), a name that resolves
//! to nodes (an inventory group or partition, a role, or `Role_SubRole`), or else a literal
//! xname, taken as written (BOS neither canonicalises nor validates it). The result is then
//! intersected with the boot set. An empty limit means no limit. As in BOS, a leading `&`
//! item intersects the empty set and yields nothing (docs/bos.md, "Session setup").

use std::collections::BTreeSet;

/// Apply `limit` to `boot_set`; `resolve` maps a name to its member xnames, or `None` when
/// the name is not a group, partition, role or `Role_SubRole`.
pub fn apply(
    limit: &str,
    boot_set: &BTreeSet<String>,
    resolve: impl Fn(&str) -> Option<BTreeSet<String>>,
) -> BTreeSet<String> {
    if limit.trim().is_empty() {
        return boot_set.clone();
    }
    let mut acc: BTreeSet<String> = BTreeSet::new();
    for raw in limit.split(',') {
        let item = raw.trim();
        if item.is_empty() {
            continue;
        }
        let (op, name) = match item.as_bytes()[0] {
            b'&' => ('&', &item[1..]),
            b'!' => ('!', &item[1..]),
            _ => ('+', item),
        };
        let members: BTreeSet<String> = if name == "all" || name == "*" {
            boot_set.clone()
        } else if let Some(m) = resolve(name) {
            m
        } else {
            BTreeSet::from([name.to_string()])
        };
        match op {
            '&' => acc.retain(|x| members.contains(x)),
            '!' => acc.retain(|x| !members.contains(x)),
            _ => acc.extend(members),
        }
    }
    acc.intersection(boot_set).cloned().collect()
}

/// Items that look like NIDs (`nid000001`, `&nid5`, …), which BOS warns about or, with
/// `reject_nids`, refuses.
pub fn nid_items(limit: &str) -> Vec<String> {
    limit
        .split(',')
        .map(str::trim)
        .filter(|i| i.trim_start_matches(['&', '!']).starts_with("nid"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn resolve(name: &str) -> Option<BTreeSet<String>> {
        match name {
            "rack1" => Some(set(&["x1c0s0b0n0", "x1c0s0b0n1", "x1c0s1b0n0"])),
            "Compute" => Some(set(&["x1c0s0b0n0", "x1c0s0b0n1", "x9c0s0b0n0"])),
            "Compute_Worker" => Some(set(&["x1c0s0b0n1"])),
            _ => None,
        }
    }

    fn boot_set() -> BTreeSet<String> {
        set(&["x1c0s0b0n0", "x1c0s0b0n1", "x1c0s1b0n0", "x1c0s1b0n1"])
    }

    #[test]
    fn empty_limit_is_the_whole_boot_set() {
        assert_eq!(apply("", &boot_set(), resolve), boot_set());
        assert_eq!(apply("  ", &boot_set(), resolve), boot_set());
    }

    #[test]
    fn union_intersection_and_difference_left_to_right() {
        assert_eq!(apply("all", &boot_set(), resolve), boot_set());
        assert_eq!(
            apply("*,!rack1", &boot_set(), resolve),
            set(&["x1c0s1b0n1"])
        );
        assert_eq!(
            apply("rack1,&Compute", &boot_set(), resolve),
            set(&["x1c0s0b0n0", "x1c0s0b0n1"])
        );
        assert_eq!(
            apply("Compute,!Compute_Worker", &boot_set(), resolve),
            set(&["x1c0s0b0n0"])
        );
        // Order matters: removing first, then adding, adds back.
        assert_eq!(
            apply("!Compute_Worker,Compute", &boot_set(), resolve),
            set(&["x1c0s0b0n0", "x1c0s0b0n1"])
        );
    }

    #[test]
    fn literal_xnames_and_the_boot_set_bound() {
        // Not in the boot set: dropped. Literal names are taken as written.
        assert_eq!(apply("x9c0s0b0n0", &boot_set(), resolve), set(&[]));
        assert_eq!(
            apply("x1c0s1b0n1", &boot_set(), resolve),
            set(&["x1c0s1b0n1"])
        );
        assert_eq!(apply("X1C0S1B0N1", &boot_set(), resolve), set(&[]));
        // A role reaching outside the boot set is bounded by it.
        assert_eq!(
            apply("Compute", &boot_set(), resolve),
            set(&["x1c0s0b0n0", "x1c0s0b0n1"])
        );
    }

    #[test]
    fn a_leading_intersection_yields_nothing() {
        assert_eq!(apply("&rack1", &boot_set(), resolve), set(&[]));
        assert_eq!(apply("!rack1", &boot_set(), resolve), set(&[]));
    }

    #[test]
    fn nid_looking_items_are_found() {
        assert_eq!(
            nid_items("x1,nid000001,&nid2,!rack1"),
            ["nid000001", "&nid2"]
        );
    }
}
