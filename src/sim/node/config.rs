//! What a simulated node starts with: its knobs ([`Behaviour`], [`ConfigAgent`], the
//! report switch) and its [`Pacing`] (waits and attempt limits).
//!
//! The knobs are small `repr(u8)` enums so the running node can keep them in atomics and a
//! test can flip them without locking or restarting the node; they take effect at the next
//! power-on (or the next boot's report). The pacing defaults suit tests: quick retries,
//! bounded effort, so a node that cannot boot ends in a visible `Failed` phase instead of
//! retrying forever.

use std::time::Duration;

use redfish::sim::SimBmc;

/// What a node does when its host powers on. A knob: [`SimNode::set_behaviour`](super::SimNode::set_behaviour) changes it
/// for the next boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    /// Fetch the script, the kernel and every initrd; report the script's token.
    #[default]
    Normal = 0,
    /// Nothing at all: a host that hangs in firmware, or does not netboot.
    NeverBoots = 1,
    /// Fetch the script and the kernel but never the initrd (the fetch that counts as boot
    /// evidence), and report a token the appliance never minted: a node that came up on
    /// something other than what it was told to boot.
    WrongArtifacts = 2,
}

impl Behaviour {
    pub(super) fn from_u8(v: u8) -> Behaviour {
        match v {
            1 => Behaviour::NeverBoots,
            2 => Behaviour::WrongArtifacts,
            _ => Behaviour::Normal,
        }
    }
}

/// What a node does about its configuration once it has booted and reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum ConfigAgent {
    /// Apply every layer of its desired configuration and report them applied.
    #[default]
    Apply = 0,
    /// Report its first pending layer failed, attempt after attempt, until CFS gives up.
    Fail = 1,
    /// Leave configuration alone (no CFS traffic at all).
    Off = 2,
}

impl ConfigAgent {
    pub(super) fn from_u8(v: u8) -> ConfigAgent {
        match v {
            1 => ConfigAgent::Fail,
            2 => ConfigAgent::Off,
            _ => ConfigAgent::Apply,
        }
    }
}

/// Timing and retry limits. The defaults suit tests: quick retries, bounded effort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    /// Wait before fetching the script again after a chain-only answer, an error, or a
    /// failed artifact fetch (iPXE's `:boot_retry`, without the script's long `sleep`).
    pub script_retry: Duration,
    /// Script (and artifact) attempts per power-on before the node gives up (phase Failed).
    pub script_tries: u32,
    /// First wait after a connection error or 5xx from the report; doubles each time up to
    /// `report_retry`.
    pub report_backoff: Duration,
    /// Wait after a 4xx from the report (BOS may be mid-reboot and answer 409).
    pub report_retry: Duration,
    /// Report attempts per boot.
    pub report_tries: u32,
    /// Per HTTP request, body included.
    pub request_timeout: Duration,
    /// Wait between configuration-agent rounds (a layer reported, or the component not
    /// enabled yet).
    pub config_retry: Duration,
    /// Configuration-agent rounds per boot.
    pub config_tries: u32,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            script_retry: Duration::from_millis(200),
            script_tries: 50,
            report_backoff: Duration::from_millis(100),
            report_retry: Duration::from_secs(1),
            report_tries: 30,
            request_timeout: Duration::from_secs(30),
            config_retry: Duration::from_millis(100),
            config_tries: 100,
        }
    }
}

/// How a [`SimNode`] starts.
#[derive(Clone, Debug)]
pub struct SimNodeConfig {
    /// The appliance, e.g. `http://127.0.0.1:PORT`; every request goes here.
    pub base: String,
    /// The MAC the node asks for its script with (its system's NIC on the BMC).
    pub mac: String,
    pub bmc: SimBmc,
    /// The system on `bmc` whose power this node follows.
    pub system: usize,
    /// Shared by every node of a lab.
    pub http: reqwest::Client,
    /// Initial value of the [`SimNode::set_behaviour`] knob.
    pub behaviour: Behaviour,
    /// Initial value of the [`SimNode::set_report`] knob: act like bos-reporter. When false
    /// the node leaves only boot evidence (its script and artifact fetches).
    pub report: bool,
    /// Initial value of the [`SimNode::set_config_agent`] knob.
    pub config_agent: ConfigAgent,
    pub pacing: Pacing,
    /// Where the configuration agent reaches CFS, when that is not `base`: standing in for
    /// CFS's own Ansible runs, it is a control-plane client with credentials, not the node
    /// on the boot plane.
    pub config_service: Option<ConfigService>,
}

/// A control-plane client for the configuration agent.
#[derive(Clone, Debug)]
pub struct ConfigService {
    /// The control plane, e.g. `https://127.0.0.1:8443`.
    pub base: String,
    /// Trusting the control plane's certificate.
    pub http: reqwest::Client,
    /// `Authorization: Bearer` value.
    pub token: String,
}

impl SimNodeConfig {
    /// A normal, reporting node with default pacing.
    pub fn new(
        base: impl Into<String>,
        mac: impl Into<String>,
        bmc: SimBmc,
        system: usize,
        http: reqwest::Client,
    ) -> SimNodeConfig {
        SimNodeConfig {
            base: base.into(),
            mac: mac.into(),
            bmc,
            system,
            http,
            behaviour: Behaviour::Normal,
            report: true,
            config_agent: ConfigAgent::Apply,
            pacing: Pacing::default(),
            config_service: None,
        }
    }
}
