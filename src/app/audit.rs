//! The audit trail: every state-changing control-plane call, written to the store in the
//! background, in batches (one transaction for up to [`BATCH`] records), so a burst of writes
//! (an inventory import of 10,000 MACs is 10,000 calls) costs the callers nothing but a
//! channel send. Reading the trail first waits for what is queued, so a change is listed
//! as soon as its call has answered. Until the writer runs (a test that builds an `App`
//! alone), records are written one by one as they come. A crash loses at most what was
//! queued in the last moment.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};

use super::AppResult;
use crate::model::identity::AuditRecord;
use crate::shutdown::Stop;
use crate::store::Store;

/// Records written in one transaction at most.
const BATCH: usize = 256;
/// How long the writer gathers records before it writes them: SQLite has one writer, and a
/// transaction per record would contend with the calls being recorded (measured: an
/// inventory import of 3,000 nodes 40 % slower with one per record).
const GATHER: Duration = Duration::from_millis(100);
/// Records queued at most; a caller waits beyond it (the store is behind).
const QUEUE: usize = 8192;

pub struct AuditTrail {
    store: Arc<dyn Store>,
    tx: mpsc::Sender<AuditRecord>,
    /// The writer's end, until the writer takes it.
    rx: Mutex<Option<mpsc::Receiver<AuditRecord>>>,
    pending: AtomicUsize,
    written: Notify,
}

impl AuditTrail {
    pub fn new(store: Arc<dyn Store>) -> AuditTrail {
        let (tx, rx) = mpsc::channel(QUEUE);
        AuditTrail {
            store,
            tx,
            rx: Mutex::new(Some(rx)),
            pending: AtomicUsize::new(0),
            written: Notify::new(),
        }
    }

    pub async fn record(&self, r: AuditRecord) {
        let writer_runs = self.rx.lock().expect("audit lock").is_none();
        if !writer_runs {
            self.write(&[r]).await;
            return;
        }
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(r).await.is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn write(&self, batch: &[AuditRecord]) {
        if let Err(e) = self.store.append_audit(batch).await {
            tracing::error!(error = %crate::errors::chain(&e), records = batch.len(), "cannot write audit records");
        }
    }

    /// Write what is queued, in batches, until `stop`; then what is left.
    pub async fn run(self: Arc<Self>, stop: Stop) {
        let Some(mut rx) = self.rx.lock().expect("audit lock").take() else {
            return;
        };
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                n = rx.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        return;
                    }
                    if n < BATCH {
                        tokio::select! {
                            () = tokio::time::sleep(GATHER) => {}
                            () = stop.cancelled() => {}
                        }
                        while batch.len() < BATCH && let Ok(r) = rx.try_recv() {
                            batch.push(r);
                        }
                    }
                }
                () = stop.cancelled() => {
                    while let Ok(r) = rx.try_recv() {
                        batch.push(r);
                    }
                    if !batch.is_empty() {
                        self.write(&batch).await;
                    }
                    return;
                }
            }
            self.write(&batch).await;
            self.pending.fetch_sub(batch.len(), Ordering::SeqCst);
            batch.clear();
            self.written.notify_waiters();
        }
    }

    /// Records at or after `since` (the newest `limit`), once what was queued is written.
    pub async fn list(&self, since: DateTime<Utc>, limit: u32) -> AppResult<Vec<AuditRecord>> {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.pending.load(Ordering::SeqCst) > 0 {
                let notified = self.written.notified();
                if self.pending.load(Ordering::SeqCst) == 0 {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
            }
        })
        .await;
        Ok(self.store.list_audit(since, limit).await?)
    }

    pub async fn prune(&self, before: DateTime<Utc>) -> AppResult<u64> {
        Ok(self.store.prune_audit(before).await?)
    }
}
