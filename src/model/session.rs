//! BOS v2 sessions and their extended status (docs/bos.md, "Sessions").
//!
//! A session records an operation (boot, reboot, shutdown) over a template's nodes; the
//! session-setup operator turns it into desired states on components, and it completes when
//! none of its components is still enabled. `extended_status` is the pure computation
//! behind `GET /v2/sessions/{id}/status`.

use chrono::{DateTime, Utc};

use super::boot_component::{BootComponent, timestamp};
pub use super::bos_state::{Operation, SessionStatus};
use super::bos_state::{Phase, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub status: SessionStatus,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub name: String,
    pub tenant: Option<String>,
    pub operation: Operation,
    pub template_name: String,
    pub limit: String,
    pub stage: bool,
    /// The nodes session setup found, comma-separated.
    pub components: String,
    pub include_disabled: bool,
    pub status: SessionState,
    /// Set when the session runs a BOS v1 session (`bos_v1`).
    pub v1: Option<super::bos_v1::V1Run>,
}

/// What a client asks for when it creates a session (validated by the use case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub name: Option<String>,
    pub operation: Operation,
    pub template_name: String,
    pub limit: Option<String>,
    pub stage: bool,
    pub include_disabled: bool,
    /// A BOS v1 session's plan (`bos_v1`); `None` for a v2 session.
    pub v1: Option<super::bos_v1::V1Run>,
}

/// The internal session PATCH: `status` merged field by field, `components` replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPatch {
    pub components: Option<String>,
    pub status: Option<SessionStatePatch>,
}

/// `Some(None)` clears a time or the error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStatePatch {
    pub status: Option<SessionStatus>,
    pub start_time: Option<Option<String>>,
    pub end_time: Option<Option<String>>,
    pub error: Option<Option<String>>,
}

impl SessionPatch {
    pub fn apply(&self, s: &mut Session) {
        if let Some(c) = &self.components {
            s.components = c.clone();
        }
        if let Some(p) = &self.status {
            if let Some(st) = p.status {
                s.status.status = st;
            }
            if let Some(t) = &p.start_time {
                s.status.start_time = t.clone();
            }
            if let Some(t) = &p.end_time {
                s.status.end_time = t.clone();
            }
            if let Some(e) = &p.error {
                s.status.error = e.clone();
            }
        }
    }
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

    pub fn is(&self, status: SessionStatus) -> bool {
        self.status.status == status
    }

    /// The store key of its tenant ("" for none).
    pub fn tenant_key(&self) -> &str {
        self.tenant.as_deref().unwrap_or("")
    }

    pub fn complete(&mut self, now: DateTime<Utc>, error: Option<String>) {
        self.status.status = SessionStatus::Complete;
        self.status.end_time = Some(timestamp(now));
        if error.is_some() {
            self.status.error = error;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phases {
    pub percent_complete: f64,
    pub percent_powering_on: f64,
    pub percent_powering_off: f64,
    pub percent_configuring: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorEntry {
    pub count: u64,
    pub list: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub duration: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedStatus {
    pub status: SessionStatus,
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
        if c.undriven() {
            failed += 1;
        } else if c.derived_status() == Status::Stable {
            ok += 1;
        }
        if c.enabled && !c.overridden(Status::OnHold) {
            match c.status.phase {
                Phase::PoweringOn => on += 1,
                Phase::PoweringOff => off += 1,
                Phase::Configuring => cfg += 1,
                Phase::None => {}
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
        status: session.status.status,
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
            tenant: None,
            operation: Operation::Boot,
            template_name: "t".into(),
            limit: String::new(),
            stage: false,
            components: String::new(),
            include_disabled: false,
            status: SessionState {
                status: SessionStatus::Running,
                start_time: Some(timestamp(now - chrono::Duration::seconds(61))),
                end_time: None,
                error: None,
            },
            v1: None,
        };
        let mut comps = Vec::new();
        for i in 0..12 {
            let mut c = BootComponent::discovered(&format!("x{i:02}"), now);
            c.session = "s".into();
            c.enabled = true;
            c.status.phase = Phase::PoweringOn;
            if i < 11 {
                c.error = "boom".into();
                c.enabled = false;
                c.set_override(Some(Status::Failed));
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

    #[test]
    fn nodes_on_hold_by_an_error_count_as_failed_and_an_admins_hold_does_not() {
        let now = Utc::now();
        let s = Session {
            name: "s".into(),
            tenant: None,
            operation: crate::model::Operation::Boot,
            template_name: "t".into(),
            limit: String::new(),
            stage: false,
            components: String::new(),
            include_disabled: false,
            status: SessionState {
                status: SessionStatus::Complete,
                start_time: Some(timestamp(now)),
                end_time: Some(timestamp(now)),
                error: None,
            },
            v1: None,
        };
        let mut comps = Vec::new();
        for (i, error) in [
            "",
            "Component information was not returned by the BMC: x",
            "",
        ]
        .iter()
        .enumerate()
        {
            let mut c = BootComponent::discovered(&format!("x{i}"), now);
            c.session = "s".into();
            c.error = error.to_string();
            if i < 2 {
                c.enabled = false;
                c.set_override(Some(Status::OnHold));
            }
            comps.push(c);
        }
        let refs: Vec<&BootComponent> = comps.iter().collect();
        let st = extended_status(&s, &refs, 0, now);
        assert_eq!(st.percent_failed, 33.33);
        assert_eq!(st.percent_successful, 33.33);
        assert_eq!(st.phases.percent_complete, 66.67);
    }
}
