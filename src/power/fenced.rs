//! The last fence between a deposed leader and the rack: every BMC action (a reset, a boot
//! override) is refused, unsent, unless this replica may act now
//! ([`crate::cluster::Leadership::may_act`]). The operators already check before each
//! batch; this catches the calls of a batch that was under way when the lease ran out.
//! Reads pass: any replica may look.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    BmcAccess, BmcEvent, BootOnce, BootWhen, DiscoveredBmc, PowerDriver, PowerError,
    PowerErrorKind, PowerState, StreamEnd, SystemReading, SystemRef,
};
use crate::cluster::Leadership;

pub struct Fenced {
    inner: Arc<dyn PowerDriver>,
    leadership: Leadership,
}

impl Fenced {
    pub fn new(inner: Arc<dyn PowerDriver>, leadership: Leadership) -> Fenced {
        Fenced { inner, leadership }
    }

    fn admit(&self, sys: &SystemRef, what: &str) -> Result<(), PowerError> {
        if self.leadership.may_act() {
            return Ok(());
        }
        Err(PowerError {
            kind: PowerErrorKind::Fenced,
            message: format!(
                "{}: {what} not sent: this replica no longer leads the operators (the new leader settles the node from its BMC)",
                sys.target()
            ),
        })
    }
}

#[async_trait]
impl PowerDriver for Fenced {
    async fn discover(&self, bmc: &BmcAccess) -> Result<DiscoveredBmc, PowerError> {
        self.inner.discover(bmc).await
    }

    async fn certificate(&self, bmc: &BmcAccess) -> Result<Option<String>, PowerError> {
        self.inner.certificate(bmc).await
    }

    async fn power_state(&self, sys: &SystemRef) -> Result<PowerState, PowerError> {
        self.inner.power_state(sys).await
    }

    async fn read(&self, sys: &SystemRef) -> Result<SystemReading, PowerError> {
        self.inner.read(sys).await
    }

    async fn reset(&self, sys: &SystemRef, reset_type: &str) -> Result<(), PowerError> {
        self.admit(sys, reset_type)?;
        self.inner.reset(sys, reset_type).await
    }

    async fn boot_once(
        &self,
        sys: &SystemRef,
        target: &str,
        when: BootWhen,
    ) -> Result<BootOnce, PowerError> {
        self.admit(sys, &format!("one-time boot override to {target}"))?;
        self.inner.boot_once(sys, target, when).await
    }

    async fn follow_events(
        &self,
        bmc: &BmcAccess,
        idle: Duration,
        on: &(dyn Fn(BmcEvent) + Send + Sync),
    ) -> Result<Option<StreamEnd>, PowerError> {
        self.inner.follow_events(bmc, idle, on).await
    }

    async fn close(&self) {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use redfish::sim::SimConfig;

    use super::*;
    use crate::operators::testkit::Kit;

    #[tokio::test]
    async fn a_replica_that_does_not_lead_sends_no_action_but_may_read() {
        let kit = Kit::with(SimConfig {
            initial_power: "On".into(),
            ..SimConfig::default()
        })
        .await;
        let systems = kit.bos().systems().await.unwrap();
        let sys = systems[kit.nodes[0].as_str()].clone();
        let fenced = Fenced::new(kit.driver.clone(), Leadership::standby());
        let e = fenced.reset(&sys, "ForceOff").await.unwrap_err();
        assert_eq!(e.kind, PowerErrorKind::Fenced);
        assert!(e.message.contains("ForceOff not sent"), "{}", e.message);
        assert!(
            fenced
                .boot_once(&sys, "Pxe", BootWhen::Always)
                .await
                .is_err()
        );
        assert_eq!(kit.bmc.counters().resets, 0);
        assert_eq!(fenced.power_state(&sys).await.unwrap(), PowerState::On);
        let leading = Fenced::new(kit.driver.clone(), Leadership::always());
        leading.reset(&sys, "ForceOff").await.unwrap();
        assert_eq!(kit.bmc.counters().resets, 1);
    }
}
