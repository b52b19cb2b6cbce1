//! SQL on `offer_threads` and `offer_versions`; each function takes a connection
//! so the use cases compose them in one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{ThreadRow, VersionRow};
use super::state::{Party, ThreadStatus};
use crate::db::ids::{ListingId, OrderId, UserId};
use crate::db::schema::{offer_threads, offer_versions};

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ThreadRow>> {
    offer_threads::table.find(id).select(ThreadRow::as_select()).first(conn).await.optional()
}

/// Locks the thread for the rest of the transaction: every move on a thread
/// takes this lock, so concurrent moves are served one after another.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ThreadRow>> {
    offer_threads::table.find(id).select(ThreadRow::as_select()).for_update().first(conn).await.optional()
}

pub async fn insert_thread(conn: &mut AsyncPgConnection, thread: &ThreadRow) -> QueryResult<ThreadRow> {
    diesel::insert_into(offer_threads::table).values(thread).returning(ThreadRow::as_returning()).get_result(conn).await
}

/// Adds `version` and makes it the thread's latest.
pub async fn add_version(conn: &mut AsyncPgConnection, version: &VersionRow) -> QueryResult<ThreadRow> {
    diesel::insert_into(offer_versions::table).values(version).execute(conn).await?;
    diesel::update(offer_threads::table.find(version.thread_id))
        .set((
            offer_threads::latest_n.eq(version.n),
            offer_threads::latest_by.eq(version.by_role),
            offer_threads::quantity.eq(version.quantity),
            offer_threads::unit_price_cents.eq(version.unit_price_cents),
            offer_threads::expires_at.eq(version.expires_at),
            offer_threads::updated_at.eq(version.created_at),
        ))
        .returning(ThreadRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn latest_version(conn: &mut AsyncPgConnection, thread: &ThreadRow) -> QueryResult<VersionRow> {
    offer_versions::table.find((thread.id, thread.latest_n)).select(VersionRow::as_select()).first(conn).await
}

/// Every version of these threads, oldest first.
pub async fn versions_of(conn: &mut AsyncPgConnection, thread_ids: &[Uuid]) -> QueryResult<Vec<VersionRow>> {
    offer_versions::table
        .filter(offer_versions::thread_id.eq_any(thread_ids))
        .order((offer_versions::thread_id, offer_versions::n))
        .select(VersionRow::as_select())
        .load(conn)
        .await
}

/// Why a thread closed: a code and the words shown to the parties.
pub struct Closing<'a> {
    pub status: ThreadStatus,
    pub reason: Option<&'a str>,
    pub note: Option<String>,
    pub order_id: Option<OrderId>,
}

pub async fn close(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    closing: Closing<'_>,
    now: DateTime<Utc>,
) -> QueryResult<ThreadRow> {
    diesel::update(offer_threads::table.find(id))
        .set((
            offer_threads::status.eq(closing.status),
            offer_threads::close_reason.eq(closing.reason),
            offer_threads::close_note.eq(closing.note),
            offer_threads::order_id.eq(closing.order_id),
            offer_threads::closed_at.eq(now),
            offer_threads::updated_at.eq(now),
        ))
        .returning(ThreadRow::as_returning())
        .get_result(conn)
        .await
}

/// Voids the open threads of a listing that ask for more than `available`
/// units (all of them when `available` is `None`). The UPDATE waits for threads
/// another transaction holds and re-checks them, so a thread withdrawn or
/// accepted meanwhile is left alone.
pub async fn void_open(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    available: Option<i32>,
    reason: &str,
    note: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<ThreadRow>> {
    let mut query = diesel::update(offer_threads::table)
        .filter(offer_threads::listing_id.eq(listing_id))
        .filter(offer_threads::status.eq(ThreadStatus::Open))
        .into_boxed();
    if let Some(available) = available {
        query = query.filter(offer_threads::quantity.gt(available));
    }
    query
        .set((
            offer_threads::status.eq(ThreadStatus::Voided),
            offer_threads::close_reason.eq(reason),
            offer_threads::close_note.eq(note),
            offer_threads::closed_at.eq(now),
            offer_threads::updated_at.eq(now),
        ))
        .returning(ThreadRow::as_returning())
        .get_results(conn)
        .await
}

/// The buyer's open thread on the listing, if any.
pub async fn open_thread_of(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    buyer_id: UserId,
) -> QueryResult<Option<Uuid>> {
    offer_threads::table
        .filter(offer_threads::listing_id.eq(listing_id))
        .filter(offer_threads::buyer_id.eq(buyer_id))
        .filter(offer_threads::status.eq(ThreadStatus::Open))
        .select(offer_threads::id)
        .first(conn)
        .await
        .optional()
}

/// How many threads the buyer started on the listing since `since`.
pub async fn count_started_since(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    buyer_id: UserId,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    offer_threads::table
        .filter(offer_threads::buyer_id.eq(buyer_id))
        .filter(offer_threads::listing_id.eq(listing_id))
        .filter(offer_threads::created_at.gt(since))
        .count()
        .get_result(conn)
        .await
}

/// Whose threads a list shows.
#[derive(Debug, Clone, Copy)]
pub enum ThreadScope {
    /// Every thread of a listing (its seller).
    Listing(ListingId),
    /// One buyer's threads on a listing.
    ListingBuyer(ListingId, UserId),
    /// Threads where the user plays this part (either, when `None`).
    Party(UserId, Option<Party>),
}

/// Newest first, paged by id (UUID v7 ids grow with time).
pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: ThreadScope,
    status: Option<ThreadStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ThreadRow>> {
    let mut query =
        offer_threads::table.order(offer_threads::id.desc()).limit(limit).select(ThreadRow::as_select()).into_boxed();
    query = match scope {
        ThreadScope::Listing(listing) => query.filter(offer_threads::listing_id.eq(listing)),
        ThreadScope::ListingBuyer(listing, buyer) => {
            query.filter(offer_threads::listing_id.eq(listing)).filter(offer_threads::buyer_id.eq(buyer))
        }
        ThreadScope::Party(user, Some(Party::Buyer)) => query.filter(offer_threads::buyer_id.eq(user)),
        ThreadScope::Party(user, Some(Party::Seller)) => query.filter(offer_threads::seller_id.eq(user)),
        ThreadScope::Party(user, None) => {
            query.filter(offer_threads::buyer_id.eq(user).or(offer_threads::seller_id.eq(user)))
        }
    };
    if let Some(status) = status {
        query = query.filter(offer_threads::status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(offer_threads::id.lt(before));
    }
    query.load(conn).await
}
