//! SIGTERM while requests are in flight: the server stops taking new ones,
//! finishes those it has, and exits 0. Every request that got an answer is
//! committed, and the ledger verifies.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, key, ok, ready};

/// Contacts a newsletter goes to: enough that a send takes a while.
const CONTACTS: usize = 2000;
const WRITERS: usize = 6;

#[test]
fn sigterm_finishes_the_requests_in_flight_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let mut server = Server::start(&db);

    // The newsletter's audience, over the API, in parallel.
    thread::scope(|s| {
        for w in 0..WRITERS {
            let (server, op) = (&server, &op);
            s.spawn(move || {
                for i in (w..CONTACTS).step_by(WRITERS) {
                    let r = server
                        .post(
                            op,
                            "/contacts",
                            json!({"name": format!("c{i}"), "email": format!("c{i}@example.com")}),
                        )
                        .send()
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                }
            });
        }
    });

    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    // What the server answered: contact names, and the decision-log ids of
    // the newsletters it sent.
    let contacts: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let sends: Mutex<Vec<i64>> = Mutex::new(Vec::new());
    // Answers that arrived after the signal: requests that were in flight.
    let termed = AtomicBool::new(false);
    let after_term = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    thread::scope(|s| {
        for w in 0..WRITERS {
            let (server, op, contacts) = (&server, &op, &contacts);
            let (termed, after_term) = (&termed, &after_term);
            s.spawn(move || {
                for i in 0.. {
                    if Instant::now() > deadline {
                        return;
                    }
                    let name = format!("late-{w}-{i}");
                    let sent = server.post(op, "/contacts", json!({ "name": name })).send();
                    // Refused connections once the server stops listening.
                    let Ok(r) = sent else { return };
                    let status = r.status().as_u16();
                    // An answer is either the write, or a refusal that
                    // says so; never a half-done write.
                    assert!(status == 201 || status == 503, "{status}");
                    if status == 201 {
                        contacts.lock().unwrap().push(name);
                        if termed.load(Ordering::SeqCst) {
                            after_term.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            });
        }
        for _ in 0..2 {
            let (server, op, sends) = (&server, &op, &sends);
            let (termed, after_term) = (&termed, &after_term);
            s.spawn(move || {
                while Instant::now() < deadline {
                    let sent = server.post(op, "/hooks/bulk", json!({})).send();
                    let Ok(r) = sent else { return };
                    if r.status().as_u16() != 200 {
                        return;
                    }
                    let Ok(body) = r.json::<Value>() else { return };
                    sends.lock().unwrap().push(body["logged"].as_i64().unwrap());
                    if termed.load(Ordering::SeqCst) {
                        after_term.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
        // Terminate once newsletters and writes are going.
        while (sends.lock().unwrap().len() < 2 || contacts.lock().unwrap().len() < 20)
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(5));
        }
        termed.store(true, Ordering::SeqCst);
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    });
    assert!(
        after_term.load(Ordering::SeqCst) > 0,
        "no request in flight at SIGTERM was answered"
    );

    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the server did not stop within 30 s of SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "the server exited with {status}");
    drop(server);

    let contacts = contacts.into_inner().unwrap();
    let sends = sends.into_inner().unwrap();
    assert!(!contacts.is_empty() && !sends.is_empty());
    let report: Value = serde_json::from_str(&ok(&db, &["--json", "ledger", "verify"])).unwrap();
    assert_eq!(report["ok"], true, "{report}");

    // Every acknowledged write is there.
    let server = Server::start(&db);
    let mut names = std::collections::BTreeSet::new();
    let mut after = 0;
    loop {
        let page = server.read(&op, &format!("/contacts?after={after}&limit=1000"));
        let page = page.as_array().unwrap();
        let Some(last) = page.last() else { break };
        after = last["id"].as_i64().unwrap();
        names.extend(page.iter().map(|c| c["name"].as_str().unwrap().to_owned()));
    }
    for name in &contacts {
        assert!(names.contains(name), "{name} was acknowledged but is gone");
    }
    for id in &sends {
        let logged = server.read(&op, &format!("/decisions/{id}"));
        assert_eq!(logged["id"], *id);
        assert!(logged["recipients"].is_array() || logged["summary"].is_object());
    }
}
