//! The fault-injection suite: the real `rackboot serve` binary, killed (SIGKILL from here,
//! or SIGABRT at a crash point: `src/faults.rs`, `RACKBOOT_CRASH_AT`) or stopped (SIGTERM)
//! at many points of BOS sessions and PCS transitions, then restarted on the same data
//! directory; plus BMCs that hang, fail or answer slowly among healthy ones, and a second
//! appliance or a newer schema on a data directory. After each restart a case checks that
//! the session or transition completes, every node ends where it should, the BMC counters
//! show exactly the planned actions (none repeated, none missing), no retry budget was spent
//! on a crash, and the store passes `PRAGMA integrity_check`; each case prints what it
//! checked. Everything runs on loopback against SimBmcs (and simulated netbooting nodes) in
//! this test process, so the BMCs outlive the appliance they serve.

mod bmcs;
mod bos;
mod disk;
mod import;
mod owner;
mod pcs;
mod replicas;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::common::{Server, wait_until};

/// A `rackboot serve` child in the lab shape on a fixed loopback port (so a restart is found
/// where the nodes left it), with quick operator timing.
pub struct Appliance {
    child: Child,
    pub port: u16,
    pub data: PathBuf,
    log: PathBuf,
    starts: u32,
}

/// A free loopback port (bound and released: the appliance binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(data: &Path, port: u16, log: &Path, crash_at: Option<&str>, extra: &[&str]) -> Child {
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rackboot"));
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--control-listen", "boot", "--no-auth"])
        .args(["--boot-rate-limit", "0", "--tftp-listen", "off"])
        .args(["--advertise-url", &base])
        .args(["--bos-poll-ms", "100", "--power-confirm-ms", "100"])
        .args(["--power-sample-secs", "1", "--bmc-timeout-secs", "2"])
        .args(["--bmc-events-idle-secs", "0"])
        .args(extra)
        .env_remove("RACKBOOT_CRASH_AT")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .kill_on_drop(true);
    if let Some(point) = crash_at {
        cmd.env("RACKBOOT_CRASH_AT", point);
    }
    cmd.spawn().unwrap()
}

impl Appliance {
    /// Start on `data` (created if missing) and wait until it is ready.
    pub async fn start(data: &Path, extra: &[&str]) -> Appliance {
        let mut a = Appliance::spawn(data, free_port(), None, extra);
        a.ready().await;
        a
    }

    /// Start without waiting (a crash point may end it before it is ready).
    pub fn spawn(data: &Path, port: u16, crash_at: Option<&str>, extra: &[&str]) -> Appliance {
        std::fs::create_dir_all(data).unwrap();
        let log = data.with_extension("log");
        let child = spawn(data, port, &log, crash_at, extra);
        Appliance {
            child,
            port,
            data: data.to_path_buf(),
            log,
            starts: 1,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What every helper that takes a [`Server`] needs.
    pub fn server(&self) -> Server {
        Server::remote(&self.base(), &self.data)
    }

    /// The appliance's log so far (every start's), for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `/readyz` answers 200; panics with the log if the process ends first.
    pub async fn ready(&mut self) {
        let url = format!("{}/readyz", self.base());
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "rackboot serve exited ({st}) before it was ready:\n{}",
                    self.log()
                );
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("rackboot serve not ready after 30 s:\n{}", self.log());
    }

    /// Start again on the same data directory and port, optionally armed at a crash point.
    pub fn restart(&mut self, crash_at: Option<&str>) {
        self.child = spawn(&self.data, self.port, &self.log, crash_at, &[]);
        self.starts += 1;
    }

    /// SIGKILL, and reap it.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM; returns how it exited.
    pub async fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running") as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        self.exit(within).await
    }

    /// Wait for the process to end by itself (a crash point, or a refusal to start).
    pub async fn exit(&mut self, within: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(st) => st.unwrap(),
            Err(_) => panic!(
                "rackboot serve still running after {within:?}:\n{}",
                self.log()
            ),
        }
    }

    /// Wait until an armed crash point has aborted the process.
    pub async fn crashed(&mut self, point: &str) {
        use std::os::unix::process::ExitStatusExt;
        let st = self.exit(Duration::from_secs(60)).await;
        assert_eq!(
            st.signal(),
            Some(6),
            "expected an abort at {point}, got {st}:\n{}",
            self.log()
        );
        assert!(
            self.log().contains(&format!("crash point {point} reached")),
            "{}",
            self.log()
        );
    }

    pub fn starts(&self) -> u32 {
        self.starts
    }
}

/// `PRAGMA integrity_check` of the store in `data`: `ok` or what is wrong.
pub async fn integrity(data: &Path) -> String {
    use sqlx::ConnectOptions;
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data.join("rackboot.db"))
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut c)
        .await
        .unwrap();
    rows.join("; ")
}

/// Wait until `f` holds, polling every 20 ms for at most `within`.
pub async fn until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    wait_until(what, within, async || if f() { Ok(()) } else { Err("no") }).await
}

/// Print what a case checked (shown by nextest for failing cases, and with
/// `--no-capture`).
pub fn checked(case: &str, what: &[String]) {
    println!("fault case {case}: checked");
    for w in what {
        println!("  - {w}");
    }
}
