//! SQL on `listing_photos`: a photo is `pending` from the upload URL on,
//! `attached` once its object is checked, and `deleted` when its seller removes it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{PhotoRow, PhotoStatus};
use crate::db::ids::ListingId;
use crate::db::schema::listing_photos;

pub async fn find_photo(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    photo_id: Uuid,
) -> QueryResult<Option<PhotoRow>> {
    listing_photos::table
        .find(photo_id)
        .filter(listing_photos::listing_id.eq(listing_id))
        .select(PhotoRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Photos a listing has or is being given (everything not deleted).
pub async fn count_photos(conn: &mut AsyncPgConnection, listing_id: ListingId) -> QueryResult<i64> {
    listing_photos::table
        .filter(listing_photos::listing_id.eq(listing_id))
        .filter(listing_photos::status.ne(PhotoStatus::Deleted))
        .count()
        .get_result(conn)
        .await
}

/// What the seller declared about a photo before uploading it.
pub struct PendingPhoto<'a> {
    pub id: Uuid,
    pub listing_id: ListingId,
    pub object_key: &'a str,
    pub content_type: &'static str,
    pub size_bytes: i64,
    /// Lower-case hex, when given.
    pub sha256: Option<String>,
}

pub async fn insert_pending_photo(
    conn: &mut AsyncPgConnection,
    photo: PendingPhoto<'_>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(listing_photos::table)
        .values((
            listing_photos::id.eq(photo.id),
            listing_photos::listing_id.eq(photo.listing_id),
            listing_photos::object_key.eq(photo.object_key),
            listing_photos::content_type.eq(photo.content_type),
            listing_photos::size_bytes.eq(photo.size_bytes),
            listing_photos::sha256.eq(photo.sha256),
            listing_photos::status.eq(PhotoStatus::Pending),
            listing_photos::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Attaches a pending photo; a photo no longer pending (attached by a concurrent
/// call, or deleted meanwhile) is left as it is.
pub async fn attach_photo(conn: &mut AsyncPgConnection, photo_id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(listing_photos::table.find(photo_id).filter(listing_photos::status.eq(PhotoStatus::Pending)))
        .set((listing_photos::status.eq(PhotoStatus::Attached), listing_photos::attached_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_photo_deleted(conn: &mut AsyncPgConnection, photo_id: Uuid) -> QueryResult<()> {
    diesel::update(listing_photos::table.find(photo_id))
        .set(listing_photos::status.eq(PhotoStatus::Deleted))
        .execute(conn)
        .await?;
    Ok(())
}
