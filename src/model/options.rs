//! BOS v2 options (`/apis/bos/v2/options`): every option with its default and limits
//! (docs/bos.md, "Options"), and the PATCH rule: known keys are checked and merged, anything
//! out of range is refused whole, nothing is half-applied. Keys BOS does not know are kept and
//! echoed, as BOS keeps them (its schema allows additional properties: sites store their own
//! keys there); they change nothing here.

use std::time::Duration;

/// An integer option: name, default, minimum, maximum.
const INTS: &[(&str, i64, i64, i64)] = &[
    ("bss_read_timeout", 20, 10, 86_400),
    ("cfs_read_timeout", 20, 10, 86_400),
    ("hsm_read_timeout", 20, 10, 86_400),
    ("ims_read_timeout", 20, 10, 86_400),
    ("pcs_read_timeout", 20, 10, 86_400),
    ("default_retry_policy", 3, 0, 1_048_576),
    ("discovery_frequency", 300, 0, 33_554_432),
    ("max_boot_wait_time", 1200, 0, 1_048_576),
    ("max_component_batch_size", 2800, 0, 131_071),
    ("max_power_off_wait_time", 300, 0, 1_048_576),
    ("max_power_on_wait_time", 120, 0, 1_048_576),
    ("polling_frequency", 15, 0, 1_048_576),
    // rackboot's own: how long a node must stay powered on after a complete initrd fetch
    // under its current token before that counts as booted (boot evidence, docs/architecture.md, "Knowing what a node booted").
    ("boot_evidence_wait", 10, 0, 86_400),
];

const BOOLS: &[(&str, bool)] = &[
    ("clear_stage", false),
    ("ims_errors_fatal", false),
    ("ims_images_must_exist", false),
    ("reject_nids", false),
    ("session_limit_required", false),
    // rackboot's own: infer actual state from boot evidence for nodes with no reporter.
    ("boot_evidence", true),
];

const LOG_LEVELS: &[&str] = &["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

/// The options as a JSON object with every default filled in.
pub fn defaults() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for (k, d, _, _) in INTS {
        m.insert(k.to_string(), (*d).into());
    }
    for (k, d) in BOOLS {
        m.insert(k.to_string(), (*d).into());
    }
    m.insert("cleanup_completed_session_ttl".into(), "7d".into());
    m.insert("component_actual_state_ttl".into(), "4h".into());
    m.insert("logging_level".into(), "INFO".into());
    m
}

/// The stored options with every default filled in (a site's own keys kept).
pub fn resolve(
    stored: Option<serde_json::Map<String, serde_json::Value>>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = defaults();
    out.extend(stored.unwrap_or_default());
    out
}

/// BOS's bound on the options object (`maxProperties` of V2Options).
const MAX_KEYS: usize = 1024;

/// `^(0|0[mMhHdDwW]|[1-9][0-9]*[mMhHdDwW])$`, at most 8 characters: a duration (zero allowed).
pub fn parse_age(s: &str) -> Option<Duration> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    if s == "0" {
        return Some(Duration::ZERO);
    }
    // The unit is the last character, which need not be one byte ("1é").
    let (last, _) = s.char_indices().last()?;
    let (num, unit) = s.split_at(last);
    if num.is_empty()
        || (num.starts_with('0') && num != "0")
        || !num.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let secs = match unit.to_ascii_lowercase().as_str() {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    Some(Duration::from_secs(n * secs))
}

