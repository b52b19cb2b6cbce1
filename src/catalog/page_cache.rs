//! Rendered rig-model pages, reused while the catalog has not changed.
//!
//! The catalog changes a few times a year (an admin's edit, an import) and is
//! read in bursts (a fire-sale link posted to a thousand buyers), so a page is
//! rendered once per catalog version and query instead of once per request.
//! A request for a query with a kept page waits for a read of the catalog's
//! version (`catalog_version`, bumped by a trigger in the statement that
//! writes the catalog) that started after the request arrived, on the
//! database its reads are routed to: an answer is never older than the last
//! committed change, on any instance, whoever made it (the CLI's imports
//! included), and with the database away the request fails as any other
//! would. Requests arriving together share that read (`db::fresh_read`), so a
//! burst costs a few round trips, not one each. A page is rendered from a read
//! made after its version's, on the same connection, so what is stored under
//! a version shows at least that version. Query strings are the caller's to
//! choose: the number of kept pages is capped, and a full cache starts over.

use actix_web::web::Bytes;
use diesel::prelude::*;
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::accounts::ReplicaReads;
use crate::db::fresh_read::{Answer, FreshReads};
use crate::db::schema::catalog_version;
use crate::error::{ApiError, ApiResult};
use crate::http::kept::Kept;

/// The catalog's current version.
pub async fn current_version(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    catalog_version::table.select(catalog_version::version).first(conn).await
}

/// Rendered JSON bodies by key (the request's query string), and the version
/// reads of each read target (the primary, each replica). Cheap to clone.
#[derive(Clone)]
pub struct CatalogPages {
    pages: Kept<i64, Bytes>,
    /// Version reads, shared by the requests that wait on them.
    versions: FreshReads<Answer<i64, ApiError>>,
}

impl Default for CatalogPages {
    fn default() -> Self {
        // A page is one limit's worth of models: the count is the cap.
        Self { pages: Kept::new(Self::MAX_PAGES, usize::MAX), versions: FreshReads::default() }
    }
}

impl CatalogPages {
    /// The catalog's version as read, after this call, where `reads` go.
    pub async fn version(&self, reads: &ReplicaReads) -> ApiResult<i64> {
        let fresh = self.versions.of(reads.target());
        let reads = reads.clone();
        let read = move || async move {
            let mut conn = reads.conn().await?;
            Ok(current_version(&mut conn).await?)
        };
        fresh.answer(read).await
    }

    /// Pages kept at most.
    pub const MAX_PAGES: usize = 1_024;

    /// Whether a page is kept for `key`, at any version.
    pub fn has(&self, key: &str) -> bool {
        self.pages.has(key)
    }

    /// The body stored under `key` for this catalog `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<Bytes> {
        self.pages.get(key, &version)
    }

    /// Stores `body` as the page of `key` at catalog `version` (read after it).
    pub fn put(&self, key: String, version: i64, body: Bytes) {
        self.pages.put(key, version, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_for_its_own_version_only() {
        let pages = CatalogPages::default();
        pages.put("limit=20".into(), 3, Bytes::from_static(b"v3"));
        assert_eq!(pages.get("limit=20", 3), Some(Bytes::from_static(b"v3")));
        assert_eq!(pages.get("limit=20", 4), None, "the catalog changed");
        assert_eq!(pages.get("limit=7", 3), None);
        pages.put("limit=20".into(), 4, Bytes::from_static(b"v4"));
        assert_eq!(pages.get("limit=20", 4), Some(Bytes::from_static(b"v4")));
    }

    #[test]
    fn the_number_of_pages_is_capped() {
        let pages = CatalogPages::default();
        for n in 0..CatalogPages::MAX_PAGES + 10 {
            pages.put(format!("k{n}"), 1, Bytes::from_static(b"x"));
        }
        assert!(pages.pages.usage().0 <= CatalogPages::MAX_PAGES);
        assert_eq!(pages.get(&format!("k{}", CatalogPages::MAX_PAGES + 9), 1), Some(Bytes::from_static(b"x")));
    }
}
