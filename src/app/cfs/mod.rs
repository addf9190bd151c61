//! The built-in Configuration Framework Service (`/apis/cfs/v3`; docs/cfs.md):
//! components and configurations, with `configuration_status` computed on every read
//! exactly as CFS does (`model::cfs`).
//!
//! There is no batcher and no Ansible here: whoever configures a node (an Ansible run, or
//! the node itself) reports each layer with `state_append`, and BOS reads the status. So
//! that the built-in service needs no hardware-sync agent, the BOS handoff creates the
//! component of a node it hands over, and a node nobody created reads as a fresh component
//! (no desired configuration, `unconfigured`). Every write is compare-and-set, because
//! nodes report while BOS writes desired state; each write pokes the BOS operators that
//! read configuration status. The service's options (`options`) are held here too, because
//! one of them, the default retry policy, decides statuses. Inputs and outputs are domain
//! values; the wire forms (v3, and the v2 the `cray` CLI and the state reporter speak) are
//! the API's.

mod components;
mod configurations;
pub mod handoff;
mod options;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::activation::Activator;
use crate::app::{AppError, AppResult};
use crate::model::cfs::{
    self, CfsComponent, CfsConfiguration, ComponentPatch, ConfigurationStatus, DEFAULT_PAGE_SIZE,
    DesiredLayer,
};
use crate::store::{Store, Versioned};

pub use components::BulkPatch;
pub use options::{CfsOptions, OptionsPatch};

/// Compare-and-set rounds before a write gives up with a conflict.
const CAS_ROUNDS: usize = 16;

/// A page request: at most `limit` items after the id (or name) `after_id`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: Option<usize>,
    pub after_id: Option<String>,
}

impl Page {
    fn limit(&self) -> AppResult<usize> {
        match self.limit {
            Some(0) => Err(AppError::bad("limit: must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(DEFAULT_PAGE_SIZE),
        }
    }
}

/// One page of a list, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// The page size asked for (or the default).
    pub limit: usize,
    /// The key of the last item, when more follow.
    pub next_after: Option<String>,
}

/// A component with its status as CFS computes it, per layer of its desired configuration.
#[derive(Debug, Clone)]
pub struct ComponentView {
    pub component: CfsComponent,
    pub status: ConfigurationStatus,
    pub layers: Vec<DesiredLayer>,
}

/// What a node's configuration service says about it (for BOS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub desired_config: String,
    pub status: ConfigurationStatus,
}

pub struct Cfs {
    store: Arc<dyn Store>,
    pokes: CfsPokes,
    options: options::OptionsCell,
    /// One options patch at a time: each is read-modify-write of the one row.
    options_writes: tokio::sync::Mutex<()>,
}

/// The BOS operators that read what this service says.
#[derive(Clone, Default)]
pub struct CfsPokes {
    /// Reads every node's configuration status: poked by every write.
    pub status: Activator,
    /// Compares BOS's desired configuration with CFS's: poked only when a component's
    /// desired configuration may have changed (node reports do not change it, and there
    /// are many of them in a boot storm).
    pub configuration: Activator,
    /// The other replicas, told when the options change.
    pub bus: crate::cluster::bus::Bus,
}

fn not_found(id: &str) -> AppError {
    AppError::not_found(format!("Component {id} could not be found"))
}

fn config_not_found(name: &str) -> AppError {
    AppError::not_found(format!("Configuration {name} could not be found"))
}

/// A patch's field problems as one 400 (`what: a; b`).
fn checked(p: ComponentPatch, what: &str) -> AppResult<ComponentPatch> {
    let problems = p.check();
    if !problems.is_empty() {
        return Err(AppError::bad(format!("{what}: {}", problems.join("; "))));
    }
    Ok(p)
}

