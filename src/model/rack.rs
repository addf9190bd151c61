//! The web console's view of a node at a glance: one [`TileState`] from what BOS, the power
//! monitor and the BMC's circuit breaker say, and where the node sits in the rack (cabinet →
//! chassis → slot, read from its xname). Pure, so the rules are tested without a server and
//! the rack view, its live updates and its filters all agree.

use crate::model::power::{PowerSample, PowerState};
use crate::model::{BootComponent, Status};

/// What a node's tile says. Ordered by how much it asks for attention, first most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TileState {
    /// Its BMC cannot be asked (the last reading failed, or its circuit is open).
    Unreachable,
    /// BOS gave up on it, or its last power action failed.
    Failed,
    /// A power action is pending or on its way (off or on), or BOS waits for a reading.
    Powering,
    /// Powered on for a boot; not yet reported as booted.
    Booting,
    /// Booted; its configuration is being applied.
    Configuring,
    /// On, with nothing left to do.
    Stable,
    /// Off, with nothing left to do.
    Off,
    /// No power reading yet and nothing BOS is doing.
    Unknown,
}

impl TileState {
    pub const ALL: [TileState; 8] = [
        TileState::Unreachable,
        TileState::Failed,
        TileState::Powering,
        TileState::Booting,
        TileState::Configuring,
        TileState::Stable,
        TileState::Off,
        TileState::Unknown,
    ];

    /// The name in URLs, CSS classes and live updates.
    pub fn as_str(self) -> &'static str {
        match self {
            TileState::Unreachable => "unreachable",
            TileState::Failed => "failed",
            TileState::Powering => "powering",
            TileState::Booting => "booting",
            TileState::Configuring => "configuring",
            TileState::Stable => "stable",
            TileState::Off => "off",
            TileState::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<TileState> {
        TileState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The words for a person (legend, tooltips, screen readers).
    pub fn label(self) -> &'static str {
        match self {
            TileState::Unreachable => "BMC unreachable",
            TileState::Failed => "failed",
            TileState::Powering => "powering",
            TileState::Booting => "booting",
            TileState::Configuring => "configuring",
            TileState::Stable => "stable (on)",
            TileState::Off => "off",
            TileState::Unknown => "unknown",
        }
    }

    /// A glyph that says the state without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            TileState::Unreachable => "?",
            TileState::Failed => "✕",
            TileState::Powering => "↻",
            TileState::Booting => "▲",
            TileState::Configuring => "⚙",
            TileState::Stable => "✓",
            TileState::Off => "○",
            TileState::Unknown => "·",
        }
    }
}

/// A node's tile state. `bmc_open`: its BMC's circuit breaker is open.
pub fn classify(
    boot: Option<&BootComponent>,
    power: Option<&PowerSample>,
    bmc_open: bool,
) -> TileState {
    if bmc_open || power.is_some_and(|p| !p.available) {
        return TileState::Unreachable;
    }
    let power_state = power.map(|p| p.state);
    if let Some(c) = boot {
        if c.undriven() || c.last_action.failed {
            return TileState::Failed;
        }
        match c.derived_status() {
            Status::Failed => return TileState::Failed,
            Status::PowerOnPending
            | Status::PowerOffPending
            | Status::PowerOffGracefullyCalled
            | Status::PowerOffForcefullyCalled
            | Status::OnHold => return TileState::Powering,
            Status::PowerOnCalled => return TileState::Booting,
            Status::Configuring => return TileState::Configuring,
            Status::Stable => {}
        }
    }
    match power_state {
        Some(PowerState::On) => TileState::Stable,
        Some(PowerState::Off) => TileState::Off,
        Some(PowerState::Transition) => TileState::Powering,
        Some(PowerState::Undefined) | None => TileState::Unknown,
    }
}

