//! CFS's checks of a configuration body: every problem, each naming its field.

use super::CfsConfiguration;

fn is_commit(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn no_space_or_semicolon(s: &str) -> bool {
    !s.chars().any(|c| c.is_whitespace() || c == ';')
}

/// Every problem with a configuration body, each naming its field (`layers[0].commit`).
/// Branches are allowed here; they are resolved to commits before storing.
pub fn check_configuration(c: &CfsConfiguration) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, l) in c.layers.iter().enumerate() {
        let at = |f: &str| format!("layers[{i}].{f}");
        check_source(
            &mut out,
            &at(""),
            l.name.as_deref(),
            l.clone_url.as_deref(),
            l.source.as_deref(),
            l.commit.as_deref(),
            l.branch.as_deref(),
        );
        match l.playbook.as_deref() {
            None | Some("") => out.push(format!("{}: a playbook is required", at("playbook"))),
            Some(p) if !no_space_or_semicolon(p) => out.push(format!(
                "{}: '{p}' must not contain white space or ';'",
                at("playbook")
            )),
            Some(_) => {}
        }
        let key = (l.clone_url.clone().or(l.source.clone()), l.playbook.clone());
        if !seen.insert(key) {
            out.push(format!(
                "{}: two or more layers apply the same playbook from the same repository",
                at("playbook")
            ));
        }
    }
    if let Some(inv) = &c.additional_inventory {
        check_source(
            &mut out,
            "additional_inventory.",
            inv.name.as_deref(),
            inv.clone_url.as_deref(),
            inv.source.as_deref(),
            inv.commit.as_deref(),
            inv.branch.as_deref(),
        );
    }
    if c.description.as_deref().is_some_and(|d| d.len() > 1023) {
        out.push("description: longer than 1023 characters".into());
    }
    out
}

fn check_source(
    out: &mut Vec<String>,
    prefix: &str,
    name: Option<&str>,
    clone_url: Option<&str>,
    source: Option<&str>,
    commit: Option<&str>,
    branch: Option<&str>,
) {
    if let Some(n) = name
        && (n.is_empty() || n.chars().count() > 45)
    {
        out.push(format!("{prefix}name: must be 1 to 45 characters"));
    }
    match (clone_url, source) {
        (Some(_), Some(_)) => out.push(format!(
            "{prefix}clone_url: only one of clone_url and source may be given"
        )),
        (None, None) => out.push(format!(
            "{prefix}clone_url: one of clone_url and source is required"
        )),
        (Some(u), None) if u.is_empty() || !no_space_or_semicolon(u) => out.push(format!(
            "{prefix}clone_url: '{u}' must be non-empty, without white space or ';'"
        )),
        _ => {}
    }
    match (commit, branch) {
        (Some(_), Some(_)) => out.push(format!(
            "{prefix}commit: only one of commit and branch may be given"
        )),
        (Some(c), None) if !is_commit(c) => out.push(format!(
            "{prefix}commit: '{c}' is not a 40-character lowercase hexadecimal commit id"
        )),
        (None, Some(b)) if b.is_empty() || !no_space_or_semicolon(b) => out.push(format!(
            "{prefix}branch: '{b}' must be non-empty, without white space or ';'"
        )),
        _ => {}
    }
}
