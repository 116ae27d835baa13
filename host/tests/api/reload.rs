//! Hot reload (issue 11): installing and rolling back a plugin, or adding
//! and clearing a rule pack, while `serve` answers a bounded load drops no
//! request, and every decision names one whole set of plugins: the one
//! deciding before or the one after.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crm_consent::engine::with_manifest;
use serde_json::{Value, json};

use crate::support::{Server, expect, key, ready};

/// The answer a dial gets now.
fn dial(server: &Server, op: &str) -> Value {
    expect(
        server
            .post(op, "/hooks/dial", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    )
}

fn sha(answer: &Value) -> String {
    answer["plugin_sha256"].as_str().unwrap().to_owned()
}

/// Runs `admin` while four workers dial (at most 2,000 requests each) and
/// returns every answer's status and body, with what `admin` returned.
fn under_load<T: Send>(
    server: &Server,
    op: &str,
    admin: impl FnOnce() -> T + Send,
) -> (Vec<(u16, Value)>, T) {
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut seen = Vec::new();
                    for _ in 0..2000 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let r = server
                            .post(op, "/hooks/dial", json!({"contact": 1}))
                            .send()
                            .unwrap();
                        let status = r.status().as_u16();
                        seen.push((status, r.json::<Value>().unwrap()));
                    }
                    seen
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(300));
        let done = admin();
        thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        let seen: Vec<_> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        assert!(seen.len() > 20, "the load ran: {} requests", seen.len());
        let failed: Vec<_> = seen.iter().filter(|(status, _)| *status != 200).collect();
        assert!(failed.is_empty(), "dropped or failed requests: {failed:?}");
        (seen, done)
    })
}

fn upload(server: &Server, admin: &str, route: &str, bytes: Vec<u8>) -> Value {
    expect(
        server
            .client
            .post(server.url(route))
            .bearer_auth(admin)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .unwrap(),
        201,
    )
}

#[test]
fn installing_and_rolling_back_under_load_drops_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let (admin, op) = (key(&db, "admin"), key(&db, "operator"));
    let server = Server::start(&db);
    let v1 = sha(&dial(&server, &op));
    // The same rules with one more custom section: another sha256.
    let v2_bytes = with_manifest(crm_consent::BUNDLED_PLUGIN, r#"{"memory_mib": 32}"#);

    let (seen, (v2, first_after, after_rollback)) = under_load(&server, &op, || {
        let info = upload(&server, &admin, "/setup/plugins", v2_bytes);
        // Once the install answered, the next decision is the new plugin's.
        let first_after = sha(&dial(&server, &op));
        thread::sleep(Duration::from_millis(300));
        let rollback = server.post(&admin, "/setup/rollback", json!({}));
        expect(rollback.send().unwrap(), 200);
        let v2 = info["sha256"].as_str().unwrap().to_owned();
        (v2, first_after, sha(&dial(&server, &op)))
    });

    assert_ne!(v1, v2);
    assert_eq!(first_after, v2, "the install is live when it answers");
    assert_eq!(after_rollback, v1, "the rollback is live when it answers");
    let plugins: BTreeSet<_> = seen.iter().map(|(_, body)| sha(body)).collect();
    let whole: BTreeSet<_> = [v1, v2].into_iter().collect();
    assert!(
        plugins.is_subset(&whole),
        "every decision names the plugin before or after: {plugins:?}"
    );
}

#[test]
fn adding_and_clearing_a_rule_pack_under_load_drops_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let (admin, op) = (key(&db, "admin"), key(&db, "operator"));
    let server = Server::start(&db);
    let active = sha(&dial(&server, &op));
    let pack_bytes = with_manifest(crm_consent::BUNDLED_PLUGIN, r#"{"memory_mib": 32}"#);

    let (seen, (pack, with_pack, cleared)) = under_load(&server, &op, || {
        let pack = upload(&server, &admin, "/setup/packs", pack_bytes);
        let with_pack = dial(&server, &op)["chain"].as_array().unwrap().len();
        thread::sleep(Duration::from_millis(300));
        let clear = server
            .client
            .put(server.url("/setup/chain"))
            .bearer_auth(&admin)
            .json(&json!({"packs": []}));
        expect(clear.send().unwrap(), 200);
        let cleared = dial(&server, &op)["chain"].as_array().unwrap().len();
        (
            pack["sha256"].as_str().unwrap().to_owned(),
            with_pack,
            cleared,
        )
    });

    assert_eq!(
        (with_pack, cleared),
        (2, 0),
        "each change is live when it answers"
    );
    // Every decision was made by the active plugin alone, or by the whole
    // chain: never by a chain loaded halfway.
    let chains: BTreeSet<Vec<String>> = seen
        .iter()
        .map(|(_, body)| {
            assert_eq!(sha(body), active, "{body}");
            body["chain"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["plugin_sha256"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    let whole: BTreeSet<Vec<String>> = [vec![], vec![active.clone(), pack]].into_iter().collect();
    assert!(chains.is_subset(&whole), "{chains:?}");
}
