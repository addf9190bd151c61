//! Several replicas on one PostgreSQL database (tier peer: scripts/pg.sh): real `rackboot
//! serve` processes, each with its own data directory (holding a copy of the first one's
//! `seal.key`) and one artifact directory between them, as two hosts would share an S3
//! origin. One leads the operators; the other serves the API and the boot plane; a write
//! on one is what the other serves at once; and when the leader is killed mid-session, the
//! other takes over within the lease and the session completes with no reset repeated.

use std::path::Path;
use std::time::{Duration, Instant};

use redfish::sim::SimConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Appliance, checked, until};
use crate::bos::{Lab, assert_all_stable, put_image};
use crate::common::wait_until;

/// The lease the tests run with (the default is 10 s).
const LEASE_SECS: u64 = 3;

fn args<'a>(url: &'a str, artifacts: &'a str) -> Vec<&'a str> {
    vec![
        "--store-url",
        url,
        "--leader-lease-secs",
        "3",
        "--artifacts-dir",
        artifacts,
    ]
}

async fn cluster(base: &str) -> Value {
    let r = reqwest::get(format!("{base}/apis/rackboot/v1/cluster"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Wait until `base` says `leader` leads (by its replica id) and `alive` replicas answer.
async fn led_by(base: &str, leader: &str, alive: usize, within: Duration) -> Value {
    let mut last = Value::Null;
    let what = format!("{leader} to lead {alive} live replica(s), as {base} sees it");
    wait_until(&what, within, async || {
        last = cluster(base).await;
        let live = last["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["alive"] == true)
            .count();
        if last["leader"] == leader && live == alive {
            Ok(())
        } else {
            Err(last.to_string())
        }
    })
    .await;
    last
}

/// Two replicas: the first started alone (so it leads), the second with a copy of its
/// seal.key and the same artifact directory; their ids, and their database's URL.
async fn two_replicas(dir: &Path) -> (Appliance, String, Appliance, String, String) {
    let url = rackboot::store::postgres::testdb::fresh_database().await;
    let (da, db) = (dir.join("a"), dir.join("b"));
    let artifacts = da.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let art = artifacts.to_str().unwrap().to_string();
    let a = Appliance::start(&da, &args(&url, &art)).await;
    let id_a = cluster(&a.base()).await["this_replica"]
        .as_str()
        .unwrap()
        .to_string();
    led_by(&a.base(), &id_a, 1, Duration::from_secs(10)).await;
    std::fs::create_dir_all(&db).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::copy(da.join("seal.key"), db.join("seal.key")).unwrap();
    let b = Appliance::start(&db, &args(&url, &art)).await;
    let id_b = cluster(&b.base()).await["this_replica"]
        .as_str()
        .unwrap()
        .to_string();
    led_by(&b.base(), &id_a, 2, Duration::from_secs(10)).await;
    (a, id_a, b, id_b, url)
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn a_write_on_one_replica_is_what_the_other_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _, b, _, _) = two_replicas(dir.path()).await;
    let (sa, sb) = (a.server(), b.server());
    // Warm the follower's boot index first, so only an invalidation can refresh it.
    let script = |s: &crate::common::Server| {
        let url = s.url("/boot/v1/bootscript?mac=02:00:00:00:aa:01&arch=x86_64");
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let before = script(&sb).await;
    assert!(!before.contains("vmlinuz-replicated"), "{before}");
    sa.add_node("x3000c0s9b0n0", 9, "Compute", "02:00:00:00:aa:01")
        .await;
    let (st, v) = sa
        .send(
            reqwest::Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x3000c0s9b0n0"], "kernel": "http://10.1.0.1/vmlinuz-replicated",
                   "params": "console=ttyS0"}),
        )
        .await;
    assert!(st.is_success(), "{st} {v}");
    let on_leader = script(&sa).await;
    assert!(on_leader.contains("vmlinuz-replicated"), "{on_leader}");
    let t0 = Instant::now();
    let mut after = String::new();
    wait_until(
        "the follower to serve the leader's boot parameters",
        Duration::from_secs(5),
        async || {
            after = script(&sb).await;
            if after.contains("vmlinuz-replicated") {
                Ok(())
            } else {
                Err(after.clone())
            }
        },
    )
    .await;
    checked(
        "a write on one replica",
        &[
            format!(
                "boot parameters PUT on the leader were in the follower's boot script {} ms later (its boot index was warm: only the store notification refreshed it)",
                t0.elapsed().as_millis()
            ),
            format!("{} bytes of script", after.len()),
        ],
    );
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn a_killed_leader_is_replaced_within_the_lease_and_its_session_completes() {
    let n = 200;
    let dir = tempfile::tempdir().unwrap();
    let (mut a, id_a, b, id_b, _) = two_replicas(dir.path()).await;
    // Admins talk to the leader; the nodes boot from the follower.
    let mut s = a.server();
    s.boot_base = b.base();
    let lab_dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::around(s, lab_dir, n, SimConfig::default()).await;
    for bmc in lab.fleet.bmcs() {
        bmc.set_latency(Duration::from_millis(50));
    }
    // The follower answers power status from the leader's samples.
    let follower = b.server();
    wait_until(
        "the follower's power status of every node",
        Duration::from_secs(20),
        async || {
            let (st, v) = follower
                .send(
                    reqwest::Method::POST,
                    "/apis/power-control/v1/power-status",
                    json!({"xname": lab.xnames}),
                )
                .await;
            let all_off = st == StatusCode::OK
                && v["status"]
                    .as_array()
                    .is_some_and(|s| s.len() == n && s.iter().all(|e| e["powerState"] == "off"));
            if all_off { Ok(()) } else { Err(v.to_string()) }
        },
    )
    .await;
    let img = put_image(&a.server(), "img");
    lab.template("t", &img, &lab.xnames).await;
    // One attempt each: an attempt the failover spent would fail its node.
    lab.options(json!({"default_retry_policy": 1})).await;
    // A client polling both replicas' boot plane throughout: the longest it goes without
    // an answer from either.
    let polling = tokio_util::sync::CancellationToken::new();
    let mac = lab.nodes.nodes()[0].mac().to_string();
    let poller = tokio::spawn({
        let urls =
            [a.base(), b.base()].map(|u| format!("{u}/boot/v1/bootscript?mac={mac}&arch=x86_64"));
        let stop = polling.clone();
        async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap();
            let (mut last_ok, mut worst, mut answers) = (Instant::now(), Duration::ZERO, 0u32);
            while !stop.is_cancelled() {
                for u in &urls {
                    // A script either way: the node's (once its boot parameters are
                    // written) or the retry script before.
                    let ok = match http.get(u).send().await {
                        Ok(r) if r.status().is_success() => {
                            r.text().await.is_ok_and(|t| t.starts_with("#!ipxe"))
                        }
                        _ => false,
                    };
                    if ok {
                        worst = worst.max(last_ok.elapsed());
                        last_ok = Instant::now();
                        answers += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (worst.max(last_ok.elapsed()), answers)
        }
    });
    let name = lab.create("t", "boot", None).await;
    until(
        "the leader to be powering nodes on",
        Duration::from_secs(30),
        || lab.fleet.counters().resets > 0,
    )
    .await;
    a.kill().await;
    let killed = Instant::now();
    let at_kill = lab.fleet.counters().resets;
    lab.s.base = b.base();
    wait_until(
        "the follower to lead",
        Duration::from_secs(4 * LEASE_SECS),
        async || {
            let v = cluster(&b.base()).await;
            if v["leader"] == id_b.as_str() {
                Ok(())
            } else {
                Err(v.to_string())
            }
        },
    )
    .await;
    let takeover = killed.elapsed();
    // The killed leader's row goes silent once a lease has passed without a heartbeat.
    let view = led_by(&b.base(), &id_b, 1, Duration::from_secs(4 * LEASE_SECS)).await;
    let status = lab.wait_complete(&name).await;
    polling.cancel();
    let (gap, answers) = poller.await.unwrap();
    assert_all_stable(&status);
    assert!(
        gap <= Duration::from_secs(LEASE_SECS),
        "the boot plane went {gap:?} without an answer from either replica"
    );
    for (i, x) in lab.xnames.iter().enumerate() {
        assert_eq!(lab.resets(i), 1, "{x}: resets at its BMC\n{}", a.log());
    }
    let old = view["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id_a.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(old["alive"], false, "{view:#}");
    assert!(
        takeover <= Duration::from_secs(2 * LEASE_SECS),
        "the follower took {takeover:?} to lead (lease {LEASE_SECS} s)"
    );
    checked(
        "a killed leader",
        &[
            format!(
                "the follower's PCS power-status showed all {n} nodes off, from the leader's samples"
            ),
            format!("leader {id_a} killed (SIGKILL) after {at_kill} of {n} resets"),
            format!(
                "{id_b} led {} ms later (lease {LEASE_SECS} s)",
                takeover.as_millis()
            ),
            format!("session complete, {n} nodes stable, booted from the follower's boot plane"),
            format!(
                "a client polling both replicas for node 0's boot script: {answers} scripts, longest gap {} ms",
                gap.as_millis()
            ),
            "each node's BMC took exactly 1 reset, within a retry policy of 1".into(),
        ],
    );
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn a_leader_that_loses_its_database_session_stops_leading_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (a, id_a, b, id_b, url) = two_replicas(dir.path()).await;
    let readyz = |base: String| async move {
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(readyz(a.base()).await["role"], "leader");
    assert_eq!(readyz(b.base()).await["role"], "follower");
    // The database drops the leader's lock session (what a cut network or a DBA's
    // pg_terminate_backend does).
    // On the replicas' own database: advisory locks are per database, and other tests'
    // appliances on this server hold the same key in theirs.
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = 8241978105929166704 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(killed, [true], "one session held the operator lock");
    until(
        "the old leader to say it lost the lock",
        Duration::from_secs(10),
        || a.log().contains("lost the operator lock"),
    )
    .await;
    // Exactly one replica leads again (whichever took the free lock first).
    let mut led = String::new();
    wait_until(
        "one leader again",
        Duration::from_secs(4 * LEASE_SECS),
        async || {
            let (ra, rb) = (readyz(a.base()).await, readyz(b.base()).await);
            match (ra["role"].as_str(), rb["role"].as_str()) {
                (Some("leader"), Some("follower")) => led = id_a.clone(),
                (Some("follower"), Some("leader")) => led = id_b.clone(),
                other => return Err(format!("{other:?}")),
            }
            let v = cluster(&b.base()).await;
            if v["leader"] == led.as_str() {
                Ok(())
            } else {
                Err(v.to_string())
            }
        },
    )
    .await;
    checked(
        "a leader that loses its database session",
        &[
            "the database ended the leader's lock session".into(),
            "the old leader logged that it lost the operator lock and stopped running the operators".into(),
            format!("{led} leads now; /readyz and the cluster view agree"),
        ],
    );
}
