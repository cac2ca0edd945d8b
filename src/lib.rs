//! hawser: a linker for the datacenter.
pub mod admin;
pub mod client;
pub mod config;
pub mod discovery;
pub mod net;
pub mod routing;
pub mod runtime;
pub mod server;
