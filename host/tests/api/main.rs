//! The HTTP API over real HTTP on loopback: the real binary's `serve`, a
//! real database file, the real bundled plugin.

mod bulk;
mod chain;
mod crash;
mod export;
mod imports;
mod limits;
mod logging;
mod notify;
mod rejections;
mod reload;
mod retention;
mod rights;
mod routes;
mod shutdown;
mod support;
mod wal;
mod writes;
