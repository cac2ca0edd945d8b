//! The `hawser-bench` command line: the comparison runner (default), the backend, a single load
//! run and the idle-connection memory check.

#![forbid(unsafe_code)]

fn main() {}
