//! A read-only TFTP server for the iPXE binaries (docs/architecture.md, "Boot network"):
//! firmware that netboots asks DHCP where to boot and fetches an iPXE binary over TFTP before
//! any HTTP happens.
//!
//! It serves one directory and nothing else: names are resolved inside it (no `..`, no symlink
//! out of it), writes are refused with error 2. Options (`packet::negotiate`): blksize, timeout,
//! tsize and windowsize (RFC 7440: a window of blocks per ACK, which is what makes TFTP fast on
//! a LAN). Each transfer runs on its own socket (its TID) and task; a client that stops
//! answering is retried `retries` times and then dropped, freeing its slot. Transfers per client
//! address and in all are capped. Every transfer that ends, however it ends, is counted in
//! `/metrics`, logged, and reported to a [`TransferObserver`] (node timelines).
//!
//! The listening socket is passed in (bound by the caller), like the HTTP listener.
//!
//! Our own server rather than async-tftp (the one maintained crate with RFC 7440): this is a few
//! hundred lines over a pure codec (`packet`), and it needs what that crate's handler does not
//! give: a report of every transfer with the client's address and outcome (node timelines,
//! metrics), per-client and global caps that free their slot when a client vanishes, and reads
//! of one whole window per positioned read on tokio's reactor rather than smol's (async-tftp
//! brings its own reactor thread and blocking pool). Measured beside tftpd-hpa in
//! bench/README.md (tftp.sh: 7× at windowsize 16).

pub mod packet;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::shutdown::Stop;
use packet::{Limits, Packet};

#[derive(Debug, Clone)]
pub struct TftpSettings {
    /// The directory served.
    pub root: PathBuf,
    pub limits: Limits,
    /// Wait for an ACK before sending again, unless the client asks for its own `timeout`.
    pub timeout: Duration,
    /// Sends of the same window before the client counts as gone.
    pub retries: u32,
    pub max_per_client: usize,
    pub max_transfers: usize,
}

impl TftpSettings {
    pub fn new(root: PathBuf) -> TftpSettings {
        TftpSettings {
            root,
            limits: Limits::default(),
            timeout: Duration::from_secs(1),
            retries: 5,
            max_per_client: 8,
            max_transfers: 1024,
        }
    }
}

/// How one transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferReport {
    pub client: SocketAddr,
    pub filename: String,
    /// `complete`, `refused` (error sent), `aborted` (the client sent an error) or
    /// `timeout` (the client stopped answering).
    pub outcome: &'static str,
    /// Why, for anything but `complete`.
    pub detail: String,
    /// File bytes acknowledged by the client.
    pub bytes: u64,
    pub duration: Duration,
    pub blksize: u16,
    pub windowsize: u16,
}

pub trait TransferObserver: Send + Sync + 'static {
    fn transfer_ended(&self, report: &TransferReport);
}

impl<F: Fn(&TransferReport) + Send + Sync + 'static> TransferObserver for F {
    fn transfer_ended(&self, report: &TransferReport) {
        self(report)
    }
}

/// Transfers in flight, per client address and in all.
#[derive(Default)]
struct Slots {
    per_client: HashMap<IpAddr, usize>,
    total: usize,
}

/// A transfer's slot, given back when the transfer ends however it ends.
struct Slot {
    slots: Arc<Mutex<Slots>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.lock().expect("slots lock");
        s.total -= 1;
        if let Some(n) = s.per_client.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                s.per_client.remove(&self.ip);
            }
        }
    }
}

/// Count, log and report one ended transfer (refused ones too).
fn ended(observer: &dyn TransferObserver, r: &TransferReport) {
    metrics::counter!("rackboot_tftp_transfers_total", "outcome" => r.outcome).increment(1);
    metrics::counter!("rackboot_tftp_bytes_total").increment(r.bytes);
    tracing::info!(client = %r.client, file = %r.filename, outcome = r.outcome, detail = %r.detail,
        bytes = r.bytes, ms = r.duration.as_millis() as u64, blksize = r.blksize,
        windowsize = r.windowsize, "tftp transfer");
    observer.transfer_ended(r);
}

