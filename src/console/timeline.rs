//! A node's boot timeline as a picture: one lane per step (power call → DHCP → TFTP →
//! script → kernel → initrd → report → configured), each event a bar as long as it took,
//! failures marked, details in each bar's tooltip, and the same events as a table below
//! for screen readers and for copying. Inline SVG drawn here: no chart library, no script.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::model::BootEvent;

/// The lanes, top to bottom: (label, which events go there).
const LANES: &[(&str, &[&str])] = &[
    ("power", &["power-on", "power-on-failed", "power-off"]),
    ("DHCP", &["dhcp"]),
    ("TFTP", &["tftp"]),
    ("script", &["bootscript"]),
    ("kernel", &["kernel"]),
    ("initrd", &["initrd"]),
    ("other", &[]),
    ("report", &["reported", "booted"]),
    ("configured", &["configured"]),
];

fn lane_of(what: &str) -> usize {
    LANES
        .iter()
        .position(|(_, w)| w.contains(&what))
        .unwrap_or(6)
}

/// Whether an event is a failure.
pub fn failed(e: &BootEvent) -> bool {
    e.what.ends_with("-failed") || matches!(e.outcome.as_str(), "failed" | "aborted")
}

/// Bytes for a person: `512 B`, `3.4 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

fn describe(e: &BootEvent) -> String {
    let mut s = format!("{} at {}", e.what, e.time.format("%H:%M:%S%.3f"));
    if e.bytes > 0 {
        s += &format!(", {}", bytes(e.bytes));
    }
    if e.duration_ms > 0 {
        s += &format!(" in {} ms", e.duration_ms);
    }
    if let Some(f) = &e.file {
        s += &format!(", {f}");
    }
    s += &format!(": {}", e.outcome);
    if e.repeats > 0 {
        s += &format!(" (and {} more times)", e.repeats);
    }
    if let Some(c) = &e.client {
        s += &format!(", from {c}");
    }
    s
}

const WIDTH: f64 = 960.0;
const LABEL: f64 = 90.0;
const ROW: f64 = 26.0;

