use std::fs;

use sha2::Digest;
use std::path::{Path, PathBuf};

use super::engine_with;
use super::fixtures::{Script, config, contact, request, scripted, scripted_plugin};
use crate::engine::cache::{Compiled, Key, digest, entry_path};
use crate::engine::{Decision, Engine, EngineOptions, Plugin};

fn cached_engine(dir: &Path) -> Engine {
    engine_with(EngineOptions {
        cache_dir: Some(dir.to_owned()),
        call_timeout: std::time::Duration::from_secs(1),
        ..EngineOptions::default()
    })
}

fn entry(engine: &Engine, plugin: &Plugin) -> PathBuf {
    let dir = engine.options().cache_dir.as_deref().expect("a cache dir");
    entry_path(dir, plugin.sha256(), &engine.shared.compatibility)
}

fn assert_decides(plugin: &Plugin) {
    let mut policy = plugin.policy(&config()).expect("a policy");
    assert!(matches!(
        policy.decide(&contact(), &request(0)),
        Decision::Allow(_)
    ));
}

#[test]
fn without_a_cache_dir_every_load_compiles() {
    let plugin = super::engine().load(&scripted_plugin()).expect("loads");
    assert_eq!(plugin.inner.compiled, Compiled::Uncached);
}

#[test]
fn a_compiled_plugin_is_written_once_and_read_back_by_the_next_engine() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = scripted_plugin();

    let first = cached_engine(dir.path());
    let plugin = first.load(&bytes).expect("loads");
    assert_eq!(plugin.inner.compiled, Compiled::Miss);
    let path = entry(&first, &plugin);
    assert!(path.is_file(), "{} was written", path.display());
    let written = fs::read(&path).expect("readable");

    let second = cached_engine(dir.path());
    let again = second.load(&bytes).expect("loads from the cache");
    assert_eq!(again.inner.compiled, Compiled::Hit);
    assert_eq!(
        fs::read(&path).expect("readable"),
        written,
        "a hit does not rewrite"
    );
    assert_decides(&again);

    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("listable")
        .map(|e| e.expect("an entry").file_name())
        .filter(|name| name.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temp files left behind: {leftovers:?}"
    );
}

#[test]
fn a_corrupt_cache_file_is_ignored_and_rewritten() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = scripted_plugin();
    let engine = cached_engine(dir.path());
    let plugin = engine.load(&bytes).expect("loads");
    let path = entry(&engine, &plugin);
    let good = fs::read(&path).expect("readable");

    for corrupt in [b"garbage".to_vec(), good[..good.len() / 2].to_vec(), {
        let mut flipped = good.clone();
        flipped[good.len() / 3] ^= 0xff;
        flipped
    }] {
        fs::write(&path, &corrupt).expect("writable");
        let reloaded = cached_engine(dir.path()).load(&bytes).expect("still loads");
        assert_eq!(reloaded.inner.compiled, Compiled::Miss);
        assert_decides(&reloaded);
        assert_eq!(
            cached_engine(dir.path())
                .load(&bytes)
                .expect("loads")
                .inner
                .compiled,
            Compiled::Hit
        );
    }
}

#[test]
fn a_cache_file_from_another_engine_configuration_is_ignored_and_rewritten() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = scripted_plugin();

    // An engine configured otherwise (small memories, so bounds-checked
    // code) compiles an artifact ours must not run. Frame it exactly as our
    // cache writes files, so only wasmtime's own check can refuse it.
    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .memory_reservation(1 << 20)
        .memory_guard_size(0);
    let other = wasmtime::Engine::new(&config).expect("another engine");
    let mut foreign = other.precompile_component(&bytes).expect("compiles");
    let ours = cached_engine(dir.path());
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let key = Key {
        plugin_sha256: &sha,
        compatibility: &ours.shared.compatibility,
    };
    let framed = digest(key, &foreign);
    foreign.extend_from_slice(&framed);
    foreign.extend_from_slice(crate::engine::cache::MAGIC);
    let ours_path = entry_path(dir.path(), &sha, &ours.shared.compatibility);
    fs::write(&ours_path, &foreign).expect("written");

    let plugin = ours.load(&bytes).expect("loads despite the foreign file");
    assert_eq!(plugin.inner.compiled, Compiled::Miss);
    assert_decides(&plugin);
    assert_eq!(
        cached_engine(dir.path())
            .load(&bytes)
            .expect("loads")
            .inner
            .compiled,
        Compiled::Hit
    );
}

