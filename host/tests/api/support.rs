//! A real `crm-consent serve` on loopback, over a real database file, with
//! one key per role.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm-consent"));
    cmd.env("CRM_CONSENT_ACTOR", "api-test")
        .env(
            "CRM_CONSENT_CACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
        )
        .env_remove("RUST_LOG");
    cmd
}

pub fn run(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("the binary runs")
}

#[track_caller]
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "crm-consent {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A database with the plugin, every check on, a consent type `email` for
/// single emails and calls, a newsletter type, and one contact (id 1).
pub fn ready(dir: &Path) -> PathBuf {
    let db = dir.join("consent.db");
    ok(&db, &["init"]);
    ok(&db, &["setup", "install", "--bundled"]);
    ok(&db, &["setup", "enable"]);
    ok(
        &db,
        &[
            "types",
            "add",
            "email",
            "--title",
            "Email",
            "--text",
            "You may email me",
            "--channels",
            "single_email,phone",
        ],
    );
    ok(
        &db,
        &[
            "types",
            "add",
            "newsletter",
            "--title",
            "Newsletter",
            "--text",
            "Send me news",
            "--channels",
            "bulk_email",
        ],
    );
    ok(
        &db,
        &[
            "contacts",
            "add",
            "--name",
            "Anna",
            "--email",
            "anna@example.com",
        ],
    );
    db
}

/// Makes a key with `role` and returns its secret.
pub fn key(db: &Path, role: &str) -> String {
    let out = ok(
        db,
        &["--json", "keys", "create", "--role", role, "--name", role],
    );
    let made: Value = serde_json::from_str(&out).unwrap();
    made["secret"].as_str().unwrap().to_owned()
}

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub client: Client,
}

impl Server {
    pub fn start(db: &Path) -> Server {
        Server::start_logging(db, Stdio::null())
    }

    /// A server whose log (stderr, under the default filter) goes to `log`.
    pub fn start_logging(db: &Path, log: impl Into<Stdio>) -> Server {
        let mut child = bin()
            .arg("--db")
            .arg(db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Server {
            child,
            base,
            // A fresh connection per request: under the full suite's load a
            // kept-alive connection was once closed under a reused request
            // (IncompleteMessage on a GET after an import); the cause is not
            // found, and no test here is about connection reuse.
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub fn get(&self, key: &str, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(key)
    }

    pub fn post(&self, key: &str, path: &str, body: Value) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
    }

    /// GETs `path` as JSON, asserting a 200.
    #[track_caller]
    pub fn read(&self, key: &str, path: &str) -> Value {
        let r = self.get(key, path).send().unwrap();
        expect(r, 200)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON of a response with `status`, or a panic that shows the body.
#[track_caller]
pub fn expect(r: Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().unwrap();
    assert_eq!(got, status, "expected {status}, got {got}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A fresh grant body for `consent_type`.
pub fn grant(consent_type: &str) -> Value {
    json!({"consent_type": consent_type, "method": "email"})
}