/// The picture and the table of `events` (oldest first); `configured`: when the node's
/// configuration was last applied, if it is configured.
pub fn draw(events: &[BootEvent], configured: Option<DateTime<Utc>>) -> Markup {
    let mut all: Vec<BootEvent> = events.to_vec();
    if let Some(at) = configured {
        all.push(BootEvent {
            time: at,
            what: "configured".into(),
            bytes: 0,
            duration_ms: 0,
            client: None,
            outcome: "configured".into(),
            token: None,
            file: None,
            repeats: 0,
            last_time: None,
        });
        all.sort_by_key(|e| e.time);
    }
    if all.is_empty() {
        return html! { p { "No boot events yet: they appear as the node powers on, asks DHCP, fetches its script and artifacts and reports." } };
    }
    let start = all[0].time;
    let end = all
        .iter()
        .map(|e| {
            let last = e.last_time.unwrap_or(e.time);
            last.max(e.time + chrono::Duration::milliseconds(e.duration_ms as i64))
        })
        .max()
        .unwrap_or(start);
    let span_ms = ((end - start).num_milliseconds()).max(1000) as f64;
    let x = |t: DateTime<Utc>| {
        LABEL + (t - start).num_milliseconds() as f64 / span_ms * (WIDTH - LABEL - 10.0)
    };
    let height = ROW * LANES.len() as f64 + 24.0;
    let ticks: Vec<f64> = (0..=4).map(|i| f64::from(i) / 4.0).collect();
    html! {
        figure.timeline {
            svg viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-labelledby="tl-cap" {
                @for (i, (label, _)) in LANES.iter().enumerate() {
                    @let y = ROW * i as f64;
                    rect.lane x="0" y=(y) width=(WIDTH) height=(ROW) {}
                    text.lbl x="6" y=(y + ROW * 0.65) { (label) }
                }
                @for f in &ticks {
                    @let tx = LABEL + f * (WIDTH - LABEL - 10.0);
                    line.tick x1=(tx) x2=(tx) y1="0" y2=(ROW * LANES.len() as f64) {}
                    text.tickl x=(tx) y=(height - 6.0) text-anchor="middle" { (format!("+{:.1} s", f * span_ms / 1000.0)) }
                }
                @for e in &all {
                    @let lane = lane_of(&e.what);
                    @let x0 = x(e.time);
                    @let x1 = x(e.time + chrono::Duration::milliseconds(e.duration_ms as i64)).max(x0 + 4.0);
                    @let cls = if failed(e) { "ev bad" } else { "ev" };
                    g class=(cls) {
                        rect x=(format!("{x0:.1}")) y=(ROW * lane as f64 + 5.0) width=(format!("{:.1}", x1 - x0)) height=(ROW - 10.0) rx="2" {
                            title { (describe(e)) }
                        }
                        @if failed(e) {
                            text.mark x=(format!("{:.1}", x1 + 3.0)) y=(ROW * lane as f64 + ROW * 0.7) { "✕" }
                        }
                    }
                }
            }
            figcaption #tl-cap {
                "Boot timeline from " (start.format("%Y-%m-%d %H:%M:%S UTC")) ", "
                (format!("{:.1}", span_ms / 1000.0)) " s, " (all.len()) " events"
                @let bad = all.iter().filter(|e| failed(e)).count();
                @if bad > 0 { ", " strong { (bad) " failed" } }
            }
        }
        details.events {
            summary { "Every event" }
            table {
                thead { tr { th { "Time" } th { "Step" } th { "Bytes" } th { "Took" } th { "Outcome" } th { "Client" } } }
                tbody {
                    @for e in &all {
                        tr.bad[failed(e)] {
                            td { (e.time.format("%H:%M:%S%.3f")) }
                            td { (e.what) @if let Some(f) = &e.file { " " span.path { (f) } } }
                            td { @if e.bytes > 0 { (bytes(e.bytes)) } }
                            td { @if e.duration_ms > 0 { (e.duration_ms) " ms" } }
                            td { (e.outcome) @if e.repeats > 0 { " (×" (e.repeats + 1) ")" } }
                            td { (e.client.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(what: &str, ms_after: i64, duration_ms: u64, outcome: &str) -> BootEvent {
        let t0 = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        BootEvent {
            time: t0 + chrono::Duration::milliseconds(ms_after),
            what: what.into(),
            bytes: if what == "kernel" { 12_345_678 } else { 0 },
            duration_ms,
            client: Some("10.0.0.5".into()),
            outcome: outcome.into(),
            token: None,
            file: None,
            repeats: 0,
            last_time: None,
        }
    }

    #[test]
    fn each_step_is_a_bar_in_its_lane_and_failures_are_marked() {
        let events = [
            ev("power-on", 0, 300, "called"),
            ev("dhcp", 2_000, 0, "complete"),
            ev("bootscript", 3_000, 0, "complete"),
            ev("kernel", 3_100, 900, "complete"),
            ev("initrd", 4_000, 100, "aborted"),
        ];
        let at = events[4].time + chrono::Duration::seconds(6);
        let html = draw(&events, Some(at)).into_string();
        assert_eq!(html.matches("<g class=\"ev\">").count(), 5, "{html}");
        assert_eq!(html.matches("<g class=\"ev bad\">").count(), 1, "{html}");
        assert!(
            html.contains("kernel at 10:00:03.100, 12.3 MB in 900 ms: complete, from 10.0.0.5"),
            "{html}"
        );
        assert!(html.contains("10.0 s, 6 events"), "{html}");
        assert!(html.contains("1 failed"), "{html}");
    }

    #[test]
    fn no_events_says_so() {
        assert!(draw(&[], None).into_string().contains("No boot events yet"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3_400_000), "3.4 MB");
        assert_eq!(bytes(2_000_000_000), "2.0 GB");
    }
}
