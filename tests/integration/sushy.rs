//! Starts a real sushy-tools emulator (fake driver) over HTTPS with Basic auth for peer tests.
//!
//! The emulator is sushy-tools 2.2.0 from PyPI, installed into `$REPO/.peers/venv` by
//! `scripts/peers.sh` (which `scripts/test.sh` runs). Behaviour the client must cope with
//! (measured, see `tests/fixtures/sushy/notes.md`):
//! * TLS 1.2 only (Python `ssl.PROTOCOL_TLSv1_2`); every response has `Connection: close`.
//! * `/redfish/v1/` needs no auth; everything below it needs Basic auth (401 + `WWW-Authenticate`).
//! * System `Id` is the UUID; NIC `Id` is the MAC (`52:54:00:00:00:01`, colons in the URL path).
//! * No `ETag` header anywhere; `If-Match` is ignored. No SessionService (404).
//! * Reset and PATCH answer 204 with an empty body; power changes show up after a random
//!   delay of up to 11 s (poll `PowerState` for at least 12 s). `BootSourceOverrideEnabled` always
//!   reads `Continuous`. Unknown/`Nmi`/`PowerCycle` reset types answer 501.
//! * Requests with a JSON body must send `Content-Type: application/json` (else 415).
//!
//! Register it in `main.rs` with `mod sushy;`; `rcgen = "0.14"` must be a dev-dependency.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::common::poll;

/// Username written to the emulator's htpasswd file.
pub const USERNAME: &str = "admin";
/// Password for [`USERNAME`].
pub const PASSWORD: &str = "s3cret";
/// bcrypt hash of [`PASSWORD`] (`$2b$`, cost 4). sushy-tools accepts only bcrypt entries
/// (`$2a$`/`$2b$`/`$2y$`) and re-checks the hash on *every* request, so the cost is kept at the
/// minimum: the default cost 12 adds ~0.3 s to each request. Regenerate with
/// `.peers/venv/bin/python -c 'import bcrypt; print(bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4)).decode())'`.
const PASSWORD_BCRYPT: &str = "$2b$04$UGbyVPdZMe8wa5iyRlbWhOX.9c8RqOenm.wVswS2FPX9zVei4ERUO";

