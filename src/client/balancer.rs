//! Per-shard balancing over one concrete name's endpoints: power of two
//! choices over outstanding requests (linkerd's default `p2c`).
//!
//! The other linkerd balancers (ewma, aperture, heap, roundRobin) are not in
//! this release; config names them as unsupported.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

/// One upstream address and its in-flight request count on this shard.
#[derive(Debug)]
pub struct Endpoint {
    /// Where requests go.
    pub addr: SocketAddr,
    outstanding: Cell<u32>,
}

impl Endpoint {
    /// A new endpoint with nothing outstanding.
    pub fn new(addr: SocketAddr) -> Rc<Self> {
        Rc::new(Endpoint {
            addr,
            outstanding: Cell::new(0),
        })
    }

    /// Requests in flight to this endpoint from this shard.
    pub fn outstanding(&self) -> u32 {
        self.outstanding.get()
    }
}

/// Counts a request against an endpoint until dropped.
pub struct InFlight(Rc<Endpoint>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .outstanding
            .set(self.0.outstanding.get().saturating_sub(1));
    }
}

/// The endpoints of one concrete name.
#[derive(Debug, Default, Clone)]
pub struct EndpointSet {
    endpoints: Vec<Rc<Endpoint>>,
}

impl EndpointSet {
    /// A set over these endpoints.
    pub fn new(endpoints: Vec<Rc<Endpoint>>) -> Self {
        EndpointSet { endpoints }
    }

    /// True when there is nowhere to send a request.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &[Rc<Endpoint>] {
        &self.endpoints
    }

    /// Picks an endpoint: two at random, the one with fewer outstanding
    /// requests. `rand` yields uniform indices below its argument.
    pub fn pick_with(
        &self,
        mut rand: impl FnMut(usize) -> usize,
    ) -> Option<(Rc<Endpoint>, InFlight)> {
        let n = self.endpoints.len();
        let ep = match n {
            0 => return None,
            1 => &self.endpoints[0],
            _ => {
                let a = rand(n);
                let mut b = rand(n - 1);
                if b >= a {
                    b += 1;
                }
                let (ea, eb) = (&self.endpoints[a], &self.endpoints[b]);
                if eb.outstanding.get() < ea.outstanding.get() {
                    eb
                } else {
                    ea
                }
            }
        };
        ep.outstanding.set(ep.outstanding.get() + 1);
        Some((ep.clone(), InFlight(ep.clone())))
    }

    /// [`EndpointSet::pick_with`] with the thread's fast RNG.
    pub fn pick(&self) -> Option<(Rc<Endpoint>, InFlight)> {
        self.pick_with(|n| fastrand::usize(..n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: u16) -> EndpointSet {
        EndpointSet::new(
            (0..n)
                .map(|i| Endpoint::new(SocketAddr::from(([127, 0, 0, 1], 8000 + i))))
                .collect(),
        )
    }

    #[test]
    fn empty_set_picks_nothing() {
        assert!(set(0).pick().is_none());
    }

    #[test]
    fn p2c_prefers_less_loaded_and_releases_on_drop() {
        let s = set(2);
        let (first, g1) = s.pick_with(|_| 0).unwrap();
        assert_eq!(first.outstanding(), 1);
        // Candidates 0 and 1: 0 has one outstanding, so 1 wins.
        let (second, g2) = s.pick_with(|_| 0).unwrap();
        assert_ne!(first.addr, second.addr);
        drop(g1);
        drop(g2);
        assert!(s.endpoints().iter().all(|e| e.outstanding() == 0));
    }

    #[test]
    fn p2c_spreads_over_all_endpoints() {
        let s = set(4);
        let mut seen = std::collections::HashSet::new();
        let mut guards = Vec::new();
        for _ in 0..200 {
            let (e, g) = s.pick().unwrap();
            seen.insert(e.addr);
            guards.push(g);
        }
        assert_eq!(seen.len(), 4);
        let max = s.endpoints().iter().map(|e| e.outstanding()).max().unwrap();
        let min = s.endpoints().iter().map(|e| e.outstanding()).min().unwrap();
        assert!(max - min <= 2, "p2c keeps load even: {min}..{max}");
    }
}
