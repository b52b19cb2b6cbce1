//! Listing photos: the client uploads straight to object storage with a
//! presigned URL, then asks the API to check and attach the object, so the API
//! never carries the image bytes itself. Holds the request and response bodies
//! and the three use cases (start an upload, complete it, delete a photo); what
//! a photo must be is in `photo_check`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{listing_not_found, lock_owned, wrong_status};
use super::lifecycle::{editable, Editable};
use super::model::{ListingRow, PhotoRow, PhotoStatus};
use super::photo_check::{PhotoType, MAGIC_LEN, MAX_PHOTOS_PER_LISTING, MAX_PHOTO_BYTES};
use super::photo_queries::{self, PendingPhoto};
use super::queries;
use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::{ApiError, ApiResult};
use crate::storage::ObjectStore;

const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content_type": "image/jpeg", "size_bytes": 482113}))]
pub struct NewPhoto {
    content_type: PhotoType,
    /// Exact size of the file to upload (at most 10 MB).
    size_bytes: i64,
    /// Optional hex SHA-256 of the file, kept for the record.
    sha256: Option<String>,
}

impl NewPhoto {
    /// The rules that need no database.
    pub fn check(&self) -> ApiResult<()> {
        if !(1..=MAX_PHOTO_BYTES).contains(&self.size_bytes) {
            return Err(ApiError::validation("size_bytes", format!("must be between 1 and {MAX_PHOTO_BYTES}")));
        }
        if self.sha256.as_ref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(ApiError::validation("sha256", "must be 64 hex digits"));
        }
        Ok(())
    }
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "photo_id": "0192f7a9-1e2d-7c3b-8a4f-5e6d7c8b9a02",
    "upload_url": "https://rigmarket-media.s3.eu-central-1.amazonaws.com/listings/0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01/photos/0192f7a9-1e2d-7c3b-8a4f-5e6d7c8b9a02.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260504%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260504T081500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    "expires_at": "2026-05-04T08:30:00Z"
}))]
pub struct PhotoUpload {
    pub photo_id: Uuid,
    /// PUT the file here with the same `Content-Type`.
    pub upload_url: String,
    pub expires_at: DateTime<Utc>,
}

fn photo_not_found() -> ApiError {
    ApiError::not_found("photo_not_found", "This listing has no such photo.")
}

/// Records a pending photo on a listing of `seller` that may still change
/// (see [`NewPhoto::check`]) and answers where to upload it. The URL is signed
/// after the transaction commits, so a failed insert hands out no URL.
pub async fn start_upload(
    conn: &mut AsyncPgConnection,
    storage: &ObjectStore,
    seller: &AuthUser,
    listing_id: ListingId,
    photo: &NewPhoto,
    now: DateTime<Utc>,
) -> ApiResult<PhotoUpload> {
    let (photo_id, key) = conn
        .transaction(async |conn| {
            let listing = lock_owned(conn, listing_id, seller).await?;
            if editable(listing.status()) == Editable::Nothing {
                return Err(wrong_status(&listing, "given photos"));
            }
            if photo_queries::count_photos(conn, listing.id).await? >= MAX_PHOTOS_PER_LISTING {
                return Err(ApiError::conflict(
                    "too_many_photos",
                    format!("A listing has at most {MAX_PHOTOS_PER_LISTING} photos."),
                ));
            }
            let photo_id = Uuid::now_v7();
            let key = format!("listings/{}/photos/{photo_id}.{}", listing.id, photo.content_type.extension());
            let pending = PendingPhoto {
                id: photo_id,
                listing_id: listing.id,
                object_key: &key,
                content_type: photo.content_type.mime(),
                size_bytes: photo.size_bytes,
                sha256: photo.sha256.as_ref().map(|h| h.to_lowercase()),
            };
            photo_queries::insert_pending_photo(conn, pending, now).await?;
            Ok::<_, ApiError>((photo_id, key))
        })
        .await?;
    let upload_url = storage.presign_put(&key, photo.content_type.mime(), UPLOAD_URL_TTL).await?;
    Ok(PhotoUpload {
        photo_id,
        upload_url: upload_url.to_string(),
        expires_at: now + chrono::Duration::from_std(UPLOAD_URL_TTL).unwrap_or_default(),
    })
}

/// Checks the uploaded object (exists, declared size, really a JPEG/PNG/WebP)
/// and attaches it; answers the listing. Completing twice is harmless. A refused
/// object is deleted (unless nothing was uploaded yet).
///
/// No transaction is held across the storage calls: the only write is one
/// statement that attaches the photo only while it is still pending.
pub async fn complete_upload(
    conn: &mut AsyncPgConnection,
    storage: &ObjectStore,
    seller: &AuthUser,
    listing_id: ListingId,
    photo_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    let listing = queries::find(conn, listing_id).await?.ok_or_else(listing_not_found)?;
    if listing.seller_id != seller.id() {
        return Err(listing_not_found());
    }
    let photo = photo_queries::find_photo(conn, listing.id, photo_id).await?.ok_or_else(photo_not_found)?;
    match photo.status {
        PhotoStatus::Attached => return Ok(listing),
        PhotoStatus::Pending => {}
        PhotoStatus::Deleted => return Err(photo_not_found()),
    }
    if let Err(refusal) = check_upload(storage, &photo).await {
        if !matches!(refusal, ApiError::Unprocessable { code: "upload_missing", .. }) {
            storage.delete(&photo.object_key).await?;
        }
        return Err(refusal);
    }
    photo_queries::attach_photo(conn, photo.id, now).await?;
    Ok(listing)
}

/// Why an uploaded object is refused, checked against what is really stored.
async fn check_upload(storage: &ObjectStore, photo: &PhotoRow) -> Result<(), ApiError> {
    let Some(meta) = storage.head(&photo.object_key).await? else {
        return Err(ApiError::unprocessable("upload_missing", "Nothing was uploaded to the upload URL yet."));
    };
    if meta.size as i64 > MAX_PHOTO_BYTES || meta.size as i64 != photo.size_bytes {
        return Err(ApiError::unprocessable(
            "upload_size_mismatch",
            format!(
                "The uploaded file has {} bytes; {} were declared (at most {MAX_PHOTO_BYTES}).",
                meta.size, photo.size_bytes
            ),
        ));
    }
    let prefix = storage.read_prefix(&photo.object_key, MAGIC_LEN).await?;
    match PhotoType::sniff(&prefix) {
        Some(actual) if actual.mime() == photo.content_type => Ok(()),
        _ => Err(ApiError::unprocessable(
            "upload_type_mismatch",
            format!("The uploaded file is not a {} image.", photo.content_type),
        )),
    }
}

/// Removes a photo of a listing of `seller` while the listing may change
/// freely (a draft or rejected). The object is deleted from storage once the
/// transaction has committed.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    storage: &ObjectStore,
    seller: &AuthUser,
    listing_id: ListingId,
    photo_id: Uuid,
) -> ApiResult<()> {
    let key = conn
        .transaction(async |conn| {
            let listing = lock_owned(conn, listing_id, seller).await?;
            if editable(listing.status()) != Editable::Everything {
                return Err(wrong_status(&listing, "edited"));
            }
            let photo = photo_queries::find_photo(conn, listing.id, photo_id)
                .await?
                .filter(|p| p.status != PhotoStatus::Deleted);
            let photo = photo.ok_or_else(photo_not_found)?;
            photo_queries::mark_photo_deleted(conn, photo.id).await?;
            Ok::<_, ApiError>(photo.object_key)
        })
        .await?;
    storage.delete(&key).await?;
    Ok(())
}
