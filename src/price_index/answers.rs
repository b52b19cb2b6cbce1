//! Rendered series and fire-sale answers, reused while nothing they show changed.
//!
//! Index consumers poll: a dashboard asks for the same three years every
//! minute, and a thousand of them ask for the same thing. An answer depends on
//! its request (query string, format, and the range `now` resolved it to) and
//! on data that changes rarely for any one range. So each answer is kept with
//! the version of that data it was rendered from, and served again while a
//! fresh read of the version (one small statement, made for every request, on
//! the connection the answer would be read from) still matches:
//!
//! - `price_index_generation`, bumped by every fold of pending observations
//!   and by a rebuild (never by an observation's writer);
//! - the number of pending observations that can touch the range's buckets: an
//!   observation adds one in its own transaction, and only a fold (which bumps
//!   the generation) removes any;
//! - the catalog's version (model labels, and which models a tier holds).
//!
//! If the three are unchanged between two reads, no observation of the range
//! committed in between, so an answer rendered after the first read is exact
//! for the second. The version is read before the buckets, so what is stored
//! under a version shows at least that version. A database outage fails the
//! version read, as any request would. Keys are the caller's to choose: what
//! is kept is capped in answers and in bytes (`http::kept`), and a full cache starts over.
//!
//! Identical requests arriving together (a dashboard link posted to a channel)
//! share that look (`db::fresh_read`): each gets the outcome of a version read,
//! and of a render if the data changed, that started after it arrived, so a
//! burst costs about two looks and at most two renders, not one per caller.

use actix_web::web::Bytes;
use chrono::{Days, NaiveDate};
use diesel::sql_types::{BigInt, Date};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;

use super::params::Selection;
use crate::accounts::ReplicaReads;
use crate::db::fresh_read::{Answer, FreshReads};
use crate::error::{ApiError, ApiResult};
use crate::http::conditional::etag_of;
use crate::http::kept::{Kept, Weight};

/// How an answer is rendered: from a connection (that has just read the
/// version) and the selection. Writing the closure as this function's argument
/// gives it the signature [`IndexAnswers::answer`] needs.
pub fn renderer<R>(render: R) -> R
where
    R: for<'c> FnOnce(&'c mut AsyncPgConnection, &'c Selection) -> BoxFuture<'c, ApiResult<Vec<u8>>>,
{
    render
}

/// What an answer for a range was rendered from (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    generation: i64,
    pending: i64,
    catalog: i64,
}

#[derive(QueryableByName)]
struct IndexVersion {
    #[diesel(sql_type = BigInt)]
    generation: i64,
    #[diesel(sql_type = BigInt)]
    pending: i64,
}

/// The version of the data `selection` shows, read now on `conn`.
pub async fn version(conn: &mut AsyncPgConnection, selection: &Selection) -> ApiResult<DataVersion> {
    let (first, last) = match (<[NaiveDate]>::first(&selection.buckets), <[NaiveDate]>::last(&selection.buckets)) {
        (Some(first), Some(last)) => (*first, *last),
        _ => (NaiveDate::MIN, NaiveDate::MIN),
    };
    // A pending observation dirties its day's bucket and its ISO week's, which
    // starts up to six days before it.
    let index: IndexVersion = diesel::sql_query(
        "SELECT g.generation,
                (SELECT count(*) FROM price_index_pending p WHERE p.day BETWEEN $1 AND $2) AS pending
           FROM price_index_generation g",
    )
    .bind::<Date, _>(first)
    .bind::<Date, _>(last.checked_add_days(Days::new(6)).unwrap_or(last))
    .get_result(conn)
    .await?;
    let catalog = crate::catalog::page_cache::current_version(conn).await?;
    Ok(DataVersion { generation: index.generation, pending: index.pending, catalog })
}

/// A kept answer: its body and that body's ETag.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub etag: String,
}

impl Weight for Rendered {
    fn bytes(&self) -> usize {
        self.body.len()
    }
}

/// Kept answers by key, and the looks at them that callers share, across the
/// HTTP workers. Cheap to clone.
#[derive(Clone)]
pub struct IndexAnswers {
    kept: Kept<DataVersion, Rendered>,
    looks: FreshReads<Answer<Rendered, ApiError>>,
}

impl Default for IndexAnswers {
    fn default() -> Self {
        Self { kept: Kept::new(Self::MAX_ANSWERS, Self::MAX_BYTES), looks: FreshReads::default() }
    }
}