/// Serve until `stop` is cancelled. Malformed packets are dropped with a debug log.
pub async fn serve(
    socket: UdpSocket,
    settings: TftpSettings,
    observer: Arc<dyn TransferObserver>,
    stop: Stop,
) {
    let settings = Arc::new(settings);
    let slots = Arc::new(Mutex::new(Slots::default()));
    let local = socket.local_addr().ok();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, client) = tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on some systems.
                    tracing::debug!(error = %e, "tftp receive");
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        let (write, filename, options) = match packet::parse(&buf[..n]) {
            Ok(Packet::Request {
                write,
                filename,
                options,
                ..
            }) => (write, filename, options),
            Ok(other) => {
                tracing::debug!(%client, packet = ?other, "tftp: not a request on the server port; dropped");
                continue;
            }
            Err(e) => {
                tracing::debug!(%client, error = %e, "tftp: malformed packet dropped");
                continue;
            }
        };
        if write {
            let why = "this TFTP server is read-only";
            let _ = socket
                .send_to(&packet::error(packet::ERR_ACCESS, why), client)
                .await;
            ended(&*observer, &refused(client, &filename, why));
            continue;
        }
        let slot = {
            let mut s = slots.lock().expect("slots lock");
            let mine = s.per_client.get(&client.ip()).copied().unwrap_or(0);
            if s.total >= settings.max_transfers || mine >= settings.max_per_client {
                None
            } else {
                s.total += 1;
                *s.per_client.entry(client.ip()).or_default() += 1;
                Some(Slot {
                    slots: slots.clone(),
                    ip: client.ip(),
                })
            }
        };
        let Some(slot) = slot else {
            let why = "too many transfers in progress; try again";
            let _ = socket
                .send_to(&packet::error(packet::ERR_UNDEFINED, why), client)
                .await;
            ended(&*observer, &refused(client, &filename, why));
            continue;
        };
        let (settings, observer) = (settings.clone(), observer.clone());
        let bind_ip = local.map(|l| l.ip());
        tokio::spawn(async move {
            let report = transfer(&settings, bind_ip, client, &filename, &options).await;
            drop(slot);
            ended(&*observer, &report);
        });
    }
}

fn refused(client: SocketAddr, filename: &str, why: &str) -> TransferReport {
    TransferReport {
        client,
        filename: filename.to_string(),
        outcome: "refused",
        detail: why.to_string(),
        bytes: 0,
        duration: Duration::ZERO,
        blksize: packet::DEFAULT_BLKSIZE,
        windowsize: 1,
    }
}

/// `name` inside `root`, or the error to send: leading slashes are dropped, `..` and
/// anything that resolves (through symlinks) outside `root` are access violations.
pub fn resolve(root: &Path, name: &str) -> Result<PathBuf, (u16, String)> {
    let rel = Path::new(name.trim_start_matches(['/', '\\']));
    let violation = || (packet::ERR_ACCESS, format!("{name}: access violation"));
    if name.contains('\\') || name.contains('\0') {
        return Err(violation());
    }
    for c in rel.components() {
        if !matches!(c, Component::Normal(_) | Component::CurDir) {
            return Err(violation());
        }
    }
    let root = root
        .canonicalize()
        .map_err(|e| (packet::ERR_NOT_FOUND, format!("{name}: {e}")))?;
    let path = root
        .join(rel)
        .canonicalize()
        .map_err(|_| (packet::ERR_NOT_FOUND, "File not found".to_string()))?;
    if !path.starts_with(&root) {
        return Err(violation());
    }
    if !path.is_file() {
        return Err((packet::ERR_NOT_FOUND, "File not found".to_string()));
    }
    Ok(path)
}

struct Transfer {
    sock: UdpSocket,
    report: TransferReport,
    started: Instant,
}

impl Transfer {
    fn end(mut self, outcome: &'static str, detail: String) -> TransferReport {
        self.report.outcome = outcome;
        self.report.detail = detail;
        self.report.duration = self.started.elapsed();
        self.report
    }

    async fn refuse(self, code: u16, why: String) -> TransferReport {
        let _ = self.sock.send(&packet::error(code, &why)).await;
        self.end("refused", why)
    }
}

enum Answer {
    Ack(u16),
    Gone(&'static str, String),
    Timeout,
}

/// Wait for the client's next ACK (other packets are ignored), up to `timeout`.
async fn next_ack(sock: &UdpSocket, timeout: Duration) -> Answer {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let r = tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await;
        match r {
            Err(_) => return Answer::Timeout,
            Ok(Err(e)) => return Answer::Gone("aborted", format!("socket: {e}")),
            Ok(Ok(n)) => match packet::parse(&buf[..n]) {
                Ok(Packet::Ack(b)) => return Answer::Ack(b),
                Ok(Packet::Error { code, message }) => {
                    return Answer::Gone("aborted", format!("client error {code}: {message}"));
                }
                Ok(_) | Err(_) => continue,
            },
        }
    }
}

