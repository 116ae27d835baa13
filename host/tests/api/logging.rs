//! The server's log: one line per request with its method, path, status,
//! latency and request id, so a CRM's bug report with an id leads to it.

use std::fs::File;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Server, key, ready};

#[test]
fn every_request_is_one_log_line_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let log_path = dir.path().join("serve.log");
    let mut server = Server::start_logging(&db, File::create(&log_path).unwrap());

    // The server makes an id, answers with it, and logs it.
    let r = server
        .post(&op, "/hooks/dial", json!({"contact": 999_999}))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!made.is_empty());
    // A CRM's own id is kept, in the answer and in the log.
    let r = server
        .get(&op, "/setup/switches")
        .header("x-request-id", "crm-trace-42")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-request-id"], "crm-trace-42");
    // Two requests, two ids.
    let again = server.get(&op, "/setup/switches").send().unwrap();
    let second = again.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(made, second);

    let lines = wait_for_lines(&log_path, 3);
    let dial = lines
        .iter()
        .find(|l| l.contains(&format!("id={made}")))
        .unwrap_or_else(|| panic!("no line for request `{made}` in:\n{}", lines.join("\n")));
    for field in [
        "method=POST",
        "path=/api/v1/hooks/dial",
        &format!("status={status}"),
        "latency_us=",
    ] {
        assert!(dial.contains(field), "`{field}` missing from {dial:?}");
    }
    let traced = lines
        .iter()
        .find(|l| l.contains("id=crm-trace-42"))
        .unwrap_or_else(|| panic!("the CRM's id is not logged:\n{}", lines.join("\n")));
    assert!(traced.contains("method=GET") && traced.contains("status=200"));
    // A log file is for tools: no terminal colour codes.
    assert!(!lines.iter().any(|l| l.contains('\u{1b}')), "{lines:?}");
    server.child.kill().unwrap();
}

/// The log's request lines, once there are at least `n` (a line is written
/// as its answer goes out, so it may trail the answer by a moment).
fn wait_for_lines(path: &std::path::Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains("request"))
            .map(str::to_owned)
            .collect();
        if lines.len() >= n || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