/// Apply a PATCH to the stored options (defaults filled in). Every key is checked first;
/// an empty patch, a wrong type or a value out of range refuses the whole patch; a key BOS
/// does not know is stored as given.
pub fn patch(
    stored: &serde_json::Map<String, serde_json::Value>,
    body: &serde_json::Value,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let Some(p) = body.as_object() else {
        return Err("the options patch must be a JSON object".into());
    };
    if p.is_empty() {
        return Err("the options patch names no option (BOS requires at least one)".into());
    }
    let mut out = defaults();
    out.extend(stored.clone());
    for (k, v) in p {
        if let Some((_, _, min, max)) = INTS.iter().find(|(n, ..)| n == k) {
            let n = v
                .as_i64()
                .ok_or_else(|| format!("{k} must be an integer"))?;
            if n < *min || n > *max {
                return Err(format!("{k} must be between {min} and {max}, not {n}"));
            }
        } else if BOOLS.iter().any(|(n, _)| n == k) {
            if !v.is_boolean() {
                return Err(format!("{k} must be true or false"));
            }
        } else if k == "cleanup_completed_session_ttl" {
            let s = v.as_str().ok_or_else(|| format!("{k} must be a string"))?;
            parse_age(s).ok_or_else(|| {
                format!("{k} '{s}' is not an age such as 30m, 12h, 7d or 2w (0 disables cleanup)")
            })?;
        } else if k == "component_actual_state_ttl" {
            let s = v.as_str().ok_or_else(|| format!("{k} must be a string"))?;
            let ok = parse_age(s).is_some_and(|d| d >= Duration::from_secs(3600))
                && !s.ends_with(['m', 'M']);
            if !ok {
                return Err(format!(
                    "{k} '{s}' must be at least one hour, in hours, days or weeks (e.g. 4h)"
                ));
            }
        } else if k == "logging_level" {
            let s = v.as_str().ok_or_else(|| format!("{k} must be a string"))?;
            let up = s.to_ascii_uppercase();
            if !LOG_LEVELS.contains(&up.as_str()) {
                return Err(format!("{k} '{s}' is not one of {}", LOG_LEVELS.join(", ")));
            }
        }
    }
    for (k, v) in p {
        let v = if k == "logging_level" {
            v.as_str().expect("checked").to_ascii_uppercase().into()
        } else {
            v.clone()
        };
        out.insert(k.clone(), v);
    }
    if out.len() > MAX_KEYS {
        return Err(format!(
            "the options would have {} keys; BOS allows {MAX_KEYS}",
            out.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_bos_defaults() {
        let d = defaults();
        assert_eq!(d["max_power_off_wait_time"], 300);
        assert_eq!(d["default_retry_policy"], 3);
        assert_eq!(d["component_actual_state_ttl"], "4h");
        assert_eq!(d["reject_nids"], false);
        // BOS's 20 options and rackboot's two (boot_evidence, boot_evidence_wait).
        assert_eq!(d.len(), 22);
        assert_eq!(
            (d["boot_evidence"].clone(), d["boot_evidence_wait"].clone()),
            (true.into(), 10.into())
        );
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("0"), Some(Duration::ZERO));
        assert_eq!(parse_age("0d"), Some(Duration::ZERO));
        assert_eq!(parse_age("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("4H"), Some(Duration::from_secs(4 * 3600)));
        for bad in [
            "",
            "07d",
            "7",
            "7y",
            "d",
            "123456789m",
            "1é",
            "é",
            "1\u{10000}",
        ] {
            assert_eq!(parse_age(bad), None, "{bad}");
        }
    }

    #[test]
    fn patches_are_checked_whole() {
        let stored = defaults();
        let p = patch(
            &stored,
            &json!({"polling_frequency": 5, "logging_level": "debug"}),
        )
        .unwrap();
        assert_eq!(p["polling_frequency"], 5);
        assert_eq!(p["logging_level"], "DEBUG");
        for (body, needle) in [
            (json!({"bss_read_timeout": 5}), "between 10 and 86400"),
            (json!({"reject_nids": "yes"}), "true or false"),
            (
                json!({"component_actual_state_ttl": "30m"}),
                "at least one hour",
            ),
            (
                json!({"cleanup_completed_session_ttl": "soon"}),
                "not an age",
            ),
            (json!({"cleanup_completed_session_ttl": "1é"}), "not an age"),
            (json!({}), "names no option"),
        ] {
            let e = patch(&stored, &body).unwrap_err();
            assert!(e.contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn a_sites_own_keys_are_kept() {
        let p = patch(&defaults(), &json!({"site_note": {"a": 1}})).unwrap();
        assert_eq!(p["site_note"], json!({"a": 1}));
        assert_eq!(resolve(Some(p))["site_note"], json!({"a": 1}));
    }
}

/// The options the operators and use cases act on, read from the stored JSON (anything
/// missing or unreadable falls back to its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub default_retry_policy: u32,
    pub max_boot_wait: Duration,
    pub max_power_on_wait: Duration,
    pub max_power_off_wait: Duration,
    pub max_component_batch_size: usize,
    pub cleanup_completed_session_ttl: Duration,
    pub component_actual_state_ttl: Duration,
    pub clear_stage: bool,
    pub reject_nids: bool,
    pub session_limit_required: bool,
    pub boot_evidence: bool,
    pub boot_evidence_wait: Duration,
}

impl Options {
    pub fn from_json(stored: &serde_json::Map<String, serde_json::Value>) -> Options {
        let d = defaults();
        let get = |k: &str| stored.get(k).or_else(|| d.get(k)).cloned();
        let int = |k: &str| {
            get(k)
                .and_then(|v| v.as_i64())
                .or_else(|| d.get(k).and_then(|v| v.as_i64()))
                .unwrap_or(0)
                .max(0) as u64
        };
        let boolean = |k: &str| get(k).and_then(|v| v.as_bool()).unwrap_or(false);
        let age = |k: &str| {
            get(k)
                .and_then(|v| v.as_str().and_then(parse_age))
                .or_else(|| d.get(k).and_then(|v| v.as_str()).and_then(parse_age))
                .unwrap_or(Duration::ZERO)
        };
        let ttl = age("component_actual_state_ttl");
        Options {
            default_retry_policy: int("default_retry_policy") as u32,
            max_boot_wait: Duration::from_secs(int("max_boot_wait_time")),
            max_power_on_wait: Duration::from_secs(int("max_power_on_wait_time")),
            max_power_off_wait: Duration::from_secs(int("max_power_off_wait_time")),
            max_component_batch_size: int("max_component_batch_size") as usize,
            cleanup_completed_session_ttl: age("cleanup_completed_session_ttl"),
            // Stored values below an hour are ignored, as BOS 2.50 does.
            component_actual_state_ttl: if ttl >= Duration::from_secs(3600) {
                ttl
            } else {
                Duration::from_secs(4 * 3600)
            },
            clear_stage: boolean("clear_stage"),
            reject_nids: boolean("reject_nids"),
            session_limit_required: boolean("session_limit_required"),
            boot_evidence: boolean("boot_evidence"),
            boot_evidence_wait: Duration::from_secs(int("boot_evidence_wait")),
        }
    }

    /// `bos_update_frequency=` as BOS writes it: the TTL option's text.
    pub fn update_frequency(stored: &serde_json::Map<String, serde_json::Value>) -> String {
        stored
            .get("component_actual_state_ttl")
            .and_then(|v| v.as_str())
            .filter(|s| {
                parse_age(s).is_some_and(|d| d >= Duration::from_secs(3600))
                    && !s.ends_with(['m', 'M'])
            })
            .unwrap_or("4h")
            .to_string()
    }
}