/// How long to wait for the emulator to listen (it takes ~0.3 s on an idle machine).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Sushy {
    /// `https://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    /// The emulator's self-signed end-entity certificate (SAN IP 127.0.0.1 and DNS localhost);
    /// trust it as the only root.
    pub cert_pem: String,
    pub username: String,
    pub password: String,
    /// Redfish `Id` of each system, in order (also its UUID): `00000000-0000-4000-8000-00000000000N`.
    pub system_ids: Vec<String>,
    /// Redfish `Name` of each system, in order: `node-N`.
    pub names: Vec<String>,
    /// The single NIC's MAC of each system, in order, lower case: `52:54:00:00:HH:LL`.
    pub macs: Vec<String>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Sushy {
    /// Starts an emulator with `systems` fake systems, all powered `Off`, and waits until it
    /// listens (about 0.3 s).
    ///
    /// Panics with a clear message ("run scripts/test.sh to install sushy-tools") if the venv is
    /// missing, and with the emulator's log if it does not come up.
    pub async fn start(systems: usize) -> Sushy {
        let emulator = venv_dir().join("bin/sushy-emulator");
        if !emulator.is_file() {
            panic!(
                "sushy-tools is not installed ({} is missing): run scripts/test.sh \
                 (or scripts/peers.sh) to install sushy-tools",
                emulator.display()
            );
        }

        let dir = tempfile::Builder::new()
            .prefix("sushy-")
            .tempdir()
            .expect("create a temp dir for sushy-emulator");
        let path = dir.path();

        // Certificate: rcgen's default is an ECDSA P-256 end-entity cert; "127.0.0.1" becomes an
        // IP SAN. The key is PKCS#8 PEM, which Python's ssl module loads.
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
        ])
        .expect("generate a self-signed certificate");
        let cert_pem = certified.cert.pem();
        let cert_path = path.join("cert.pem");
        let key_path = path.join("key.pem");
        write(&cert_path, &cert_pem);
        write(&key_path, &certified.signing_key.serialize_pem());

        let auth_path = path.join("htpasswd");
        write(&auth_path, &format!("{USERNAME}:{PASSWORD_BCRYPT}\n"));

        let mut system_ids = Vec::with_capacity(systems);
        let mut names = Vec::with_capacity(systems);
        let mut macs = Vec::with_capacity(systems);
        for i in 1..=systems {
            system_ids.push(format!("00000000-0000-4000-8000-{i:012x}"));
            names.push(format!("node-{i}"));
            macs.push(format!(
                "52:54:00:00:{:02x}:{:02x}",
                (i >> 8) & 0xff,
                i & 0xff
            ));
        }

        let port = free_port();
        let state_dir = path.join("state");
        let mut conf = String::new();
        writeln!(conf, "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'").unwrap();
        writeln!(conf, "SUSHY_EMULATOR_LISTEN_PORT = {port}").unwrap();
        writeln!(
            conf,
            "SUSHY_EMULATOR_STATE_DIR = {}",
            py_str(&state_dir.to_string_lossy())
        )
        .unwrap();
        writeln!(conf, "SUSHY_EMULATOR_FAKE_DRIVER = True").unwrap();
        writeln!(
            conf,
            "SUSHY_EMULATOR_AUTH_FILE = {}",
            py_str(&auth_path.to_string_lossy())
        )
        .unwrap();
        writeln!(conf, "SUSHY_EMULATOR_FAKE_SYSTEMS = [").unwrap();
        for ((id, name), mac) in system_ids.iter().zip(&names).zip(&macs) {
            writeln!(
                conf,
                "    {{'uuid': {}, 'name': {}, 'power_state': 'Off', 'nics': [{{'mac': {}}}]}},",
                py_str(id),
                py_str(name),
                py_str(mac)
            )
            .unwrap();
        }
        writeln!(conf, "]").unwrap();
        let conf_path = path.join("conf.py");
        write(&conf_path, &conf);

        let log_path = path.join("sushy.log");
        let log = std::fs::File::create(&log_path).expect("create sushy.log");
        let log_err = log.try_clone().expect("clone sushy.log handle");
        let child = Command::new(&emulator)
            .arg("--config")
            .arg(&conf_path)
            .arg("--fake")
            .arg("--ssl-certificate")
            .arg(&cert_path)
            .arg("--ssl-key")
            .arg(&key_path)
            .current_dir(path)
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("SUSHY_EMULATOR_CONFIG")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", emulator.display()));

        let mut sushy = Sushy {
            url: format!("https://127.0.0.1:{port}"),
            cert_pem,
            username: USERNAME.to_string(),
            password: PASSWORD.to_string(),
            system_ids,
            names,
            macs,
            child,
            _dir: dir,
        };
        sushy.wait_ready(port, &log_path).await;
        sushy
    }

    /// `{url}/redfish/v1/Systems/{id}` of the `i`th system.
    pub fn system_url(&self, i: usize) -> String {
        format!("{}/redfish/v1/Systems/{}", self.url, self.system_ids[i])
    }

    /// Waits until werkzeug has logged that it serves on our port *and* the port accepts a TCP
    /// connection. Checking the log guards against the (unlikely) case where another process took
    /// the port between `free_port()` and the emulator's bind: the emulator then exits with
    /// "Address already in use" and never logs "Running on".
    async fn wait_ready(&mut self, port: u16, log_path: &Path) {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let banner = format!("Running on https://127.0.0.1:{port}");
        let ready = poll(STARTUP_TIMEOUT, async || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "sushy-emulator exited during startup ({status}); log {}:\n{}",
                    log_path.display(),
                    read_log(log_path)
                );
            }
            if !read_log(log_path).contains(&banner) {
                return Err(());
            }
            TcpStream::connect(addr).await.map(drop).map_err(drop)
        })
        .await;
        if ready.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "sushy-emulator did not listen on {addr} within {STARTUP_TIMEOUT:?}; log {}:\n{}",
                log_path.display(),
                read_log(log_path)
            );
        }
    }
}

impl Drop for Sushy {
    fn drop(&mut self) {
        // SIGKILL; the emulator keeps nothing that needs a clean shutdown (it also dies at once
        // on SIGTERM, exit status 143). Wait so no zombie is left behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$REPO/.peers/venv`.
fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/venv")
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local_addr").port();
    drop(listener);
    port
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A Python single-quoted string literal.
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
