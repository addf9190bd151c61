//! The power section: BMC traffic limits, how BMC certificates are trusted, and the power
//! operators' timing.
//!
//! Zero makes sense for none of the numbers (a timeout that fires at once, no request ever
//! in flight, a sampler that never rests), so every value must be at least 1, except
//! `bmc_breaker_failures` (0: the breaker never opens) and `bmc_events_idle_secs` (0: off).

use super::{BmcTls, ConfigError, Settings, positive};
use crate::model::TlsPolicy;

/// BMC traffic limits and power-operator timing.
#[derive(Debug, Clone)]
pub struct PowerSettings {
    pub bmc_timeout: std::time::Duration,
    pub bmc_concurrency: usize,
    pub bmc_global_concurrency: usize,
    pub sample_interval: std::time::Duration,
    pub confirm_interval: std::time::Duration,
    /// `bmc_tls`: how BMCs that name no trust of their own are trusted.
    pub bmc_tls: crate::model::TlsPolicy,
    /// How long a BMC event stream may be silent before it is reopened; `None`: BMC events
    /// are off and power is polled only.
    pub events_idle: Option<std::time::Duration>,
    /// BMC event streams held open at most.
    pub events_max_streams: usize,
    /// When a failing BMC's calls stop being made (`power::breaker`).
    pub breaker: crate::power::breaker::BreakerSettings,
}

pub(super) fn resolve(s: &Settings) -> Result<PowerSettings, ConfigError> {
    Ok(PowerSettings {
        bmc_timeout: std::time::Duration::from_secs(positive(
            "bmc_timeout_secs",
            s.bmc_timeout_secs,
            20,
        )?),
        bmc_concurrency: positive("bmc_concurrency", s.bmc_concurrency.map(|n| n as u64), 2)?
            as usize,
        bmc_global_concurrency: positive(
            "bmc_global_concurrency",
            s.bmc_global_concurrency.map(|n| n as u64),
            1000,
        )? as usize,
        sample_interval: std::time::Duration::from_secs(positive(
            "power_sample_secs",
            s.power_sample_secs,
            30,
        )?),
        confirm_interval: std::time::Duration::from_millis(positive(
            "power_confirm_ms",
            s.power_confirm_ms,
            2000,
        )?),
        bmc_tls: match s.bmc_tls {
            Some(BmcTls::Verify) => TlsPolicy::Verify,
            Some(BmcTls::Tofu) | None => TlsPolicy::Tofu,
            Some(BmcTls::Insecure) => TlsPolicy::Insecure,
        },
        events_max_streams: positive(
            "bmc_events_max_streams",
            s.bmc_events_max_streams.map(|n| n as u64),
            1000,
        )? as usize,
        breaker: crate::power::breaker::BreakerSettings {
            threshold: s.bmc_breaker_failures.unwrap_or(3),
            cooldown: std::time::Duration::from_secs(positive(
                "bmc_breaker_cooldown_secs",
                s.bmc_breaker_cooldown_secs,
                15,
            )?),
            max_cooldown: std::time::Duration::from_secs(300),
        },
        events_idle: match s.bmc_events_idle_secs.unwrap_or(300) {
            0 => None,
            n => Some(std::time::Duration::from_secs(n)),
        },
    })
}
