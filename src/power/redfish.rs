//! The Redfish implementation of [`PowerDriver`], on the `redfish` crate.
//!
//! It keeps one client per BMC (keyed by the BMC's xname and replaced when its access
//! details change) so sessions and connections are reused across operator activations,
//! and shares the global concurrency cap across all of them.
//!
//! It also gives every power failure its one shape (`<bmc> <system>: <what was sent>,
//! PowerState <last read>: <the BMC's words>`): after a failed write it reads the power state
//! once, unless the BMC could not be reached or refused the credentials (then the state is
//! `unknown`), so the message says what the node was doing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{
    BmcAccess, BmcEvent, BootOnce, BootWhen, DiscoveredBmc, DiscoveredSystem, PowerDriver,
    PowerError, PowerErrorKind, StreamEnd, SystemReading, SystemRef,
};
use crate::model::power::{BootOverrideSupport, PowerState};
use crate::model::{BmcTrust, TlsPolicy};

/// Limits and timeouts for BMC traffic.
#[derive(Debug, Clone)]
pub struct RedfishDriverSettings {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub per_bmc_concurrency: usize,
    pub global_concurrency: usize,
    pub retries: u32,
    /// `bmc_tls`: how BMCs that name no trust of their own are trusted. Discovery pins
    /// them under `tofu`; until it has, they are verified against the system roots.
    pub tls_policy: TlsPolicy,
}

impl Default for RedfishDriverSettings {
    fn default() -> Self {
        RedfishDriverSettings {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            per_bmc_concurrency: 2,
            global_concurrency: 1000,
            retries: 3,
            tls_policy: TlsPolicy::default(),
        }
    }
}

pub struct RedfishDriver {
    settings: RedfishDriverSettings,
    pool: ::redfish::Pool,
    bmcs: Mutex<HashMap<crate::model::Xname, (BmcAccess, Arc<::redfish::Bmc>)>>,
}

impl RedfishDriver {
    pub fn new(settings: RedfishDriverSettings) -> RedfishDriver {
        RedfishDriver {
            pool: ::redfish::Pool::new(settings.global_concurrency, settings.connect_timeout),
            settings,
            bmcs: Mutex::new(HashMap::new()),
        }
    }

    fn bmc(&self, access: &BmcAccess) -> Result<Arc<::redfish::Bmc>, PowerError> {
        let mut bmcs = self.bmcs.lock().expect("bmc cache lock");
        if let Some((known, bmc)) = bmcs.get(&access.id)
            && known == access
        {
            return Ok(bmc.clone());
        }
        let mut cfg = ::redfish::BmcConfig::new(&access.url, &access.username, &access.password);
        cfg.trust = match &access.trust {
            BmcTrust::System if self.settings.tls_policy == TlsPolicy::Insecure => {
                ::redfish::TlsTrust::Insecure
            }
            BmcTrust::System => ::redfish::TlsTrust::System,
            BmcTrust::Ca { pem } => ::redfish::TlsTrust::Ca(pem.clone()),
            BmcTrust::Pin { sha256 } | BmcTrust::Tofu { sha256, .. } => {
                ::redfish::TlsTrust::Pin(sha256.clone())
            }
            BmcTrust::Insecure => ::redfish::TlsTrust::Insecure,
        };
        cfg.timeout = self.settings.timeout;
        cfg.retries = self.settings.retries;
        cfg.max_concurrency = self.settings.per_bmc_concurrency;
        let bmc = Arc::new(self.pool.bmc(cfg).map_err(map_err)?);
        if let Some((_, old)) = bmcs.insert(access.id.clone(), (access.clone(), bmc.clone())) {
            tokio::spawn(async move { old.logout().await });
        }
        Ok(bmc)
    }
}

fn map_err(e: ::redfish::Error) -> PowerError {
    use ::redfish::Error as E;
    let kind = match &e {
        E::Unreachable { .. } | E::Timeout { .. } => PowerErrorKind::Unreachable,
        E::Untrusted { .. } | E::CertificateChanged { .. } => PowerErrorKind::Untrusted,
        E::Auth { .. } => PowerErrorKind::Auth,
        E::Http { status, .. } if *status >= 500 => PowerErrorKind::Failing,
        E::Http { .. } | E::Decode { .. } => PowerErrorKind::Refused,
        E::ResetNotAllowed { .. } | E::Unsupported { .. } => PowerErrorKind::NotAllowed,
        E::OverrideNotKept { .. } => PowerErrorKind::NotKept,
        E::Config { .. } => PowerErrorKind::Config,
    };
    PowerError {
        kind,
        message: e.to_string(),
    }
}

fn state(p: &::redfish::PowerState) -> PowerState {
    PowerState::from_redfish(p.as_str())
}

impl RedfishDriver {
    /// A failed write, in the one shape: the target, what was sent and the state it is in now.
    async fn failed(&self, sys: &SystemRef, sent: &str, e: ::redfish::Error) -> PowerError {
        let e = map_err(e);
        let now = match e.kind {
            PowerErrorKind::Unreachable | PowerErrorKind::Auth | PowerErrorKind::Config => {
                "unknown".to_string()
            }
            _ => match self.client(sys) {
                Ok(bmc) => match bmc.power_state(&sys.system).await {
                    Ok(p) => p.to_string(),
                    Err(_) => "unknown".to_string(),
                },
                Err(_) => "unknown".to_string(),
            },
        };
        PowerError {
            kind: e.kind,
            message: format!(
                "{}: {sent} failed, PowerState {now}: {}",
                sys.target(),
                e.message
            ),
        }
    }

