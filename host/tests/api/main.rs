//! The HTTP API over real HTTP on loopback: the real binary's `serve`, a
//! real database file, the real bundled plugin.

mod crash;
mod export;
mod notify;
mod rejections;
mod routes;
mod shutdown;
mod support;
mod writes;