impl Cfs {
    pub fn new(store: Arc<dyn Store>, pokes: CfsPokes) -> Cfs {
        Cfs {
            store,
            pokes,
            options: options::OptionsCell::default(),
            options_writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Read the stored options into the cache (at start; defaults when none were set).
    pub async fn load_options(&self) -> AppResult<()> {
        if let Some(o) = self.store.get_cfs_options().await? {
            self.options.set(o);
        }
        Ok(())
    }

    pub fn options(&self) -> CfsOptions {
        self.options.get()
    }

    /// Apply a patch to the options (every bad value named, nothing changed then); returns
    /// the options after it. `name` spells an option as the caller's API does.
    pub async fn patch_options(
        &self,
        p: OptionsPatch,
        name: impl Fn(&str) -> String,
    ) -> AppResult<CfsOptions> {
        let problems = p.check(name);
        if !problems.is_empty() {
            return Err(AppError::bad(format!("options: {}", problems.join("; "))));
        }
        let _one = self.options_writes.lock().await;
        // Patch what is stored, not this replica's copy: another replica may have
        // written since.
        self.load_options().await?;
        let o = self.options.patched(p);
        self.store.put_cfs_options(&o).await?;
        self.options.set(o.clone());
        self.pokes
            .bus
            .changed(crate::cluster::bus::Topic::CfsOptions);
        // The default retry policy can change what components' statuses are.
        self.poke(false);
        Ok(o)
    }

    /// CFS's status of `c`, with the option `default_batcher_retry_policy` standing in
    /// for a retry policy the component does not have.
    fn status(
        retry_default: i64,
        c: &CfsComponent,
        config: Option<&CfsConfiguration>,
    ) -> (ConfigurationStatus, Vec<DesiredLayer>) {
        if c.retry_policy.is_some() || retry_default == cfs::DEFAULT_RETRY_POLICY {
            return cfs::configuration_status(c, config);
        }
        let mut with = c.clone();
        with.retry_policy = Some(retry_default);
        cfs::configuration_status(&with, config)
    }

    /// After a write; `desired` when a desired configuration may have changed.
    fn poke(&self, desired: bool) {
        self.pokes.status.poke();
        if desired {
            self.pokes.configuration.poke();
        }
    }

    async fn configs(&self) -> AppResult<HashMap<String, CfsConfiguration>> {
        Ok(self
            .store
            .list_cfs_configurations()
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect())
    }

    fn view(
        retry_default: i64,
        c: CfsComponent,
        configs: &HashMap<String, CfsConfiguration>,
    ) -> ComponentView {
        let (status, layers) = Self::status(retry_default, &c, configs.get(&c.desired_config));
        ComponentView {
            component: c,
            status,
            layers,
        }
    }

    /// Read-modify-write `ids` with compare-and-set until it sticks. `f` says whether it
    /// changed the component (only those are written and returned). With `create`, ids
    /// without a component get a fresh one first.
    async fn update<F>(&self, ids: &[String], create: bool, mut f: F) -> AppResult<Vec<String>>
    where
        F: FnMut(&mut CfsComponent) -> bool,
    {
        let mut pending: Vec<String> = ids.to_vec();
        let mut done = Vec::new();
        let mut desired_changed = false;
        for _ in 0..CAS_ROUNDS {
            let current = self.store.get_cfs_components(&pending).await?;
            let found: HashSet<String> = current.iter().map(|v| v.value.id.clone()).collect();
            let mut batch = Vec::new();
            for v in current {
                let mut c = v.value.clone();
                if f(&mut c) {
                    desired_changed |= c.desired_config != v.value.desired_config;
                    batch.push(Versioned {
                        value: c,
                        generation: v.generation,
                    });
                }
            }
            if create {
                for id in pending.iter().filter(|id| !found.contains(*id)) {
                    let mut c = CfsComponent::new(id);
                    if f(&mut c) {
                        desired_changed |= !c.desired_config.is_empty();
                        batch.push(Versioned {
                            value: c,
                            generation: 0,
                        });
                    }
                }
            }
            if batch.is_empty() {
                pending.clear();
                break;
            }
            let conflicts = self.store.update_cfs_components(&batch).await?;
            let lost: HashSet<&String> = conflicts.iter().collect();
            done.extend(
                batch
                    .iter()
                    .map(|v| v.value.id.clone())
                    .filter(|id| !lost.contains(id)),
            );
            if conflicts.is_empty() {
                pending.clear();
                break;
            }
            pending = conflicts;
        }
        if !done.is_empty() {
            self.poke(desired_changed);
        }
        if !pending.is_empty() {
            return Err(AppError::Conflict(format!(
                "components {} kept changing while being written; try again",
                pending.join(", ")
            )));
        }
        done.sort();
        Ok(done)
    }

    /// Desired configuration and status of each node; a node without a component reads as
    /// a fresh one.
    pub async fn views(&self, ids: &[String]) -> AppResult<HashMap<String, View>> {
        let configs = self.configs().await?;
        let retry_default = self.options.get().default_batcher_retry_policy;
        let mut found: HashMap<String, CfsComponent> = self
            .store
            .get_cfs_components(ids)
            .await?
            .into_iter()
            .map(|v| (v.value.id.clone(), v.value))
            .collect();
        Ok(ids
            .iter()
            .map(|id| {
                let c = found.remove(id).unwrap_or_else(|| CfsComponent::new(id));
                let (status, _) = Self::status(retry_default, &c, configs.get(&c.desired_config));
                (
                    id.clone(),
                    View {
                        desired_config: c.desired_config,
                        status,
                    },
                )
            })
            .collect())
    }
}
