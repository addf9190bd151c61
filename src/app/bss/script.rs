//! The boot script: what iPXE on every node asks `/bootscript` for.
//!
//! Scripts are looked up as upstream does (docs/bss.md, "Boot-data lookup"): the node's own
//! record, the raw MAC/name/`nid<N>` record, its role's record, then `Default`; unknown nodes
//! get `Unknown-<arch>`. There is no HSM cache to refresh here, so the "sleep 10" answers are
//! never needed: an unknown node that does not say its architecture is chained back at once with
//! `arch=${buildarch}`. Everything is read from the boot read model (no store access on this
//! path); `s3://` artifacts become `/artifacts/<token>/…` URLs on the appliance, the token bound
//! to the record's owner and version.

use crate::app::boot_index::{BootIndex, params_version};
use crate::app::timeline::BootEvent;
use crate::app::{App, AppError, AppResult};
use crate::artifacts::links;
use crate::bootscript::{self, BootScript, Injections};
use crate::model::{BootParams, HostKey, ImageKind, Mac, Xname};

#[derive(Debug, Clone, Default)]
pub struct BootscriptQuery {
    pub mac: Option<String>,
    pub name: Option<String>,
    pub nid: Option<i64>,
    pub arch: String,
    pub retry: u64,
    pub ts: Option<i64>,
    /// The requesting client's address, for the node's boot timeline.
    pub client: Option<String>,
}

/// What kind of answer a bootscript request got (for metrics and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    Node,
    Unknown,
    DiscoverArch,
}

impl ScriptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Node => "node",
            ScriptKind::Unknown => "unknown",
            ScriptKind::DiscoverArch => "discover_arch",
        }
    }
}

impl App {
    /// GET /bootscript.
    pub async fn bootscript(&self, q: &BootscriptQuery) -> AppResult<(String, ScriptKind)> {
        if q.mac.is_none() && q.name.is_none() && q.nid.is_none() {
            return Err(AppError::bad("Need a mac=, name=, or nid= parameter"));
        }
        // Every request value that reaches the script is checked first: a `name=` is an
        // xname or a tag (letters, digits, `_-.`), `arch=` a word; nothing else is written back.
        let name = match &q.name {
            Some(n) => Some(
                HostKey::parse_host(n)
                    .map_err(|e| AppError::bad(format!("invalid name=: {e}")))?
                    .key(),
            ),
            None => None,
        };
        let arch_ok = q.arch.len() <= 32
            && q.arch
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
        if !arch_ok {
            return Err(AppError::bad(format!(
                "invalid arch= {:?}: an architecture is a word such as x86_64 or arm64",
                q.arch
            )));
        }
        let idx = self.boot.get().await?;
        let mac = match &q.mac {
            Some(m) => Some(Mac::parse(m).map_err(|e| AppError::bad(e.to_string()))?),
            None => None,
        };
        // Resolve the component: MAC, then name, then NID (upstream priority).
        let comp_id: Option<Xname> = if let Some(m) = &mac {
            idx.by_mac.get(m).cloned()
        } else if let Some(n) = &name {
            Xname::parse(n)
                .ok()
                .filter(|x| idx.components.contains_key(x))
        } else {
            q.nid.and_then(|n| idx.by_nid.get(&n).cloned())
        };
        let comp = comp_id.as_ref().and_then(|x| idx.components.get(x));
        let raw_key = match (&mac, &name, q.nid) {
            (Some(m), _, _) => m.to_string(),
            (None, Some(n), _) => n.clone(),
            (None, None, Some(n)) => format!("nid{n}"),
            (None, None, None) => unreachable!("checked above"),
        };
        let mut candidates: Vec<String> = Vec::with_capacity(4);
        if let Some(c) = comp {
            candidates.push(c.id.to_string());
        }
        candidates.push(raw_key.clone());
        if let Some(role) = comp.and_then(|c| c.role.as_ref()) {
            candidates.push(role.clone());
        }
        candidates.push("Default".into());
        let data = candidates.iter().find_map(|k| idx.params.get(k));
        let base = format!("{}/boot/v1/bootscript", self.settings.advertise_url);
        let ts = q.ts.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let selector = match (&mac, &name, q.nid) {
            (Some(m), _, _) => format!("mac={m}"),
            (None, Some(n), _) => format!("name={n}"),
            (None, None, Some(n)) => format!("nid={n}"),
            _ => "mac=${net0/mac}".into(),
        };

        let unknown = comp.is_none() || data.is_none_or(|d| d.kernel.is_empty());
        if unknown {
            if q.arch.is_empty() {
                let chain = format!("{base}?{selector}&arch=${{buildarch}}&ts={ts}");
                return Ok((
                    bootscript::render_discover_arch(&chain),
                    ScriptKind::DiscoverArch,
                ));
            }
            // s3:// artifacts of the discovery boot: one token per Unknown-<arch> record.
            let owner = format!("Unknown-{}", q.arch);
            if let Some(u) = idx.params.get(&owner)
                && !u.kernel.is_empty()
            {
                let chain = format!("{base}?{selector}&arch=${{buildarch}}&ts={ts}");
                let (script, _) =
                    self.render_record(&idx, u, &owner, &Injections::default(), &chain);
                return Ok((script, ScriptKind::Unknown));
            }
            let who = comp.map(|c| c.id.to_string()).unwrap_or(raw_key);
            return Err(AppError::not_found(format!(
                "{who}: this host not configured for booting."
            )));
        }
        let (c, d) = (comp.expect("known"), data.expect("known"));
        self.check_bound(&idx, &c.id, q.client.as_deref())?;
        let chain_sel = match (&mac, idx.macs_of.get(&c.id).and_then(|m| m.first())) {
            (Some(m), _) | (None, Some(m)) => format!("mac={m}"),
            (None, None) => format!("name={}", c.id),
        };
        let chain = format!("{base}?{chain_sel}&retry={}", q.retry.saturating_add(1));
        // s3:// artifacts become this node's /artifacts/<token>/… URLs on the appliance.
        let injections = Injections {
            xname: Some(c.id.as_str()),
            nid: c.nid,
            referral_token: d.referral_token.as_deref(),
        };
        let (script, token) = self.render_record(&idx, d, c.id.as_str(), &injections, &chain);
        self.access
            .record(c.id.as_str(), "bootscript", chrono::Utc::now().timestamp());
        self.timeline.record(
            &c.id,
            BootEvent {
                time: chrono::Utc::now(),
                what: "bootscript".into(),
                bytes: script.len() as u64,
                duration_ms: 0,
                client: q.client.clone(),
                outcome: "complete".into(),
                token: Some(token.clone()),
                file: None,
                repeats: 0,
                last_time: None,
            },
        );
        Ok((script, ScriptKind::Node))
    }