/// Where a node sits: its cabinet (`x1000`), chassis (`x1000c0`) and slot (`x1000c0s3`),
/// each a prefix of its xname. A name without one of those parts has it empty.
pub fn location(xname: &str) -> (&str, &str, &str) {
    let cut = |from: usize, mark: u8| -> usize {
        let b = xname.as_bytes();
        let mut i = from;
        while i < b.len() && b[i] != mark {
            i += 1;
        }
        i
    };
    let c = cut(1, b'c');
    let s = cut(c, b's');
    let b = cut(s, b'b');
    (&xname[..c], &xname[..s], &xname[..b])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Xname;

    fn sample(state: PowerState, available: bool) -> PowerSample {
        PowerSample {
            xname: Xname::parse("x1000c0s0b0n0").unwrap(),
            state,
            available,
            error: (!available).then(|| "connection refused".into()),
            supported: vec![],
            updated: chrono::Utc::now(),
        }
    }

    fn component() -> BootComponent {
        BootComponent::discovered("x1000c0s0b0n0", chrono::Utc::now())
    }

    #[test]
    fn an_unreachable_bmc_wins_over_everything() {
        let on = sample(PowerState::On, true);
        assert_eq!(classify(None, Some(&on), true), TileState::Unreachable);
        let down = sample(PowerState::Undefined, false);
        assert_eq!(
            classify(Some(&component()), Some(&down), false),
            TileState::Unreachable
        );
    }

    #[test]
    fn power_alone_says_on_off_or_unknown() {
        let on = sample(PowerState::On, true);
        let off = sample(PowerState::Off, true);
        let moving = sample(PowerState::Transition, true);
        assert_eq!(classify(None, Some(&on), false), TileState::Stable);
        assert_eq!(classify(None, Some(&off), false), TileState::Off);
        assert_eq!(classify(None, Some(&moving), false), TileState::Powering);
        assert_eq!(classify(None, None, false), TileState::Unknown);
        // A stable BOS component says nothing more than its power.
        assert_eq!(
            classify(Some(&component()), Some(&off), false),
            TileState::Off
        );
    }

    #[test]
    fn bos_status_decides_while_a_session_acts() {
        let off = sample(PowerState::Off, true);
        let on = sample(PowerState::On, true);
        let mut c = component();
        c.status.phase = crate::model::Phase::PoweringOn;
        assert_eq!(classify(Some(&c), Some(&off), false), TileState::Powering);
        c.set_override(Some(Status::OnHold));
        assert_eq!(classify(Some(&c), Some(&off), false), TileState::Powering);
        // On hold because something could not be asked: BOS is not driving it.
        c.error = "the BMC did not answer".into();
        assert_eq!(classify(Some(&c), Some(&off), false), TileState::Failed);
        c.error.clear();
        c.set_override(Some(Status::PowerOnCalled));
        assert_eq!(classify(Some(&c), Some(&on), false), TileState::Booting);
        c.set_override(Some(Status::Configuring));
        assert_eq!(classify(Some(&c), Some(&on), false), TileState::Configuring);
        c.set_override(Some(Status::Failed));
        assert_eq!(classify(Some(&c), Some(&on), false), TileState::Failed);
    }

    #[test]
    fn a_failed_last_action_is_failed() {
        let on = sample(PowerState::On, true);
        let mut c = component();
        c.last_action.failed = true;
        assert_eq!(classify(Some(&c), Some(&on), false), TileState::Failed);
    }

    #[test]
    fn location_reads_the_xname_hierarchy() {
        assert_eq!(
            location("x3000c0s17b2n1"),
            ("x3000", "x3000c0", "x3000c0s17")
        );
        assert_eq!(location("x1"), ("x1", "x1", "x1"));
        assert_eq!(location("x1c2"), ("x1", "x1c2", "x1c2"));
    }

    #[test]
    fn every_state_round_trips_its_name() {
        for t in TileState::ALL {
            assert_eq!(TileState::parse(t.as_str()), Some(t));
            assert!(!t.glyph().is_empty() && !t.label().is_empty());
        }
    }
}
