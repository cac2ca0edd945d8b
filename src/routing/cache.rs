//! A per-shard cache of binding results, keyed by (request dtab text, logical path).
//!
//! Binding walks the dtab and namers for every request; most requests repeat a few names with
//! no per-request dtab, so a shard remembers the answer. The cache is bounded: when it is full
//! it is cleared (cheap, and a working set that fits is rebuilt within a few requests). It
//! carries a generation number: when the router dtab or namer state changes the caller passes
//! a new generation and every older entry is dropped on the next access.
//!
//! Lookups do not allocate: entries are indexed by a hash of the key and the stored key is
//! compared in full, so a hash collision is a miss, never a wrong answer. This is not shared
//! between threads (one per shard); it holds no locks and does no I/O.

use std::collections::hash_map::Entry as MapEntry;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::HashMapExt;
use foldhash::fast::RandomState;

use super::bind::Resolution;
use super::path::Path;

struct Entry<V> {
    dtab: Box<str>,
    path: Path,
    value: V,
    /// What this entry counts against the byte budget.
    cost: usize,
}

/// Per-entry bookkeeping counted with each key (map slot, boxes).
const ENTRY_OVERHEAD: usize = 96;

/// A bounded, generation-stamped cache of binding results (by default [`Resolution`]s).
pub struct BindCache<V = Resolution> {
    entries: foldhash::HashMap<u64, Entry<V>>,
    capacity: usize,
    generation: u64,
    hasher: RandomState,
    hits: u64,
    misses: u64,
    /// Bytes the entries count for (keys plus the caller's value estimate).
    bytes: usize,
    max_bytes: usize,
}

impl<V> BindCache<V> {
    /// Also bounds the memory the entries count for: the cache is cleared before it would
    /// hold more than `max_bytes`, and a single entry bigger than that is not stored. Keys
    /// include request dtabs (`l5d-dtab`), which a client chooses, so a count of entries alone
    /// would not bound memory.
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The bytes the entries count for now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// A cache holding at most `capacity` entries (at least 1), at generation 0.
    pub fn new(capacity: usize) -> BindCache<V> {
        let capacity = capacity.max(1);
        BindCache {
            entries: foldhash::HashMap::with_capacity(capacity.min(4096)),
            capacity,
            generation: 0,
            hasher: RandomState::default(),
            hits: 0,
            misses: 0,
            bytes: 0,
            max_bytes: usize::MAX,
        }
    }

    fn key_hash(&self, dtab: &str, path: &Path) -> u64 {
        let mut h = self.hasher.build_hasher();
        dtab.hash(&mut h);
        path.hash(&mut h);
        h.finish()
    }

    fn sync_generation(&mut self, generation: u64) {
        if generation != self.generation {
            self.clear();
            self.generation = generation;
        }
    }

    /// The cached value for (`dtab`, `path`) at `generation`. A different generation from the
    /// cache's clears it first (and misses).
    pub fn get(&mut self, generation: u64, dtab: &str, path: &Path) -> Option<&V> {
        self.sync_generation(generation);
        let h = self.key_hash(dtab, path);
        match self.entries.get(&h) {
            Some(e) if &*e.dtab == dtab && e.path == *path => {
                self.hits += 1;
                Some(&e.value)
            }
            _ => {
                self.misses += 1;
                None
            }
        }
    }

    /// Stores a value computed at `generation`; clears the cache first if it is full or the
    /// generation changed. Replaces an entry with the same key (or a colliding hash).
    pub fn insert(&mut self, generation: u64, dtab: &str, path: &Path, value: V) {
        self.insert_sized(generation, dtab, path, value, 0);
    }

    /// [`BindCache::insert`] for a value that holds about `value_bytes` of memory, counted
    /// against the byte budget ([`BindCache::with_max_bytes`]).
    pub fn insert_sized(
        &mut self,
        generation: u64,
        dtab: &str,
        path: &Path,
        value: V,
        value_bytes: usize,
    ) {
        self.sync_generation(generation);
        let cost = Self::cost(dtab, path, value_bytes);
        if cost > self.max_bytes {
            return;
        }
        let h = self.key_hash(dtab, path);
        if let Some(old) = self.entries.remove(&h) {
            self.bytes -= old.cost;
        }
        self.make_room(cost);
        self.bytes += cost;
        self.entries.insert(
            h,
            Entry {
                dtab: dtab.into(),
                path: path.clone(),
                value,
                cost,
            },
        );
    }

    /// Clears the cache when one more entry of `cost` would pass the entry count or the byte
    /// budget (cheap, and a working set that fits is rebuilt within a few requests).
    fn make_room(&mut self, cost: usize) {
        if self.entries.len() >= self.capacity || self.bytes + cost > self.max_bytes {
            self.clear();
        }
    }

    fn cost(dtab: &str, path: &Path, value_bytes: usize) -> usize {
        ENTRY_OVERHEAD
            .saturating_add(dtab.len())
            .saturating_add(path.heap_bytes())
            .saturating_add(value_bytes)
    }

