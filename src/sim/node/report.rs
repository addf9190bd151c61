//! The report a booted node sends, as bos-reporter does: PATCH
//! `/apis/bos/v2/components/{xname}` with `actual_state.bss_token` set to the token on its
//! kernel command line. This PATCH is what tells BOS the node booted what it was told to.
//!
//! BOS may be busy or mid-reboot when a node comes up, so the report is retried: with a
//! doubling backoff after a connection error or a 5xx, at the steady `report_retry` after a
//! 4xx (a 409 while BOS still thinks the node is powering on), until a 2xx or
//! `report_tries` attempts. Every attempt and answer is counted in the node's status.

use super::retry::{Attempts, Backoff};
use super::{Node, snippet};

impl Node {
    /// The PATCH bos-reporter sends, retried: backoff on connection errors and 5xx, a
    /// steady `report_retry` after a 4xx, until a 2xx or `report_tries` attempts.
    pub(super) async fn report(&self, xname: &str, token: &str) -> bool {
        let url = self.url(&format!("/apis/bos/v2/components/{xname}"));
        let body = serde_json::json!({"id": xname, "actual_state": {"bss_token": token}});
        let backoff = Backoff::doubling(self.pacing.report_backoff, self.pacing.report_retry);
        let mut attempts = Attempts::new(self.pacing.report_tries, backoff);
        while attempts.next().await {
            self.shared.update(|s| {
                s.reports_sent += 1;
                s.last_reported_token = Some(token.to_string());
            });
            let sent = self.send(self.http.patch(url.clone()).json(&body)).await;
            match sent {
                Ok(resp) => {
                    let status = resp.status();
                    // Read the answer so the connection can go back to the pool.
                    let text = resp.text().await.unwrap_or_default();
                    self.shared.update(|s| {
                        s.last_report_status = Some(status.as_u16());
                        if status.is_success() {
                            s.reports_ok += 1;
                        }
                    });
                    if status.is_success() {
                        return true;
                    }
                    self.shared
                        .fail(format!("report {xname}: {status}: {}", snippet(&text)));
                    if status.is_client_error() {
                        attempts.wait_instead(self.pacing.report_retry);
                    }
                }
                Err(e) => self.shared.fail(format!("report {xname}: {e}")),
            }
        }
        false
    }
}
