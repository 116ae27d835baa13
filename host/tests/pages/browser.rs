//! A real headless Chromium, driven through chromedriver (WebDriver).
//!
//! Without Chromium the browser tests say loudly that they were skipped,
//! unless `CRM_CONSENT_REQUIRE_BROWSER=1` (set by `.ci/run`), under which a
//! missing browser fails the run.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver and a session; the driver is killed when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A browser, or `None` (after a loud note) when this machine has none.
pub async fn browser(test: &str) -> Option<Browser> {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("CRM_CONSENT_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "{test}: Chromium is required (CRM_CONSENT_REQUIRE_BROWSER=1) but {CHROMIUM} or {CHROMEDRIVER} is missing"
            );
        }
        eprintln!(
            "\n*** SKIPPED browser test `{test}`: no {CHROMIUM} / {CHROMEDRIVER} on this machine.\n\
             *** Install them with `apt-get install -y chromium chromium-driver` (.ci/run does).\n"
        );
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            // TESTING.md: headless as root, and no background traffic on
            // the closed network.
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=412,915",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a Chromium session: {e}"),
        }
    };
    Some(Browser {
        client,
        driver,
        _profile: profile,
    })
}