    /// The value for the key, computing and storing it with `f` on a miss.
    pub fn get_or_insert_with(
        &mut self,
        generation: u64,
        dtab: &str,
        path: &Path,
        f: impl FnOnce() -> V,
    ) -> &V {
        self.sync_generation(generation);
        let h = self.key_hash(dtab, path);
        let cost = Self::cost(dtab, path, 0);
        let hit = self
            .entries
            .get(&h)
            .is_some_and(|e| &*e.dtab == dtab && e.path == *path);
        if !hit && !self.entries.contains_key(&h) {
            self.make_room(cost);
        }
        let fresh = || Entry {
            dtab: dtab.into(),
            path: path.clone(),
            value: f(),
            cost,
        };
        let entry = match self.entries.entry(h) {
            MapEntry::Occupied(o) if hit => {
                self.hits += 1;
                o.into_mut()
            }
            MapEntry::Occupied(mut o) => {
                self.misses += 1;
                self.bytes = self.bytes - o.get().cost + cost;
                *o.get_mut() = fresh();
                o.into_mut()
            }
            MapEntry::Vacant(v) => {
                self.misses += 1;
                self.bytes += cost;
                v.insert(fresh())
            }
        };
        &entry.value
    }

    /// Drops every entry and moves to `generation`.
    pub fn invalidate(&mut self, generation: u64) {
        self.clear();
        self.generation = generation;
    }

    /// The generation of the entries held.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The number of entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entries are held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// (hits, misses) since creation, for metrics.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        Path::read(s).unwrap()
    }

    #[test]
    fn hits_by_dtab_and_path() {
        let mut c: BindCache<u32> = BindCache::new(8);
        assert_eq!(c.get(0, "", &p("/svc/a")), None);
        c.insert(0, "", &p("/svc/a"), 1);
        c.insert(0, "/svc=>/b", &p("/svc/a"), 2);
        assert_eq!(c.get(0, "", &p("/svc/a")), Some(&1));
        assert_eq!(c.get(0, "/svc=>/b", &p("/svc/a")), Some(&2));
        assert_eq!(c.get(0, "", &p("/svc/b")), None);
        assert_eq!(c.stats(), (2, 2));
    }

    #[test]
    fn new_generation_clears() {
        let mut c: BindCache<u32> = BindCache::new(8);
        c.insert(3, "", &p("/a"), 1);
        assert_eq!(c.get(3, "", &p("/a")), Some(&1));
        assert_eq!(c.get(4, "", &p("/a")), None);
        assert!(c.is_empty());
        assert_eq!(c.generation(), 4);
        c.insert(4, "", &p("/a"), 2);
        c.invalidate(5);
        assert_eq!(c.get(5, "", &p("/a")), None);
    }

    #[test]
    fn bounded_by_clearing_when_full() {
        let mut c: BindCache<usize> = BindCache::new(3);
        for i in 0..3 {
            c.insert(0, "", &Path::from_segments([i.to_string()]).unwrap(), i);
        }
        assert_eq!(c.len(), 3);
        // Replacing an existing key does not clear.
        c.insert(0, "", &p("/0"), 10);
        assert_eq!(c.len(), 3);
        c.insert(0, "", &p("/new"), 4);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(0, "", &p("/new")), Some(&4));
        assert_eq!(c.get(0, "", &p("/1")), None);
    }

    #[test]
    fn get_or_insert_computes_once() {
        let mut c: BindCache<u32> = BindCache::new(4);
        let mut calls = 0;
        for _ in 0..3 {
            let v = *c.get_or_insert_with(1, "", &p("/x"), || {
                calls += 1;
                7
            });
            assert_eq!(v, 7);
        }
        assert_eq!(calls, 1);
        assert_eq!(c.stats(), (2, 1));
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn p(s: &str) -> Path {
        Path::read(s).unwrap()
    }

    #[test]
    fn the_byte_budget_clears_before_it_is_exceeded_and_skips_oversized_entries() {
        let mut c: BindCache<u32> = BindCache::new(1000).with_max_bytes(2_000);
        let dtab = "/svc=>/x".repeat(10); // 80 bytes of request dtab per key
        for i in 0..100u32 {
            c.insert_sized(1, &dtab, &p(&format!("/svc/{i}")), i, 100);
            assert!(c.bytes() <= 2_000, "{} bytes after {i}", c.bytes());
        }
        assert!(
            c.len() < 100,
            "the budget, not the entry count, bounded the cache"
        );
        assert!(
            c.get(1, &dtab, &p("/svc/99")).is_some(),
            "the newest entry is kept"
        );
        // One entry bigger than the whole budget is not stored (and evicts nothing).
        let before = c.len();
        c.insert_sized(1, "", &p("/svc/huge"), 7, 5_000);
        assert!(c.get(1, "", &p("/svc/huge")).is_none());
        assert_eq!(c.len(), before);
        // Replacing an entry does not count it twice.
        let b = c.bytes();
        c.insert_sized(1, &dtab, &p("/svc/99"), 99, 100);
        assert_eq!(c.bytes(), b);
        // A new generation starts from zero.
        assert!(c.get(2, &dtab, &p("/svc/99")).is_none());
        assert_eq!(c.bytes(), 0);
    }
}
