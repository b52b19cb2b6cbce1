//! SQL on `listing_flags`: a flag is `open` until an admin resolves it as
//! `dismissed` or `unpublished`. One flag per reporter and listing (a unique
//! index).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{FlagStatus, FlagView};
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::listing_flags;

/// Open flags, newest first, before `before` (a flag id) when paging.
pub async fn open_flags(conn: &mut AsyncPgConnection, before: Option<Uuid>, limit: i64) -> QueryResult<Vec<FlagView>> {
    let mut query = listing_flags::table
        .filter(listing_flags::status.eq(FlagStatus::Open))
        .order(listing_flags::id.desc())
        .limit(limit)
        .select(FlagView::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(listing_flags::id.lt(before));
    }
    query.load(conn).await
}

/// A user's flag on a listing; a second flag by the same user fails with a
/// unique violation.
pub struct NewFlagRow<'a> {
    pub listing_id: ListingId,
    pub reporter_id: UserId,
    pub reason: &'static str,
    pub details: Option<&'a str>,
}

pub async fn insert_flag(
    conn: &mut AsyncPgConnection,
    flag: NewFlagRow<'_>,
    now: DateTime<Utc>,
) -> QueryResult<FlagView> {
    diesel::insert_into(listing_flags::table)
        .values((
            listing_flags::id.eq(Uuid::now_v7()),
            listing_flags::listing_id.eq(flag.listing_id),
            listing_flags::reporter_id.eq(Some(flag.reporter_id)),
            listing_flags::reason.eq(flag.reason),
            listing_flags::details.eq(flag.details),
            listing_flags::created_at.eq(now),
        ))
        .returning(FlagView::as_returning())
        .get_result(conn)
        .await
}

/// Locks a flag for the rest of the transaction, so two admins cannot resolve
/// it twice.
pub async fn lock_flag(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<FlagView>> {
    listing_flags::table.find(id).select(FlagView::as_select()).for_update().first(conn).await.optional()
}

/// How an admin closed a flag.
pub struct Resolution<'a> {
    /// `Dismissed` or `Unpublished`.
    pub status: FlagStatus,
    pub resolved_by: UserId,
    pub note: &'a str,
}

pub async fn resolve_flag(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    resolution: &Resolution<'_>,
    now: DateTime<Utc>,
) -> QueryResult<FlagView> {
    diesel::update(listing_flags::table.find(id))
        .set((
            listing_flags::status.eq(resolution.status),
            listing_flags::resolved_by.eq(resolution.resolved_by),
            listing_flags::resolved_at.eq(now),
            listing_flags::resolution_note.eq(resolution.note),
        ))
        .returning(FlagView::as_returning())
        .get_result(conn)
        .await
}

/// Resolves every other open flag on the listing the same way.
pub async fn resolve_other_open_flags(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    except: Uuid,
    resolution: &Resolution<'_>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        listing_flags::table
            .filter(listing_flags::listing_id.eq(listing_id))
            .filter(listing_flags::status.eq(FlagStatus::Open))
            .filter(listing_flags::id.ne(except)),
    )
    .set((
        listing_flags::status.eq(resolution.status),
        listing_flags::resolved_by.eq(resolution.resolved_by),
        listing_flags::resolved_at.eq(now),
        listing_flags::resolution_note.eq(resolution.note),
    ))
    .execute(conn)
    .await?;
    Ok(())
}
