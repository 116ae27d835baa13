//! The disk cache of compiled plugins.
//!
//! A file is named after the SHA-256 of the component bytes and the engine's
//! `precompile_compatibility_hash`, so a different plugin or a different
//! wasmtime/config never reads it. Its content is wasmtime's serialized
//! component followed by a trailer (SHA-256 of that content, then a magic
//! tag): a truncated or bit-flipped file is detected before wasmtime sees it.
//! Any unusable file is ignored and rewritten; the cache is never fatal.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::{EngineError, Shared};

pub(crate) const MAGIC: &[u8; 8] = b"CRMCWSM1";
const TRAILER: usize = 32 + MAGIC.len();

/// Where a compiled component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compiled {
    /// No cache directory configured.
    Uncached,
    /// Read back from the cache.
    Hit,
    /// Compiled now and written to the cache (or the write failed, logged).
    Miss,
}

/// Compiles `bytes`, going through the disk cache when one is configured.
pub(crate) fn compile(
    shared: &Shared,
    bytes: &[u8],
    sha256: &str,
) -> Result<(Component, Compiled), EngineError> {
    let Some(dir) = shared.opts.cache_dir.as_deref() else {
        return Ok((compile_fresh(&shared.wasm, bytes)?, Compiled::Uncached));
    };
    let path = entry_path(dir, sha256, &shared.compatibility);
    match read(&shared.wasm, &path) {
        Ok(Some(component)) => {
            tracing::debug!(plugin = sha256, path = %path.display(), "compiled plugin read from cache");
            return Ok((component, Compiled::Hit));
        }
        Ok(None) => {}
        Err(why) => tracing::warn!(
            plugin = sha256,
            path = %path.display(),
            "ignoring unusable compiled-plugin cache file ({why}); recompiling"
        ),
    }
    let component = compile_fresh(&shared.wasm, bytes)?;
    if let Err(e) = write(&component, &path) {
        tracing::warn!(
            plugin = sha256,
            path = %path.display(),
            "cannot write the compiled-plugin cache file: {e}"
        );
    }
    Ok((component, Compiled::Miss))
}

pub(crate) fn entry_path(dir: &Path, sha256: &str, compatibility: &str) -> PathBuf {
    dir.join(format!("{sha256}-{compatibility}.cwasm"))
}

fn compile_fresh(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<Component, EngineError> {
    Component::from_binary(engine, bytes)
        .map_err(|e| EngineError::InvalidComponent(format!("{e:#}")))
}

/// `Ok(None)` when there is no cache file; `Err` names why a file is unusable.
fn read(engine: &wasmtime::Engine, path: &Path) -> Result<Option<Component>, String> {
    let file = match fs::read(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    let Some(body_len) = file.len().checked_sub(TRAILER) else {
        return Err(format!("only {} bytes long", file.len()));
    };
    let (body, trailer) = file.split_at(body_len);
    let (digest, magic) = trailer.split_at(32);
    if magic != MAGIC {
        return Err("not written by this host (no trailer)".into());
    }
    if Sha256::digest(body).as_slice() != digest {
        return Err("checksum mismatch (truncated or corrupted)".into());
    }
    // SAFETY: `Component::deserialize` runs the machine code in `body`
    // without validating it, so `body` must be an unmodified artifact of
    // `Component::serialize`. It is: this host wrote the file (`write`
    // below, atomically), the checksum just verified proves it is unchanged
    // since, and wasmtime itself rejects artifacts from a different wasmtime
    // version or engine configuration (the file name also carries the
    // engine's compatibility hash). We deserialize from this in-memory copy,
    // not with `deserialize_file`, so the code we run is exactly the bytes we
    // checked (a file mapped in place could change or be truncated under us).
    // Whoever can write the cache directory can run code in this process:
    // the directory must be as trusted as the host binary.
    let component = unsafe { Component::deserialize(engine, body) }
        .map_err(|e| format!("wasmtime refused it: {e:#}"))?;
    Ok(Some(component))
}

fn write(component: &Component, path: &Path) -> io::Result<()> {
    let mut file = component
        .serialize()
        .map_err(|e| io::Error::other(format!("{e:#}")))?;
    let digest = Sha256::digest(&file);
    file.extend_from_slice(&digest);
    file.extend_from_slice(MAGIC);

    let dir = path
        .parent()
        .expect("cache entries live in the cache directory");
    fs::create_dir_all(dir)?;
    // Temp file + rename: readers (other threads and processes) see either
    // no file or a complete one.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let temp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = fs::write(&temp, &file).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
