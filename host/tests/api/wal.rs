//! The server copies the WAL back into the database file on a thread of its
//! own: its pooled connections never checkpoint inside a request's commit.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Server, key, ready};

#[test]
fn the_server_checkpoints_the_wal_beside_the_requests() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let before = std::fs::metadata(&db).unwrap().len();
    let server = Server::start(&db);
    for i in 0..200 {
        let r = server
            .post(&op, "/contacts", json!({"name": format!("c{i}")}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    // Only a checkpoint writes the database file itself; nothing but the
    // server has it open, and the writes stopped.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&db).unwrap().len() == before {
        assert!(
            Instant::now() < deadline,
            "the database file never grew: no checkpoint ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
}