    /// The script `node` would be given now, as the console shows it: nothing is recorded
    /// in its timeline and no address is checked. `None` when it has no boot parameters.
    pub async fn preview_bootscript(&self, node: &Xname) -> AppResult<Option<String>> {
        let idx = self.boot.get().await?;
        let Some(c) = idx.components.get(node) else {
            return Ok(None);
        };
        let mut candidates = vec![c.id.to_string()];
        if let Some(role) = &c.role {
            candidates.push(role.clone());
        }
        candidates.push("Default".into());
        let Some(d) = candidates
            .iter()
            .find_map(|k| idx.params.get(k))
            .filter(|d| !d.kernel.is_empty())
        else {
            return Ok(None);
        };
        let base = format!("{}/boot/v1/bootscript", self.settings.advertise_url);
        let chain_sel = match idx.macs_of.get(&c.id).and_then(|m| m.first()) {
            Some(m) => format!("mac={m}"),
            None => format!("name={}", c.id),
        };
        let chain = format!("{base}?{chain_sel}&retry=1");
        let injections = Injections {
            xname: Some(c.id.as_str()),
            nid: c.nid,
            referral_token: d.referral_token.as_deref(),
        };
        let (script, _) = self.render_record(&idx, d, c.id.as_str(), &injections, &chain);
        Ok(Some(script))
    }

    /// The boot script of record `bp`, its `s3://` artifacts rewritten to URLs under a
    /// token for `owner`; returns the script and that token.
    fn render_record(
        &self,
        idx: &BootIndex,
        bp: &BootParams,
        owner: &str,
        injections: &Injections,
        chain_url: &str,
    ) -> (String, String) {
        let has_initrd = !bp.initrd.is_empty();
        let params = bootscript::assemble_params(
            &[
                &bp.params,
                idx.image_params(ImageKind::Kernel, &bp.kernel),
                idx.image_params(ImageKind::Initrd, &bp.initrd),
            ],
            injections,
            has_initrd,
        );
        let token = links::token(&self.artifact_secret, owner, &params_version(bp));
        let prefix = format!("{}/artifacts/{token}", self.settings.advertise_url);
        let (kernel_url, initrd_url, params) =
            links::rewrite(&bp.kernel, &bp.initrd, &params, &prefix);
        let script = bootscript::render_boot(&BootScript {
            kernel_url: &kernel_url,
            initrd_url: has_initrd.then_some(initrd_url.as_str()),
            params: &params,
            retry_delay_secs: self.settings.boot_retry_delay_secs,
            chain_url,
        });
        (script, token)
    }
}
