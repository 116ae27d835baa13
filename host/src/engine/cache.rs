//! The disk cache of compiled plugins.
//!
//! A file is named after the SHA-256 of the component bytes and the engine's
//! `precompile_compatibility_hash`, so a different plugin or a different
//! wasmtime/config never reads it. Its content is wasmtime's serialized
//! component followed by a trailer (a SHA-256 over the plugin's SHA-256, the
//! engine key and that content, then a magic tag). The name alone proves
//! nothing: a valid file of another plugin copied under this plugin's name
//! once ran in its place. The trailer ties the file to the plugin it was
//! compiled from, and detects a truncated or bit-flipped file, before
//! wasmtime sees it. Only regular files are read, without blocking: a FIFO
//! in the cache once made every command hang. Any unusable file is ignored
//! and rewritten; the cache is never fatal.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::{EngineError, Shared};

pub(crate) const MAGIC: &[u8; 8] = b"CRMCWSM2";
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
    let key = Key {
        plugin_sha256: sha256,
        compatibility: &shared.compatibility,
    };
    match read(&shared.wasm, &path, key) {
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
    if let Err(e) = write(&component, &path, key) {
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

/// What a cache file must have been compiled from.
#[derive(Clone, Copy)]
pub(crate) struct Key<'a> {
    pub(crate) plugin_sha256: &'a str,
    pub(crate) compatibility: &'a str,
}

/// The trailer's digest: the serialized component bound to its plugin and
/// engine. Lengths first, so no two (sha, key, body) frame the same bytes.
pub(crate) fn digest(key: Key<'_>, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"crm-consent compiled plugin\0");
    for part in [key.plugin_sha256.as_bytes(), key.compatibility.as_bytes()] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.update(body);
    hasher.finalize().into()
}

pub(crate) fn compile_fresh(
    engine: &wasmtime::Engine,
    bytes: &[u8],
) -> Result<Component, EngineError> {
    Component::from_binary(engine, bytes)
        .map_err(|e| EngineError::InvalidComponent(format!("{e:#}")))
}

/// `Ok(None)` when there is no cache file; `Err` names why a file is unusable.
fn read(engine: &wasmtime::Engine, path: &Path, key: Key<'_>) -> Result<Option<Component>, String> {
    let file = match read_regular(path) {
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
    if digest != self::digest(key, body) {
        return Err(
            "checksum mismatch (truncated, corrupted, or compiled from another plugin)".into(),
        );
    }
    // SAFETY: `Component::deserialize` runs the machine code in `body`
    // without validating it, so `body` must be an unmodified artifact of
    // `Component::serialize`. It is: this host wrote the file (`write`
    // below, atomically), the checksum just verified proves it is unchanged
    // since and was compiled from this very plugin, and wasmtime itself rejects artifacts from a different wasmtime
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

/// Reads `path` if it is a regular file (or a symlink to one). The open
/// does not block, so a FIFO, a device or a directory is refused at once
/// instead of waiting for a writer that never comes.
fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        // Without O_NONBLOCK, at least refuse what is not a file before opening.
        if !fs::metadata(path)?.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
    }
    let mut file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "not a regular file but {}",
            kind_of(&meta.file_type())
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn kind_of(ty: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ty.is_fifo() {
            return "a FIFO";
        }
        if ty.is_socket() {
            return "a socket";
        }
        if ty.is_char_device() || ty.is_block_device() {
            return "a device";
        }
    }
    if ty.is_dir() {
        "a directory"
    } else {
        "something else"
    }
}

fn write(component: &Component, path: &Path, key: Key<'_>) -> io::Result<()> {
    let mut file = component
        .serialize()
        .map_err(|e| io::Error::other(format!("{e:#}")))?;
    let digest = digest(key, &file);
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
