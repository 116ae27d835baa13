//! The server killed with SIGKILL under load, then restarted: every write it
//! acknowledged is there, the ledger verifies, and retries with the same
//! idempotency keys write nothing twice.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, key, ready};

const WRITERS: usize = 6;
const PER_WRITER: usize = 40;

fn body(w: usize, i: usize) -> Value {
    json!({"name": format!("w{w}-{i}"), "email": format!("w{w}-{i}@example.com")})
}

#[test]
fn acknowledged_writes_survive_sigkill_and_retries_write_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let mut server = Server::start(&db);
    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    // Idempotency key -> the contact id the server acknowledged.
    let acked: Mutex<BTreeMap<String, i64>> = Mutex::new(BTreeMap::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    thread::scope(|s| {
        for w in 0..WRITERS {
            let (server, op, acked) = (&server, &op, &acked);
            s.spawn(move || {
                for i in 0..PER_WRITER {
                    if Instant::now() > deadline {
                        return;
                    }
                    let idem = format!("w{w}-{i}");
                    let sent = server
                        .post(op, "/contacts", body(w, i))
                        .header("Idempotency-Key", &idem)
                        .send();
                    let Ok(r) = sent else { return };
                    if r.status().as_u16() != 201 {
                        return;
                    }
                    let Ok(c) = r.json::<Value>() else { return };
                    acked
                        .lock()
                        .unwrap()
                        .insert(idem, c["id"].as_i64().unwrap());
                }
            });
        }
        // Kill once a good share of the writes is acknowledged.
        while acked.lock().unwrap().len() < WRITERS * PER_WRITER / 3 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    });
    server.child.wait().unwrap();
    let acked = acked.into_inner().unwrap();
    assert!(!acked.is_empty());
    drop(server);

    let server = Server::start(&db);
    let report = server.read(&op, "/ledger/verify");
    assert_eq!(report["ok"], true, "{report}");
    for (idem, id) in &acked {
        let c = server.read(&op, &format!("/contacts/{id}"));
        assert_eq!(c["name"], idem.as_str());
    }
    // Every request again, with its key: acknowledged ones are replayed, the
    // rest written now, and none twice.
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            let idem = format!("w{w}-{i}");
            let r = server
                .post(&op, "/contacts", body(w, i))
                .header("Idempotency-Key", &idem)
                .send()
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
            let replayed = r.headers().contains_key("idempotent-replayed");
            let c: Value = r.json().unwrap();
            if let Some(id) = acked.get(&idem) {
                assert!(
                    replayed,
                    "{idem} was acknowledged, so its retry is a replay"
                );
                assert_eq!(c["id"].as_i64(), Some(*id));
            }
        }
    }
    let mut names: Vec<String> = Vec::new();
    let mut after = 0;
    loop {
        let page = server.read(&op, &format!("/contacts?after={after}&limit=1000"));
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap()["id"].as_i64().unwrap();
        names.extend(page.iter().map(|c| c["name"].as_str().unwrap().to_owned()));
    }
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(names.len(), distinct.len(), "a retry wrote a contact twice");
    assert_eq!(names.len(), 1 + WRITERS * PER_WRITER);
    assert_eq!(server.read(&op, "/ledger/verify")["ok"], true);
}

/// The dial hook's refusals commit in groups (`store::group_commit`): each
/// request still answers only once its row is committed, so a justify the
/// server acknowledged with a decision-log id is there after a SIGKILL.
#[test]
fn acknowledged_refusals_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let mut server = Server::start(&db);
    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    let acked: Mutex<Vec<i64>> = Mutex::new(Vec::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    thread::scope(|s| {
        for _ in 0..WRITERS {
            let (server, op, acked) = (&server, &op, &acked);
            s.spawn(move || {
                while Instant::now() < deadline {
                    let sent = server.post(op, "/hooks/dial", json!({"contact": 1})).send();
                    let Ok(r) = sent else { return };
                    if r.status().as_u16() != 200 {
                        return;
                    }
                    let Ok(d) = r.json::<Value>() else { return };
                    // Anna gave no consent: a justify, always logged.
                    assert_eq!(d["outcome"], "justify", "{d}");
                    acked.lock().unwrap().push(d["logged"].as_i64().unwrap());
                }
            });
        }
        while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    });
    server.child.wait().unwrap();
    let mut acked = acked.into_inner().unwrap();
    assert!(acked.len() >= 300, "only {} answers", acked.len());
    drop(server);

    let server = Server::start(&db);
    let report = server.read(&op, "/ledger/verify");
    assert_eq!(report["ok"], true, "{report}");
    acked.sort_unstable();
    let n = acked.len();
    acked.dedup();
    assert_eq!(acked.len(), n, "two answers name the same decision-log row");
    for id in [acked[0], acked[n / 2], acked[n - 1]] {
        let d = server.read(&op, &format!("/decisions/{id}"));
        assert_eq!(
            (d["contact"].as_i64(), &d["outcome"]),
            (Some(1), &json!("justify")),
            "{d}"
        );
    }
    assert!(
        report["decisions"].as_u64().unwrap() >= acked[n - 1] as u64,
        "an acknowledged row is missing: {report}"
    );
    let replay = server.read(&op, &format!("/decisions/{}/replay", acked[n - 1]));
    assert_eq!(replay["same"], true, "{replay}");
}
