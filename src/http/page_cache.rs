//! Public pages that every caller sees alike (the rig-model catalog), kept
//! rendered for a moment so a burst of identical reads (a link posted to a
//! thousand buyers) costs one query and one rendering per second instead of one
//! each.
//!
//! Freshness: a write through this instance clears the cache at once
//! ([`PageCache::invalidate`]), and a page read while a write was under way is
//! not stored (the generation it started with has moved on). Another instance's
//! write, or the CLI's import, is seen within [`PageCache::TTL`]: well inside
//! the lag the same endpoints already tolerate from a replica
//! (`RIGMARKET_REPLICA_MAX_LAG`, 5 s by default). Only 200 answers are stored,
//! so a key that is present came from a valid query. The number of keys is
//! capped (query strings are the caller's to choose): a full cache starts over.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::HttpResponse;

struct Entry {
    stored_at: Instant,
    body: Bytes,
}

/// Rendered JSON bodies by key (the path and query of the request).
pub struct PageCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PageCache {
    /// How long a stored page is served.
    pub const TTL: Duration = Duration::from_secs(1);
    /// Keys kept at most.
    pub const MAX_ENTRIES: usize = 1_024;

    pub fn new() -> Self {
        Self { generation: AtomicU64::new(0), entries: Mutex::new(HashMap::new()) }
    }

    /// The stored body of `key` if it is fresh.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).filter(|e| e.stored_at.elapsed() < Self::TTL).map(|e| e.body.clone())
    }

    /// Take this before reading what a page shows; pass it to [`Self::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores `body` under `key`, unless a write invalidated the cache since
    /// `generation` was taken (the page may predate that write).
    pub fn put(&self, key: String, generation: u64, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= Self::MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, Entry { stored_at: Instant::now(), body });
    }

    /// Forgets every page: call it after a write that pages show commits.
    pub fn invalidate(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// A 200 answer carrying a stored (or just rendered) JSON body.
    pub fn respond(body: Bytes) -> HttpResponse {
        HttpResponse::Ok().content_type(ContentType::json()).body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_until_a_write_invalidates_it() {
        let cache = PageCache::new();
        let generation = cache.generation();
        cache.put("a".into(), generation, Bytes::from_static(b"1"));
        assert_eq!(cache.get("a"), Some(Bytes::from_static(b"1")));
        assert_eq!(cache.get("b"), None);
        cache.invalidate();
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn a_page_read_across_a_write_is_not_stored() {
        let cache = PageCache::new();
        let before_the_write = cache.generation();
        cache.invalidate();
        cache.put("a".into(), before_the_write, Bytes::from_static(b"stale"));
        assert_eq!(cache.get("a"), None);
        cache.put("a".into(), cache.generation(), Bytes::from_static(b"fresh"));
        assert_eq!(cache.get("a"), Some(Bytes::from_static(b"fresh")));
    }

    #[test]
    fn the_number_of_keys_is_capped() {
        let cache = PageCache::new();
        for n in 0..PageCache::MAX_ENTRIES + 10 {
            cache.put(format!("k{n}"), cache.generation(), Bytes::from_static(b"x"));
        }
        let kept = cache.entries.lock().unwrap().len();
        assert!(kept <= PageCache::MAX_ENTRIES, "{kept}");
        assert_eq!(cache.get(&format!("k{}", PageCache::MAX_ENTRIES + 9)), Some(Bytes::from_static(b"x")));
    }

    #[test]
    fn a_page_older_than_the_ttl_is_not_served() {
        let cache = PageCache::new();
        cache.put("a".into(), cache.generation(), Bytes::from_static(b"1"));
        cache.entries.lock().unwrap().get_mut("a").unwrap().stored_at -= PageCache::TTL;
        assert_eq!(cache.get("a"), None);
    }
}