#[test]
fn an_unwritable_cache_dir_is_not_fatal() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("not-a-directory");
    fs::write(&file, b"").expect("writable");
    let engine = cached_engine(&file);
    let plugin = engine
        .load(&scripted_plugin())
        .expect("loads without a cache");
    assert_decides(&plugin);
}

/// Two plugins with different bytes (and so different hashes).
fn two_plugins() -> (Vec<u8>, Vec<u8>) {
    let other = scripted(&Script {
        version: "0.2.5",
        ..Script::default()
    });
    let active = scripted_plugin();
    assert_ne!(active, other);
    (active, other)
}

#[test]
fn a_valid_cache_file_of_another_plugin_under_this_plugins_name_is_recompiled() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (active, other) = two_plugins();
    let engine = cached_engine(dir.path());
    let active_path = entry(&engine, &engine.load(&active).expect("loads"));
    let other_path = entry(&engine, &engine.load(&other).expect("loads"));
    fs::copy(&other_path, &active_path).expect("swapped");

    let reloaded = cached_engine(dir.path()).load(&active).expect("loads");
    assert_eq!(
        reloaded.inner.compiled,
        Compiled::Miss,
        "the swapped file must not run"
    );
    assert_eq!(
        reloaded.info().api_version,
        "0.2.0",
        "the active plugin runs"
    );
    assert_eq!(
        reloaded.sha256(),
        hex::encode(sha2::Sha256::digest(&active))
    );
    assert_eq!(
        cached_engine(dir.path())
            .load(&active)
            .expect("loads")
            .inner
            .compiled,
        Compiled::Hit,
        "rewritten from the real bytes"
    );
}

/// Loads `bytes` on another thread and gives up after 30 s, so that a
/// load that blocks fails the test instead of hanging it.
fn load_or_hang(dir: &Path, bytes: Vec<u8>) -> Compiled {
    let dir = dir.to_owned();
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let compiled = cached_engine(&dir)
            .load(&bytes)
            .expect("loads")
            .inner
            .compiled;
        let _ = done.send(compiled);
    });
    result
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the load hung on the cache file")
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_cache_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = scripted_plugin();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let path = entry_path(
        dir.path(),
        &sha,
        &cached_engine(dir.path()).shared.compatibility,
    );
    mkfifo(&path);
    assert_eq!(load_or_hang(dir.path(), bytes.clone()), Compiled::Miss);
    assert!(path.is_file(), "the FIFO was replaced by a cache file");
    assert_eq!(load_or_hang(dir.path(), bytes), Compiled::Hit);
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_fifo_or_a_directory_in_the_cache_is_skipped() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = scripted_plugin();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let path = entry_path(
        dir.path(),
        &sha,
        &cached_engine(dir.path()).shared.compatibility,
    );
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    std::os::unix::fs::symlink(&fifo, &path).expect("symlinked");
    assert_eq!(load_or_hang(dir.path(), bytes.clone()), Compiled::Miss);

    fs::remove_file(&path).expect("removed");
    fs::create_dir(&path).expect("a directory in its place");
    assert_eq!(load_or_hang(dir.path(), bytes), Compiled::Miss);
}

#[test]
fn load_uncached_neither_reads_nor_writes_the_cache() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = scripted_plugin();
    let engine = cached_engine(dir.path());
    let plugin = engine.load_uncached(&bytes).expect("loads");
    assert_eq!(plugin.inner.compiled, Compiled::Uncached);
    assert_eq!(plugin.sha256(), hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(
        fs::read_dir(dir.path()).expect("listable").count(),
        0,
        "nothing written"
    );
    // With a cache entry present, it still compiles from the bytes.
    engine.load(&bytes).expect("loads");
    let again = engine.load_uncached(&bytes).expect("loads");
    assert_eq!(again.inner.compiled, Compiled::Uncached);
    assert_decides(&again);
}
