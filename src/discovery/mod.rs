//! Service discovery: namers that turn a concrete name (`/#/<prefix>/<name>`) into a set of
//! endpoints. Namers run on the control thread with blocking I/O and publish immutable snapshots;
//! the shards receive those snapshots by message and never touch a namer themselves.
//!
//! Implemented here: `io.l5d.fs` ([`fs`]). Not here: `/$/inet` (a system path handled by the
//! routing layer), DNS, ZooKeeper, etcd, Consul and Kubernetes namers.
#![forbid(unsafe_code)]

pub mod fs;

mod table;

pub use table::{NamerAnswer, NamerSet, NamerTable, NamerUpdate, lookup_in};