async fn transfer(
    settings: &TftpSettings,
    bind_ip: Option<IpAddr>,
    client: SocketAddr,
    filename: &str,
    options: &[(String, String)],
) -> TransferReport {
    let started = Instant::now();
    let mut report = TransferReport {
        client,
        filename: filename.to_string(),
        outcome: "complete",
        detail: String::new(),
        bytes: 0,
        duration: Duration::ZERO,
        blksize: packet::DEFAULT_BLKSIZE,
        windowsize: 1,
    };
    let bind: SocketAddr = match bind_ip {
        Some(ip) if !ip.is_unspecified() => SocketAddr::new(ip, 0),
        _ if client.is_ipv6() => "[::]:0".parse().expect("address"),
        _ => "0.0.0.0:0".parse().expect("address"),
    };
    let sock = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => {
            report.outcome = "refused";
            report.detail = format!("cannot open a transfer socket: {e}");
            return report;
        }
    };
    if let Err(e) = sock.connect(client).await {
        report.outcome = "refused";
        report.detail = format!("cannot reach {client}: {e}");
        return report;
    }
    let t = Transfer {
        sock,
        report,
        started,
    };
    let path = match resolve(&settings.root, filename) {
        Ok(p) => p,
        Err((code, why)) => return t.refuse(code, why).await,
    };
    // Reads are positioned reads of one window at a time, done in place: the files are
    // iPXE binaries that sit in the page cache, and a thread hop per block (tokio::fs) was
    // the cost that made lock-step transfers slower than tftpd-hpa.
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            return t
                .refuse(packet::ERR_ACCESS, format!("{filename}: {e}"))
                .await;
        }
    };
    let size = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            return t
                .refuse(packet::ERR_ACCESS, format!("{filename}: {e}"))
                .await;
        }
    };
    let n = packet::negotiate(options, size, settings.limits, settings.timeout);
    let mut t = t;
    t.report.blksize = n.blksize;
    t.report.windowsize = n.windowsize;
    let blksize = u64::from(n.blksize);
    // The last block is the first shorter than blksize (possibly empty).
    let last = size / blksize + 1;

    if !n.oack.is_empty() {
        let oack = packet::oack(&n.oack);
        let mut tries = 0;
        loop {
            if let Err(e) = t.sock.send(&oack).await {
                return t.end("aborted", format!("socket: {e}"));
            }
            match next_ack(&t.sock, n.timeout).await {
                Answer::Ack(0) => break,
                Answer::Ack(_) => {}
                Answer::Gone(o, why) => return t.end(o, why),
                Answer::Timeout => {
                    tries += 1;
                    if tries > settings.retries {
                        return t.end(
                            "timeout",
                            format!("no ACK of the option acknowledgement after {tries} sends"),
                        );
                    }
                }
            }
        }
    }

    let mut window = vec![0u8; usize::from(n.windowsize) * usize::from(n.blksize)];
    let mut pkt: Vec<u8> = Vec::with_capacity(4 + usize::from(n.blksize));
    // Blocks 1..=acked are acknowledged; each round sends acked+1 ..= acked+count.
    let mut acked: u64 = 0;
    let mut tries = 0;
    loop {
        let count = (last - acked).min(u64::from(n.windowsize));
        let offset = acked * blksize;
        let want = (count * blksize).min(size.saturating_sub(offset)) as usize;
        if let Err(e) = read_at(&file, &mut window[..want], offset) {
            return t
                .refuse(packet::ERR_UNDEFINED, format!("{filename}: read: {e}"))
                .await;
        }
        for i in 0..count {
            let from = ((i * blksize) as usize).min(want);
            let to = (((i + 1) * blksize) as usize).min(want);
            pkt.clear();
            pkt.extend_from_slice(&packet::DATA.to_be_bytes());
            pkt.extend_from_slice(&((acked + 1 + i) as u16).to_be_bytes());
            pkt.extend_from_slice(&window[from..to]);
            if let Err(e) = t.sock.send(&pkt).await {
                return t.end("aborted", format!("socket: {e}"));
            }
        }
        // Wait for an ACK inside the window; older ones are duplicates and ignored (no
        // Sorcerer's Apprentice resends). An ACK short of the window's end (RFC 7440: the
        // client saw a gap) moves the window to just after it.
        let moved = loop {
            match next_ack(&t.sock, n.timeout).await {
                Answer::Ack(b) => {
                    if let Some(k) = (1..=count).find(|k| ((acked + k) as u16) == b) {
                        break Some(k);
                    }
                }
                Answer::Gone(o, why) => return t.end(o, why),
                Answer::Timeout => break None,
            }
        };
        match moved {
            Some(k) => {
                tries = 0;
                acked += k;
                t.report.bytes = (acked * blksize).min(size);
                if acked == last {
                    return t.end("complete", String::new());
                }
            }
            None => {
                tries += 1;
                if tries > settings.retries {
                    let why =
                        format!("the client stopped answering after block {acked} ({tries} sends)");
                    return t.end("timeout", why);
                }
            }
        }
    }
}

/// Fill `buf` from `offset` (short only at the end of the file).
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64)? {
            0 => break,
            k => got += k,
        }
    }
    Ok(())
}
