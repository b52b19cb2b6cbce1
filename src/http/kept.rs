//! Rendered answers kept by key with the version of the data they show, served
//! again only for that same version. Keys are the callers' to choose (query
//! strings), so what is kept is capped in entries and in bytes, and a full
//! store starts over rather than tracking recency. What "version" means, and
//! when it is read, is the caller's: see `catalog::page_cache` and
//! `price_index::answers`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::web::Bytes;

/// A kept value's size against the store's byte cap.
pub trait Weight {
    fn bytes(&self) -> usize;
}

impl Weight for Bytes {
    fn bytes(&self) -> usize {
        self.len()
    }
}

struct Entry<V, T> {
    version: V,
    value: T,
}

struct Store<V, T> {
    entries: HashMap<String, Entry<V, T>>,
    bytes: usize,
}

/// Values by key, each with its version. Cheap to clone (shared).
pub struct Kept<V, T> {
    store: Arc<Mutex<Store<V, T>>>,
    max_entries: usize,
    max_bytes: usize,
}

impl<V, T> Clone for Kept<V, T> {
    fn clone(&self) -> Self {
        Self { store: self.store.clone(), max_entries: self.max_entries, max_bytes: self.max_bytes }
    }
}

impl<V: PartialEq, T: Clone + Weight> Kept<V, T> {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        let store = Store { entries: HashMap::new(), bytes: 0 };
        Self { store: Arc::new(Mutex::new(store)), max_entries, max_bytes }
    }

    fn store(&self) -> MutexGuard<'_, Store<V, T>> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether anything is kept for `key`, at any version.
    pub fn has(&self, key: &str) -> bool {
        self.store().entries.contains_key(key)
    }

    /// The value kept under `key` for this `version`.
    pub fn get(&self, key: &str, version: &V) -> Option<T> {
        self.store().entries.get(key).filter(|entry| entry.version == *version).map(|entry| entry.value.clone())
    }

    /// Keeps `value` as `key`'s at `version`, replacing what was kept. A value
    /// larger than the byte cap is not kept; a full store starts over.
    pub fn put(&self, key: String, version: V, value: T) {
        let size = value.bytes();
        if size > self.max_bytes {
            return;
        }
        let mut store = self.store();
        if let Some(old) = store.entries.remove(&key) {
            store.bytes -= old.value.bytes();
        }
        if store.entries.len() >= self.max_entries || store.bytes + size > self.max_bytes {
            store.entries.clear();
            store.bytes = 0;
        }
        store.bytes += size;
        store.entries.insert(key, Entry { version, value });
    }

    /// Entries and bytes kept now.
    pub fn usage(&self) -> (usize, usize) {
        let store = self.store();
        (store.entries.len(), store.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_served_for_its_own_version_only() {
        let kept: Kept<i64, Bytes> = Kept::new(8, 1024);
        kept.put("limit=20".into(), 3, Bytes::from_static(b"v3"));
        assert!(kept.has("limit=20") && !kept.has("limit=7"));
        assert_eq!(kept.get("limit=20", &3), Some(Bytes::from_static(b"v3")));
        assert_eq!(kept.get("limit=20", &4), None, "the data changed");
        kept.put("limit=20".into(), 4, Bytes::from_static(b"v4!"));
        assert_eq!(kept.get("limit=20", &4), Some(Bytes::from_static(b"v4!")));
        assert_eq!(kept.usage(), (1, 3), "the replaced value no longer counts");
    }

    #[test]
    fn what_is_kept_is_capped_in_entries_and_in_bytes() {
        let kept: Kept<i64, Bytes> = Kept::new(4, 100);
        for n in 0..10 {
            kept.put(format!("k{n}"), 1, Bytes::from_static(b"x"));
        }
        assert!(kept.usage().0 <= 4);
        assert_eq!(kept.get("k9", &1), Some(Bytes::from_static(b"x")), "the newest is kept");
        for n in 0..3 {
            kept.put(format!("big{n}"), 1, Bytes::from(vec![b' '; 34]));
        }
        let (entries, bytes) = kept.usage();
        assert!(bytes <= 100 && kept.has("big2"), "{entries} entries, {bytes} bytes");
        kept.put("huge".into(), 1, Bytes::from(vec![b' '; 101]));
        assert!(!kept.has("huge"), "larger than the cap: not kept");
    }
}
