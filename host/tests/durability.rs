//! The real binary under the conditions an unlucky operator meets: kill -9
//! in the middle of writes, many writers at once, several first installs
//! at once, and a backup on read-only media. Every loop is bounded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm-consent"));
    cmd.env("CRM_CONSENT_ACTOR", "durability-test")
        .env(
            "CRM_CONSENT_CACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
        )
        .env_remove("RUST_LOG");
    cmd
}

fn run(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("the binary runs")
}

#[track_caller]
fn ok(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "crm-consent {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A database with the plugin, the checks on and one consent type.
fn ready(dir: &Path) -> PathBuf {
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
            "single_email",
        ],
    );
    db
}

fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut with = args.to_vec();
    with.push("--json");
    serde_json::from_str(&ok(db, &with)).unwrap()
}

#[test]
fn kill_9_during_writes_loses_no_committed_contact_and_leaves_none_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let (mut committed, mut killed) = (0_u64, 0_u64);
    let mut seed = 0x2545_f491_u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    for i in 0..40 {
        if Instant::now() > deadline {
            break;
        }
        let name = format!("Person {i}");
        let email = format!("p{i}@example.com");
        let mut child = bin()
            .arg("--db")
            .arg(&db)
            .args(["contacts", "add", "--name", &name, "--email", &email])
            .args(["--consent", "email", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a pseudo-random moment of the process's life, 0-60 ms in.
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        std::thread::sleep(Duration::from_millis((seed >> 33) % 60));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            committed += 1;
        } else {
            killed += 1;
        }
    }
    eprintln!("{committed} committed, {killed} killed");
    assert!(killed > 0, "no process was killed: the test proved nothing");
    let report = json(&db, &["ledger", "verify"]);
    assert_eq!(report["ok"], true, "{report}");
    let contacts = json(&db, &["contacts", "list"]);
    let contacts = contacts.as_array().unwrap();
    assert!(
        contacts.len() as u64 >= committed,
        "a committed contact was lost"
    );
    for c in contacts {
        let id = c["id"].to_string();
        let history = json(&db, &["consent", "history", &id]);
        assert_eq!(
            history.as_array().unwrap().len(),
            1,
            "contact {id} was stored without its consent"
        );
    }
}

#[test]
fn eight_concurrent_writers_never_see_a_locked_database_and_never_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let ids: Vec<String> = (0..8)
        .map(|i| {
            let email = format!("w{i}@example.com");
            json(
                &db,
                &["contacts", "add", "--name", "Writer", "--email", &email],
            )["id"]
                .to_string()
        })
        .collect();
    let before = json(&db, &["ledger", "verify"])["entries"]
        .as_u64()
        .unwrap();
    let writers: Vec<_> = ids
        .iter()
        .map(|id| {
            let (db, id) = (db.clone(), id.clone());
            std::thread::spawn(move || {
                for round in 0..5 {
                    let verb = if round % 2 == 0 { "grant" } else { "withdraw" };
                    let out = run(&db, &["consent", verb, &id, "email"]);
                    let err = String::from_utf8_lossy(&out.stderr).into_owned();
                    assert!(out.status.success(), "writer {id}: {err}");
                    assert!(!err.contains("locked"), "{err}");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let report = json(&db, &["ledger", "verify"]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entries"].as_u64().unwrap(), before + 40);
}

#[test]
fn concurrent_first_inits_and_installs_end_in_one_database_and_readable_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("consent.db");
    let inits: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || run(&db, &["init"]))
        })
        .collect();
    let outs: Vec<Output> = inits.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outs.iter().filter(|o| o.status.success()).count(), 1);
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one readable line: {err}");
    }
    let installs: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || run(&db, &["setup", "install", "--bundled"]))
        })
        .collect();
    for h in installs {
        let o = h.join().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
    }
    assert_eq!(json(&db, &["setup", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(json(&db, &["ledger", "verify"])["ok"], true);
}

fn nobody_can_run() -> bool {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn ledger_verify_works_on_a_read_only_copy_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    json(
        &db,
        &[
            "contacts",
            "add",
            "--name",
            "Anna",
            "--email",
            "a@example.com",
            "--consent",
            "email",
        ],
    );
    // A backup: one file in a folder nobody may write to.
    let backup_dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&backup_dir);
    std::fs::create_dir_all(&backup_dir).unwrap();
    let backup = backup_dir.join("backup.db");
    ok(&db, &["ledger", "verify"]);
    std::fs::copy(&db, &backup).unwrap();
    set_mode(&backup, 0o444);
    set_mode(&backup_dir, 0o555);
    // Root may write anywhere, so the read-only user is `nobody`, as on a
    // mounted backup; the plain read-only open must work for root too.
    let out = if nobody_can_run() {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_crm-consent"))
            .arg("--db")
            .arg(&backup)
            .args(["ledger", "verify"])
            .env("HOME", &backup_dir)
            .output()
            .unwrap()
    } else {
        run(&backup, &["ledger", "verify"])
    };
    let left: Vec<_> = std::fs::read_dir(&backup_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    set_mode(&backup_dir, 0o755);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ledger verified"));
    assert_eq!(left, ["backup.db"], "no -wal or -shm left behind");
    std::fs::remove_dir_all(&backup_dir).unwrap();
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn another_programs_database_is_refused_even_by_read_only_commands() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&other).unwrap();
    for args in [
        &["ledger", "verify"][..],
        &["contacts", "list"],
        &["setup", "list"],
    ] {
        let out = run(&other, args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not a crm-consent database"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read(&other).unwrap(), before);
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = String::from_utf8(run(&empty, &["ledger", "verify"]).stderr).unwrap();
    assert!(err.contains("crm-consent init"), "{err}");
}

/// Issue 7's reproduction of a lost withdrawal (Art. 7(3)), through the
/// real binary and the real clock.
#[test]
fn a_withdrawal_after_a_grant_dated_ahead_is_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let id = json(
        &db,
        &[
            "contacts",
            "add",
            "--name",
            "Anna",
            "--email",
            "a@example.com",
        ],
    )["id"]
        .to_string();
    let ahead = |minutes| (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    // Four minutes ahead is not clock skew: refused, nothing recorded.
    let out = run(
        &db,
        &["consent", "grant", &id, "email", "--given-at", &ahead(4)],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("later than now"), "{err}");
    // One minute ahead is skew: recorded, then withdrawn.
    ok(
        &db,
        &["consent", "grant", &id, "email", "--given-at", &ahead(1)],
    );
    ok(&db, &["consent", "withdraw", &id, "email"]);
    let out = run(&db, &["check", "send", &id]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("deny") && text.contains("consent_withdrawn"),
        "{text}"
    );
    assert_eq!(json(&db, &["ledger", "verify"])["ok"], true);
}