    /// The client of a system's BMC; a BMC whose access details are unusable, named as the
    /// target of the power call.
    fn client(&self, sys: &SystemRef) -> Result<Arc<::redfish::Bmc>, PowerError> {
        self.bmc(&sys.bmc).map_err(|e| PowerError {
            kind: e.kind,
            message: format!("{}: nothing sent: {}", sys.target(), e.message),
        })
    }

    /// A failed read, in the one shape.
    fn unread(sys: &SystemRef, e: ::redfish::Error) -> PowerError {
        let e = map_err(e);
        PowerError {
            kind: e.kind,
            message: format!("{}: reading PowerState failed: {}", sys.target(), e.message),
        }
    }
}

#[async_trait]
impl PowerDriver for RedfishDriver {
    async fn discover(&self, access: &BmcAccess) -> Result<DiscoveredBmc, PowerError> {
        let bmc = self.bmc(access)?;
        let d = bmc.discover().await.map_err(map_err)?;
        Ok(DiscoveredBmc {
            redfish_version: d.redfish_version,
            uuid: d.uuid,
            members: d.members,
            problems: d
                .problems
                .into_iter()
                .map(|p| (p.resource, p.error.to_string()))
                .collect(),
            systems: d
                .systems
                .into_iter()
                .map(|s| DiscoveredSystem {
                    power: state(&s.power_state),
                    path: s.path,
                    id: s.id,
                    name: s.name,
                    uuid: s.uuid.unwrap_or_default(),
                    reset_target: s.reset_target,
                    reset_types: s.reset_types,
                    boot_targets: s.boot.allowed_targets,
                    macs: s.macs,
                })
                .collect(),
        })
    }

    async fn certificate(&self, access: &BmcAccess) -> Result<Option<String>, PowerError> {
        let bmc = self.bmc(access)?;
        bmc.peer_certificate().await.map_err(map_err)
    }

    async fn power_state(&self, sys: &SystemRef) -> Result<PowerState, PowerError> {
        let bmc = self.client(sys)?;
        let p = bmc
            .power_state(&sys.system)
            .await
            .map_err(|e| Self::unread(sys, e))?;
        Ok(state(&p))
    }

    async fn read(&self, sys: &SystemRef) -> Result<SystemReading, PowerError> {
        let bmc = self.client(sys)?;
        let r = bmc
            .power_reading(&sys.system)
            .await
            .map_err(|e| Self::unread(sys, e))?;
        Ok(SystemReading {
            state: state(&r.power_state),
            redfish_state: r.power_state.to_string(),
            markers: r.markers,
            boot_override: match r.boot_targets {
                None => BootOverrideSupport::Absent,
                Some(t) => BootOverrideSupport::Targets(t),
            },
        })
    }

    async fn reset(&self, sys: &SystemRef, reset_type: &str) -> Result<(), PowerError> {
        let bmc = self.client(sys)?;
        match bmc
            .reset_known(&sys.system, &sys.reset_target, &sys.reset_types, reset_type)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => Err(self.failed(sys, reset_type, e).await),
        }
    }

    async fn boot_once(
        &self,
        sys: &SystemRef,
        target: &str,
        when: BootWhen,
    ) -> Result<BootOnce, PowerError> {
        let bmc = self.client(sys)?;
        let when = match when {
            BootWhen::Always => ::redfish::BootWhen::Always,
            BootWhen::NotPoweredOn => ::redfish::BootWhen::NotPoweredOn,
        };
        let outcome = bmc
            .set_boot_override_when(&sys.system, &::redfish::BootOverride::once(target), when)
            .await;
        match outcome {
            Ok(::redfish::BootOutcome::Applied(a)) => Ok(BootOnce::Set {
                note: a.note,
                state: a.power_state.to_string(),
            }),
            Ok(::redfish::BootOutcome::PoweredOn(p)) => Ok(BootOnce::PoweredOn {
                state: p.to_string(),
            }),
            Ok(::redfish::BootOutcome::NoOverride(p)) => Ok(BootOnce::NoOverride {
                state: p.to_string(),
            }),
            Err(e) => Err(self
                .failed(sys, &format!("one-time boot override to {target}"), e)
                .await),
        }
    }

    async fn follow_events(
        &self,
        access: &BmcAccess,
        idle: Duration,
        on: &(dyn Fn(BmcEvent) + Send + Sync),
    ) -> Result<Option<StreamEnd>, PowerError> {
        let bmc = self.bmc(access)?;
        let Some(uri) = bmc.sse_uri().await.map_err(map_err)? else {
            return Ok(None);
        };
        let end = bmc
            .follow_events(&uri, idle, |item| match item {
                ::redfish::client::StreamItem::Opened => on(BmcEvent::Opened),
                ::redfish::client::StreamItem::Record(r) => {
                    if let Some(origin) = &r.origin {
                        on(BmcEvent::Changed(origin));
                    }
                }
            })
            .await
            .map_err(map_err)?;
        Ok(Some(match end {
            ::redfish::client::FollowEnd::Closed => StreamEnd::Closed,
            ::redfish::client::FollowEnd::Idle => StreamEnd::Idle,
        }))
    }

    async fn close(&self) {
        let bmcs: Vec<Arc<::redfish::Bmc>> = self
            .bmcs
            .lock()
            .expect("bmc cache lock")
            .drain()
            .map(|(_, (_, b))| b)
            .collect();
        futures::future::join_all(bmcs.iter().map(|b| b.logout())).await;
    }
}
