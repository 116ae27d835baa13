//! Staff notifications: a receiver that fails twice and then accepts gets
//! the notification once, signed, and the failures are on the timeline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crm_consent::{ContactId, Store};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Server, key, ok, ready};

/// One request as the receiver saw it: headers (lowercase names) and body.
type Seen = (Vec<(String, String)>, String);
/// Every request with the status it was answered.
type Log = Arc<Mutex<Vec<(u16, Seen)>>>;

/// A webhook receiver on loopback answering 500 to the first `fail`
/// requests and 200 after.
fn receiver(fail: usize) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Log = Arc::default();
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let (k, v) = l.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let mut log = log.lock().unwrap();
            let status = if log.len() < fail { 500 } else { 200 };
            log.push((status, (headers, String::from_utf8(body).unwrap())));
            drop(log);
            let reason = if status == 200 {
                "OK"
            } else {
                "Internal Server Error"
            };
            write!(
                stream,
                "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .unwrap();
        }
    });
    (url, seen)
}

fn header<'a>(seen: &'a Seen, name: &str) -> &'a str {
    &seen.0.iter().find(|(k, _)| k == name).unwrap().1
}

#[test]
fn a_receiver_that_fails_twice_gets_the_notification_once_and_the_failures_are_on_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let reader = key(&db, "reader");
    let (url, seen) = receiver(2);
    let set: Value = serde_json::from_str(&ok(&db, &["--json", "setup", "webhook", &url])).unwrap();
    let secret = hex::decode(set["secret"].as_str().unwrap()).unwrap();
    let server = Server::start(&db);
    let event = json!({"contact": 1, "change": "withdrew", "consent_type": "email"});
    Store::open(&db)
        .unwrap()
        .notify(ContactId(1), &event)
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().iter().all(|(s, _)| *s != 200) {
        assert!(
            Instant::now() < deadline,
            "no delivery: {:?}",
            seen.lock().unwrap()
        );
        thread::sleep(Duration::from_millis(50));
    }
    // Long enough for a wrongly repeated delivery to show.
    thread::sleep(Duration::from_secs(2));
    let seen = seen.lock().unwrap().clone();
    let statuses: Vec<u16> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [500, 500, 200]);
    for (_, request) in &seen {
        assert_eq!(serde_json::from_str::<Value>(&request.1).unwrap(), event);
        assert_eq!(
            header(request, "x-crm-consent-delivery"),
            header(&seen[0].1, "x-crm-consent-delivery")
        );
        let signature = header(request, "x-crm-consent-signature");
        let (t, v1) = signature.split_once(",v1=").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
        mac.update(format!("{t}.{}", request.1).as_bytes());
        mac.verify_slice(&hex::decode(v1).unwrap())
            .expect("the signature verifies");
    }

    let timeline = server.read(&reader, "/contacts/1/timeline");
    let notes: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "notification")
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].contains("attempt 1 failed") && notes[0].contains("500"),
        "{notes:?}"
    );
    assert!(notes[1].contains("attempt 2 failed"), "{notes:?}");
    assert!(notes[2].contains("delivered"), "{notes:?}");
    assert_eq!(server.read(&reader, "/ledger/verify")["ok"], true);
}

#[test]
fn a_webhook_must_be_an_http_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let out = crate::support::run(&db, &["setup", "webhook", "ftp://example.com"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`ftp://example.com` is not an http:// or https:// URL"),
        "{err}"
    );
}
