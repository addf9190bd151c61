//! BOS v2 sessions and their extended status (reference bos.md §3.2, §3.3, §4.3).
//!
//! A session records an operation (boot, reboot, shutdown) over a template's nodes; the
//! session-setup operator turns it into desired states on components, and it completes when
//! none of its components is still enabled. `extended_status` is the pure computation
//! behind `GET /v2/sessions/{id}/status`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::boot_component::{BootComponent, timestamp};

pub const OPERATIONS: &[&str] = &["boot", "reboot", "shutdown"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// `pending`, `running` or `complete`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub operation: String,
    pub template_name: String,
    #[serde(default)]
    pub limit: String,
    #[serde(default)]
    pub stage: bool,
    #[serde(default)]
    pub components: String,
    #[serde(default)]
    pub include_disabled: bool,
    pub status: SessionState,
}

impl Session {
    pub fn started(&self) -> Option<DateTime<Utc>> {
        self.status
            .start_time
            .as_deref()
            .and_then(super::boot_component::parse_timestamp)
    }

    pub fn ended(&self) -> Option<DateTime<Utc>> {
        self.status
            .end_time
            .as_deref()
            .and_then(super::boot_component::parse_timestamp)
    }

    pub fn complete(&mut self, now: DateTime<Utc>, error: Option<String>) {
        self.status.status = "complete".into();
        self.status.end_time = Some(timestamp(now));
        if error.is_some() {
            self.status.error = error;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    pub percent_complete: f64,
    pub percent_powering_on: f64,
    pub percent_powering_off: f64,
    pub percent_configuring: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorEntry {
    pub count: u64,
    pub list: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub duration: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendedStatus {
    pub status: String,
    pub managed_components_count: u64,
    pub phases: Phases,
    pub percent_successful: f64,
    pub percent_failed: f64,
    pub percent_staged: f64,
    pub error_summary: std::collections::BTreeMap<String, ErrorEntry>,
    pub timing: Timing,
}

fn pct(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        ((n as f64) * 100.0 / total as f64 * 100.0).round() / 100.0
    }
}

/// Python's `str(timedelta)` for whole seconds: `H:MM:SS`, `N day(s), H:MM:SS`.
pub fn duration_string(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let hms = format!("{}:{:02}:{:02}", rem / 3600, (rem % 3600) / 60, rem % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        n => format!("{n} days, {hms}"),
    }
}

/// The extended status of `session` from the components it manages (`active`: those whose
/// `session` is it; `staged`: those whose `staged_state.session` is it).
pub fn extended_status(
    session: &Session,
    active: &[&BootComponent],
    staged: usize,
    now: DateTime<Utc>,
) -> ExtendedStatus {
    let total = active.len() + staged;
    let mut ok = 0;
    let mut failed = 0;
    let (mut on, mut off, mut cfg) = (0, 0, 0);
    let mut errors: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for c in active {
        match c.derived_status() {
            "stable" => ok += 1,
            "failed" => failed += 1,
            _ => {}
        }
        if c.enabled && c.status.status_override != "on_hold" {
            match c.status.phase.as_str() {
                "powering_on" => on += 1,
                "powering_off" => off += 1,
                "configuring" => cfg += 1,
                _ => {}
            }
        }
        if !c.error.is_empty() {
            errors.entry(c.error.clone()).or_default().push(&c.id);
        }
    }
    let error_summary = errors
        .into_iter()
        .map(|(e, mut ids)| {
            ids.sort();
            let mut list = ids.iter().take(10).copied().collect::<Vec<_>>().join(",");
            if ids.len() > 10 {
                list.push_str(",...");
            }
            (
                e,
                ErrorEntry {
                    count: ids.len() as u64,
                    list,
                },
            )
        })
        .collect();
    let start = session.started();
    let end = session.ended();
    let duration = match start {
        Some(s) => duration_string(end.unwrap_or(now) - s),
        None => "0:00:00".into(),
    };
    ExtendedStatus {
        status: session.status.status.clone(),
        managed_components_count: total as u64,
        phases: Phases {
            percent_complete: pct(ok + failed, total),
            percent_powering_on: pct(on, total),
            percent_powering_off: pct(off, total),
            percent_configuring: pct(cfg, total),
        },
        percent_successful: pct(ok, total),
        percent_failed: pct(failed, total),
        percent_staged: pct(staged, total),
        error_summary,
        timing: Timing {
            start_time: session.status.start_time.clone(),
            end_time: session.status.end_time.clone(),
            duration,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_python() {
        assert_eq!(duration_string(chrono::Duration::seconds(5)), "0:00:05");
        assert_eq!(duration_string(chrono::Duration::seconds(3723)), "1:02:03");
        assert_eq!(
            duration_string(chrono::Duration::seconds(86_400 + 1)),
            "1 day, 0:00:01"
        );
        assert_eq!(
            duration_string(chrono::Duration::seconds(2 * 86_400)),
            "2 days, 0:00:00"
        );
    }

    #[test]
    fn extended_status_counts() {
        let now = Utc::now();
        let s = Session {
            name: "s".into(),
            operation: "boot".into(),
            template_name: "t".into(),
            status: SessionState {
                status: "running".into(),
                start_time: Some(timestamp(now - chrono::Duration::seconds(61))),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut comps = Vec::new();
        for i in 0..12 {
            let mut c = BootComponent::discovered(&format!("x{i:02}"), now);
            c.session = "s".into();
            c.enabled = true;
            c.status.phase = "powering_on".into();
            if i < 11 {
                c.error = "boom".into();
                c.enabled = false;
                c.status.status_override = "failed".into();
            }
            comps.push(c);
        }
        let refs: Vec<&BootComponent> = comps.iter().collect();
        let st = extended_status(&s, &refs, 0, now);
        assert_eq!(st.managed_components_count, 12);
        assert_eq!(st.percent_failed, 91.67);
        assert_eq!(st.phases.percent_powering_on, 8.33);
        assert_eq!(st.error_summary["boom"].count, 11);
        assert!(st.error_summary["boom"].list.ends_with(",..."));
        assert_eq!(st.timing.duration, "0:01:01");
    }
}
