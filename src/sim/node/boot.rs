//! A node's boot: what iPXE does on power-on, over real HTTP. GET the script for its MAC,
//! follow `chain` lines (filling in `${buildarch}` and `${net0/mac}`) until one has a
//! `kernel` line, then fetch the kernel and every initrd to the end, counting the bytes.
//!
//! A failed fetch or an unusable answer sends the node round again after `script_retry`,
//! like the `:boot_retry` loop of the appliance's scripts (without their long `sleep`),
//! up to `script_tries` attempts; then the node gives up and says so. Artifact bodies are
//! streamed and dropped: a node keeps counts, never bytes.

use reqwest::StatusCode;

use super::config::Behaviour;
use super::retry::{Attempts, Backoff};
use super::script::{Kernel, parse_script};
use super::{Node, snippet};

impl Node {
    /// Fetch scripts until one boots, then its artifacts. Returns the kernel line booted, or
    /// None after too many attempts.
    pub(super) async fn boot(&self, behaviour: Behaviour) -> Option<Kernel> {
        let first = format!("/boot/v1/bootscript?mac={}", self.mac);
        let mut next = first.clone();
        let pace = Backoff::steady(self.pacing.script_retry);
        let mut attempts = Attempts::new(self.pacing.script_tries, pace);
        while attempts.next().await {
            let script = match self.get_text(&next).await {
                Ok(text) => {
                    self.shared.update(|s| s.scripts_fetched += 1);
                    parse_script(&text)
                }
                Err(e) => {
                    self.shared.fail(format!("bootscript: {e}"));
                    next.clone_from(&first);
                    continue;
                }
            };
            let Some(kernel) = script.kernel else {
                self.shared.update(|s| s.script_retries += 1);
                next = match script.chain {
                    Some(c) => self.expand(&c),
                    None => {
                        self.shared
                            .fail("bootscript: neither a kernel nor a chain line".into());
                        first.clone()
                    }
                };
                continue;
            };
            let images = match behaviour {
                Behaviour::WrongArtifacts => vec![("kernel", &kernel.url)],
                _ => std::iter::once(("kernel", &kernel.url))
                    .chain(script.initrds.iter().map(|u| ("initrd", u)))
                    .collect(),
            };
            let mut ok = true;
            for (what, url) in images {
                if let Err(e) = self.fetch_artifact(url).await {
                    self.shared.fail(format!("{what} {url}: {e}"));
                    ok = false;
                    break;
                }
            }
            if ok {
                return Some(kernel);
            }
            // iPXE's `|| goto boot_retry`: chain back to the script.
            next = script
                .chain
                .map_or_else(|| first.clone(), |c| self.expand(&c));
        }
        self.shared.fail(format!(
            "gave up after {} boot attempts",
            self.pacing.script_tries
        ));
        None
    }

    /// GET a script: the body of a 2xx, else an error naming the status.
    async fn get_text(&self, path_or_url: &str) -> Result<String, String> {
        let resp = self.send(self.http.get(self.url(path_or_url))).await?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| crate::errors::chain(&e))?;
        if status != StatusCode::OK {
            return Err(format!("{status}: {}", snippet(&text)));
        }
        Ok(text)
    }

    /// GET an artifact to the end, counting its bytes as they arrive.
    async fn fetch_artifact(&self, path_or_url: &str) -> Result<(), String> {
        let mut resp = self.send(self.http.get(self.url(path_or_url))).await?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(format!("{status}: {}", snippet(&text)));
        }
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let n = chunk.len() as u64;
                    // Not a status change worth waking waiters for.
                    self.shared.status.send_if_modified(|s| {
                        s.bytes_fetched += n;
                        false
                    });
                }
                Ok(None) => break,
                Err(e) => return Err(crate::errors::chain(&e)),
            }
        }
        self.shared.update(|s| s.artifacts_fetched += 1);
        Ok(())
    }
}
