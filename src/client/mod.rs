//! Upstream side: per-shard connection pools and balancing over endpoints.
//!
//! A pool belongs to one shard and is touched only by that shard's tasks, so
//! it uses `RefCell`, never a lock. This module does not parse HTTP; the
//! protocol driver in `server/` decides whether a connection may be reused.

mod balancer;
mod pool;
pub mod transform;

pub use balancer::{
    Accrual, AccrualPolicy, Balance, BalancerPolicy, Endpoint, EndpointSet, InFlight,
};
pub use pool::{Pool, PoolSettings, Upstream};
