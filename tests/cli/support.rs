//! The fixture of the CLI tests: one database in a temporary directory and
//! the command line over it, with a fixed `--now` and a shared compile cache.

use std::path::{Path, PathBuf};

use crm_consent::cli::Finished;
use serde_json::Value;
use tempfile::TempDir;

/// A fixed "now", so dates and expiries in the output never drift.
pub const NOW: &str = "2026-01-01T00:00:00Z";

/// One database in its own temporary directory, and the command line over it.
pub struct Crm {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Crm {
    /// No database yet.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("consent.db");
        Crm { dir, db }
    }

    /// A database with the bundled plugin and every check on, no types yet.
    pub fn installed() -> Self {
        let crm = Crm::empty();
        crm.ok(&["init"]);
        crm.ok(&["setup", "install", "--bundled"]);
        crm.ok(&["setup", "enable"]);
        crm
    }

    /// A database with the bundled plugin, every check on, and three types:
    /// newsletter (365 days, bulk_email), email (no expiry, single_email),
    /// phone (30 days, phone).
    pub fn ready() -> Self {
        let crm = Crm::installed();
        crm.ok(&[
            "types",
            "add",
            "newsletter",
            "--text-valid-from",
            "2020-01-01",
            "--title",
            "Newsletter",
            "--text",
            "I want the newsletter",
            "--validity-days",
            "365",
            "--channels",
            "bulk_email",
        ]);
        crm.ok(&[
            "types",
            "add",
            "email",
            "--text-valid-from",
            "2020-01-01",
            "--title",
            "Email",
            "--text",
            "You may email me",
            "--channels",
            "single_email",
        ]);
        crm.ok(&[
            "types",
            "add",
            "phone",
            "--text-valid-from",
            "2020-01-01",
            "--title",
            "Phone",
            "--text",
            "You may call me",
            "--validity-days",
            "30",
            "--channels",
            "phone",
        ]);
        crm
    }

    pub fn cache_dir() -> PathBuf {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache")
    }

    pub fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        self.run_finished(args).map(|(out, _)| out)
    }

    /// The output and how the command came out (which sets the exit status).
    pub fn run_finished(&self, args: &[&str]) -> anyhow::Result<(String, Finished)> {
        let mut argv: Vec<String> = vec!["crm-consent".into()];
        argv.extend(args.iter().map(|a| a.to_string()));
        if !args.contains(&"--db") {
            argv.extend(["--db".into(), self.db.display().to_string()]);
        }
        if !args.contains(&"--now") {
            argv.extend(["--now".into(), NOW.into()]);
        }
        argv.extend([
            "--actor".into(),
            "tester".into(),
            "--cache-dir".into(),
            Crm::cache_dir().display().to_string(),
        ]);
        let mut out = Vec::new();
        let finished = crm_consent::cli::run(argv, &mut out)?;
        Ok((String::from_utf8(out).expect("output is UTF-8"), finished))
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        match self.run(args) {
            Ok(out) => out,
            Err(e) => panic!("crm-consent {args:?} failed: {e:#}"),
        }
    }

    /// The error message, as the binary prints it after `error: `.
    #[track_caller]
    pub fn err(&self, args: &[&str]) -> String {
        match self.run(args) {
            Ok(out) => panic!("crm-consent {args:?} should fail but printed:\n{out}"),
            Err(e) => crm_consent::cli::message(&e),
        }
    }

    /// The exit status and what the binary prints for a failure: the text
    /// for stderr, or with `--json` the JSON for stdout.
    #[track_caller]
    pub fn fail(&self, args: &[&str]) -> (u8, String) {
        let json = args.contains(&"--json");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = match self.run(args) {
            Ok(out) => panic!("crm-consent {args:?} should fail but printed:\n{out}"),
            Err(e) => crm_consent::cli::report(&e, json, &mut out, &mut err),
        };
        let printed = if json { out } else { err };
        (status, String::from_utf8(printed).expect("UTF-8"))
    }

    /// The JSON error object of a failure with `--json`, and the exit status.
    #[track_caller]
    pub fn json_err(&self, args: &[&str]) -> (u8, Value) {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let (status, out) = self.fail(&with_json);
        let value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"));
        (status, value)
    }

    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = self.ok(&with_json);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
    }

    /// Adds a contact and returns its id.
    pub fn contact(&self, name: &str, consents: &[&str]) -> String {
        let email = format!("{}@example.com", name.to_lowercase());
        let mut args = vec![
            "contacts", "add", "--name", name, "--email", &email, "--phone", "+1 555",
        ];
        for c in consents {
            args.extend(["--consent", c]);
        }
        self.json(&args)["id"].to_string()
    }

    pub fn history_len(&self, contact: &str) -> usize {
        self.json(&["consent", "history", contact])
            .as_array()
            .expect("a list")
            .len()
    }
}