impl IndexAnswers {
    /// Answers kept at most.
    pub const MAX_ANSWERS: usize = 512;
    /// Bytes of bodies kept at most (three years of daily series for 30 models
    /// are about 6 MB).
    pub const MAX_BYTES: usize = 64 << 20;

    /// The answer to a request for `key` (everything the answer depends on but
    /// the data: route, query, resolved range, format) covering `selection`:
    /// the kept one while its data is unchanged, else `render`'s, which reads
    /// after the version on the same connection, kept. Shared with the
    /// identical requests that arrive together on the same read target.
    pub async fn answer<R>(
        &self,
        reads: ReplicaReads,
        key: String,
        selection: Selection,
        render: R,
    ) -> ApiResult<Rendered>
    where
        R: for<'c> FnOnce(&'c mut AsyncPgConnection, &'c Selection) -> BoxFuture<'c, ApiResult<Vec<u8>>>
            + Send
            + 'static,
    {
        let look = self.looks.of(&format!("{}|{key}", reads.target()));
        let answers = self.clone();
        let read = move || async move {
            let mut conn = reads.conn().await?;
            let version = version(&mut conn, &selection).await?;
            if let Some(kept) = answers.get(&key, version) {
                return Ok(kept);
            }
            let body = render(&mut conn, &selection).await?;
            Ok(answers.put(key, version, body))
        };
        look.answer(read).await
    }

    /// The answer kept under `key` for data at `version`.
    pub fn get(&self, key: &str, version: DataVersion) -> Option<Rendered> {
        self.kept.get(key, &version)
    }

    /// Keeps `body` as the answer of `key` for data at `version` (rendered from
    /// reads made after it), and returns it with its ETag.
    pub fn put(&self, key: String, version: DataVersion, body: Vec<u8>) -> Rendered {
        let rendered = Rendered { etag: etag_of(&body), body: Bytes::from(body) };
        self.kept.put(key, version, rendered.clone());
        rendered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(generation: i64, pending: i64, catalog: i64) -> DataVersion {
        DataVersion { generation, pending, catalog }
    }

    #[test]
    fn an_answer_is_served_for_its_own_version_only() {
        let answers = IndexAnswers::default();
        let kept = answers.put("series?a".into(), at(1, 2, 3), b"v1".to_vec());
        assert_eq!(kept.etag, etag_of(b"v1"));
        assert_eq!(answers.get("series?a", at(1, 2, 3)).map(|r| r.body), Some(Bytes::from_static(b"v1")));
        assert!(answers.get("series?a", at(2, 0, 3)).is_none(), "folded");
        assert!(answers.get("series?a", at(1, 3, 3)).is_none(), "a new observation in the range");
        assert!(answers.get("series?a", at(1, 2, 4)).is_none(), "the catalog changed");
        assert!(answers.get("series?b", at(1, 2, 3)).is_none());
        answers.put("series?a".into(), at(1, 3, 3), b"v2".to_vec());
        assert_eq!(answers.get("series?a", at(1, 3, 3)).map(|r| r.body), Some(Bytes::from_static(b"v2")));
        assert_eq!(answers.kept.usage(), (1, 2), "the replaced body no longer counts");
    }

    #[test]
    fn what_is_kept_is_capped_in_answers_and_in_bytes() {
        let answers = IndexAnswers::default();
        for n in 0..IndexAnswers::MAX_ANSWERS + 10 {
            answers.put(format!("k{n}"), at(0, 0, 0), b"x".to_vec());
        }
        assert!(answers.kept.usage().0 <= IndexAnswers::MAX_ANSWERS);
        let big = IndexAnswers::MAX_BYTES / 3 + 1;
        for n in 0..3 {
            answers.put(format!("big{n}"), at(0, 0, 0), vec![b' '; big]);
        }
        let (_, bytes) = answers.kept.usage();
        assert!(bytes <= IndexAnswers::MAX_BYTES && answers.get("big2", at(0, 0, 0)).is_some());
        let too_big = answers.put("huge".into(), at(0, 0, 0), vec![b' '; IndexAnswers::MAX_BYTES + 1]);
        assert_eq!(too_big.body.len(), IndexAnswers::MAX_BYTES + 1);
        assert!(answers.get("huge", at(0, 0, 0)).is_none(), "served once, not kept");
    }
}
