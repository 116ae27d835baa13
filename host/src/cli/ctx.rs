//! What every command gets: the database, the output, the actor and the
//! time, resolved once from the global options and the environment.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{CliError, Global};
use crate::engine::{Engine, EngineOptions};
use crate::store::{self, Store, StoreError};

/// What every command gets: the resolved global options and the output.
pub(crate) struct Ctx<'o> {
    pub db: PathBuf,
    pub json: bool,
    pub actor: String,
    pub cache_dir: Option<PathBuf>,
    pub now: DateTime<Utc>,
    pub(super) out: &'o mut dyn Write,
}

impl<'o> Ctx<'o> {
    pub(super) fn new(g: Global, out: &'o mut dyn Write) -> Result<Self> {
        let now = match g.now.as_deref() {
            Some(text) => store::parse_date("--now", text)?,
            None => Utc::now(),
        };
        let actor = g
            .actor
            .or_else(|| std::env::var("USER").ok())
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "cli".to_owned());
        Ok(Ctx {
            db: g.db.unwrap_or_else(default_db),
            json: g.json,
            actor,
            cache_dir: g.cache_dir.or_else(default_cache_dir),
            now,
            out,
        })
    }

    /// Opens the existing database; a missing one says how to create it.
    pub fn open(&self) -> Result<Store> {
        self.opened(Store::open(&self.db))
    }

    /// Opens the existing database for a command that only reads: works on
    /// read-only media and leaves nothing behind there.
    pub fn open_read_only(&self) -> Result<Store> {
        self.opened(Store::open_read_only(&self.db))
    }

    /// Opens read-only when `reads_only`, else for writing: list and show
    /// commands work on a backup on read-only media.
    pub fn open_for(&self, reads_only: bool) -> Result<Store> {
        if reads_only {
            self.open_read_only()
        } else {
            self.open()
        }
    }

    fn opened(&self, result: crate::store::Result<Store>) -> Result<Store> {
        match result {
            Ok(store) => Ok(store),
            Err(StoreError::MissingDatabase(path)) => Err(CliError::NoDatabase(path).into()),
            // The store's errors name the path already.
            Err(e) => Err(e.into()),
        }
    }

    /// The wasmtime engine for this run, sharing compiled plugins through
    /// the cache directory, under the caps set in `store`.
    pub fn engine(&self, store: &Store) -> Result<Engine> {
        let opts = crate::setup::with_caps(store, self.engine_options())?;
        Engine::new(opts).context("cannot start the WebAssembly engine")
    }

    /// The engine options of a command, before the stored caps.
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            cache_dir: self.cache_dir.clone(),
            // One command holds one chain of policies at a time (two
            // while replaying), each policy an instance slot.
            max_instances: 2 * crate::engine::MAX_CHAIN as u32,
            // An operator waits for one command, and a debug build on a
            // busy machine is slow: a generous deadline still stops a
            // looping plugin, without failing an honest one.
            call_timeout: Duration::from_secs(2),
            ..EngineOptions::default()
        }
    }

    /// Writes `value` as JSON whatever `--json` says.
    pub fn emit_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer_pretty(&mut *self.out, value)?;
        writeln!(self.out)?;
        Ok(())
    }

    /// Writes `value` as JSON with `--json`, or the text `text` writes.
    pub fn emit<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        text: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        if self.json {
            serde_json::to_writer_pretty(&mut *self.out, value)?;
            writeln!(self.out)?;
        } else {
            text(self.out)?;
        }
        Ok(())
    }
}

/// `$XDG_DATA_HOME/crm-consent/consent.db`, else `~/.local/share/...`.
fn default_db() -> PathBuf {
    xdg_dir("XDG_DATA_HOME", ".local/share")
        .unwrap_or_else(|| PathBuf::from("."))
        .join("crm-consent")
        .join("consent.db")
}

/// `$XDG_CACHE_HOME/crm-consent`, else `~/.cache/crm-consent`; `None`
/// (compile on every run) when there is no home directory at all.
fn default_cache_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CACHE_HOME", ".cache").map(|d| d.join("crm-consent"))
}

fn xdg_dir(var: &str, under_home: &str) -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    from_env(var).or_else(|| from_env("HOME").map(|h| h.join(under_home)))
}
