//! `serve`: the HTTP API, and `keys`: the API keys it accepts.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use super::{Ctx, when};
use crate::http::{DEFAULT_CONNECTIONS, ServeOptions, Server, default_io_threads, shutdown_signal};
use crate::store::{ApiKey, Role};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; loopback unless you say otherwise
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// Requests that do database and plugin work at once
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS, value_name = "N")]
    connections: usize,
}

impl ServeArgs {
    /// Serving on `listen` with the default pool.
    pub(crate) fn at(listen: SocketAddr) -> Self {
        ServeArgs {
            listen,
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish.
pub(crate) fn serve(ctx: &mut Ctx<'_>, args: ServeArgs) -> Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // Set, `TOKIO_WORKER_THREADS` is tokio's to read.
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(default_io_threads());
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let opts = ServeOptions {
        db: ctx.db.clone(),
        listen: args.listen,
        cache_dir: ctx.cache_dir.clone(),
        connections: args.connections.max(1),
    };
    runtime.block_on(async {
        let server = Server::bind(opts).await?;
        let addr = server.local_addr()?;
        // One line scripts and tests wait for before sending requests.
        writeln!(ctx.out, "listening on http://{addr}")?;
        ctx.out.flush()?;
        server.run(shutdown_signal()).await?;
        Ok(())
    })
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a key; it is printed once and stored only as a hash
    Create {
        /// reader, operator or admin
        #[arg(long)]
        role: String,
        /// What the key is for, e.g. `voip-bridge`
        #[arg(long)]
        name: String,
    },
    /// Every key, revoked ones included (never their secrets)
    List,
    /// Stop a key from working, at once
    Revoke {
        /// The key's id, as `keys list` shows it
        id: i64,
    },
}

pub(crate) fn keys(ctx: &mut Ctx<'_>, cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Create { role, name } => {
            let role: Role = role.parse()?;
            let mut store = ctx.open()?;
            let made = store.create_api_key(&name, role, &ctx.actor)?;
            ctx.emit(&made, |out| {
                writeln!(out, "{}", made.secret)?;
                writeln!(
                    out,
                    "key #{} `{}` ({}): shown once; send it as `Authorization: Bearer <key>`",
                    made.key.id, made.key.name, made.key.role
                )
            })
        }
        KeysCommand::List => {
            let keys = ctx.open_read_only()?.api_keys()?;
            ctx.emit(&keys, |out| {
                for k in &keys {
                    print_key(out, k)?;
                }
                if keys.is_empty() {
                    writeln!(out, "no keys: make one with `crm-consent keys create`")?;
                }
                Ok(())
            })
        }
        KeysCommand::Revoke { id } => {
            let mut store = ctx.open()?;
            let key = store.revoke_api_key(id, &ctx.actor)?;
            ctx.emit(&key, |out| print_key(out, &key))
        }
    }
}

fn print_key(out: &mut dyn Write, k: &ApiKey) -> std::io::Result<()> {
    let state = match k.revoked_at {
        Some(at) => format!("revoked {}", when(at)),
        None => "live".to_owned(),
    };
    writeln!(
        out,
        "#{:<4} {:<24} {:<9} made {} by {}  {state}",
        k.id,
        k.name,
        k.role,
        when(k.created_at),
        k.created_by
    )
}
