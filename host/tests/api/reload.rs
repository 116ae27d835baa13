//! Hot reload (issue 11): installing and rolling back a plugin while
//! `serve` answers a bounded load drops no request, and every decision
//! names one whole plugin: the one active before or the one after.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crm_consent::engine::with_manifest;
use serde_json::{Value, json};

use crate::support::{Server, expect, key, ready};

/// The sha256 of the decision a dial gets now.
fn dial(server: &Server, op: &str) -> String {
    let d = expect(
        server
            .post(op, "/hooks/dial", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    d["plugin_sha256"].as_str().unwrap().to_owned()
}

#[test]
fn installing_and_rolling_back_under_load_drops_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let (admin, op) = (key(&db, "admin"), key(&db, "operator"));
    let server = Server::start(&db);
    let v1 = dial(&server, &op);
    let stop = AtomicBool::new(false);
    // The same rules with one more custom section: another sha256.
    let v2_bytes = with_manifest(crm_consent::BUNDLED_PLUGIN, r#"{"memory_mib": 32}"#);

    let (seen, after_upload, after_rollback) = thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut seen = Vec::new();
                    // Bounded: at most 2,000 requests per worker.
                    for _ in 0..2000 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let r = server
                            .post(&op, "/hooks/dial", json!({"contact": 1}))
                            .send()
                            .unwrap();
                        let status = r.status().as_u16();
                        let body: Value = r.json().unwrap();
                        seen.push((status, body["plugin_sha256"].as_str().map(str::to_owned)));
                    }
                    seen
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(300));
        let info = expect(
            server
                .client
                .post(server.url("/setup/plugins"))
                .bearer_auth(&admin)
                .header("content-type", "application/wasm")
                .body(v2_bytes.clone())
                .send()
                .unwrap(),
            201,
        );
        // Once the install answered, the next decision is the new plugin's.
        let after_upload = (
            info["sha256"].as_str().unwrap().to_owned(),
            dial(&server, &op),
        );
        thread::sleep(Duration::from_millis(300));
        expect(
            server
                .post(&admin, "/setup/rollback", json!({}))
                .send()
                .unwrap(),
            200,
        );
        let after_rollback = dial(&server, &op);
        thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        let seen: Vec<_> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        (seen, after_upload, after_rollback)
    });

    let (v2, first_after) = after_upload;
    assert_ne!(v1, v2);
    assert_eq!(first_after, v2, "the install is live when it answers");
    assert_eq!(after_rollback, v1, "the rollback is live when it answers");
    assert!(seen.len() > 20, "the load ran: {} requests", seen.len());
    let failed: Vec<_> = seen.iter().filter(|(status, _)| *status != 200).collect();
    assert!(failed.is_empty(), "dropped or failed requests: {failed:?}");
    let plugins: BTreeSet<_> = seen.iter().map(|(_, sha)| sha.clone()).collect();
    let whole: BTreeSet<_> = [Some(v1), Some(v2)].into_iter().collect();
    assert!(
        plugins.is_subset(&whole),
        "every decision names the plugin before or after: {plugins:?}"
    );
}
