//! Listing photos: the client uploads straight to object storage with a
//! presigned URL, then asks the API to check and attach the object. The API never
//! carries the image bytes itself.

use std::time::Duration;

use actix_web::{delete, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::db::schema::listing_photos;
use crate::error::{ApiError, ApiResult, Problem};
use crate::listings::access::{listing_not_found, lock_owned, wrong_status};
use crate::listings::lifecycle::{editable, Editable};
use crate::listings::model::{ListingView, PhotoRow};
use crate::listings::photo_check::{PhotoType, MAGIC_LEN, MAX_PHOTOS_PER_LISTING, MAX_PHOTO_BYTES};
use crate::listings::queries;
use crate::listings::ListingRenderer;
use crate::state::AppState;

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

#[derive(Serialize, ToSchema)]
pub struct PhotoUpload {
    pub photo_id: Uuid,
    /// PUT the file here with the same `Content-Type`.
    pub upload_url: String,
    pub expires_at: DateTime<Utc>,
}

fn photo_not_found() -> ApiError {
    ApiError::not_found("photo_not_found", "This listing has no such photo.")
}

/// Start a photo upload: returns a presigned PUT URL valid for 15 minutes.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = NewPhoto,
    responses(
        (status = 201, body = PhotoUpload),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/photos")]
async fn start_photo_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewPhoto>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let body = body.into_inner();
    if !(1..=MAX_PHOTO_BYTES).contains(&body.size_bytes) {
        return Err(ApiError::validation("size_bytes", format!("must be between 1 and {MAX_PHOTO_BYTES}")));
    }
    if body.sha256.as_ref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(ApiError::validation("sha256", "must be 64 hex digits"));
    }
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (photo_id, key) = conn
        .transaction(async |conn| {
            let listing = lock_owned(conn, *id, &user).await?;
            if editable(listing.status()) == Editable::Nothing {
                return Err(wrong_status(&listing, "given photos"));
            }
            if queries::count_photos(conn, listing.id).await? >= MAX_PHOTOS_PER_LISTING {
                return Err(ApiError::conflict(
                    "too_many_photos",
                    format!("A listing has at most {MAX_PHOTOS_PER_LISTING} photos."),
                ));
            }
            let photo_id = Uuid::now_v7();
            let key = format!("listings/{}/photos/{photo_id}.{}", listing.id, body.content_type.extension());
            diesel::insert_into(listing_photos::table)
                .values((
                    listing_photos::id.eq(photo_id),
                    listing_photos::listing_id.eq(listing.id),
                    listing_photos::object_key.eq(&key),
                    listing_photos::content_type.eq(body.content_type.mime()),
                    listing_photos::size_bytes.eq(body.size_bytes),
                    listing_photos::sha256.eq(body.sha256.as_ref().map(|h| h.to_lowercase())),
                    listing_photos::status.eq("pending"),
                    listing_photos::created_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok::<_, ApiError>((photo_id, key))
        })
        .await?;
    let upload_url = state.storage.presign_put(&key, body.content_type.mime(), UPLOAD_URL_TTL).await?;
    Ok(HttpResponse::Created().json(PhotoUpload {
        photo_id,
        upload_url: upload_url.to_string(),
        expires_at: now + chrono::Duration::from_std(UPLOAD_URL_TTL).unwrap_or_default(),
    }))
}

/// Why an uploaded object is refused, checked against what is really stored.
async fn check_upload(state: &AppState, photo: &PhotoRow) -> Result<(), ApiError> {
    let Some(meta) = state.storage.head(&photo.object_key).await? else {
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
    let prefix = state.storage.read_prefix(&photo.object_key, MAGIC_LEN).await?;
    match PhotoType::sniff(&prefix) {
        Some(actual) if actual.mime() == photo.content_type => Ok(()),
        _ => Err(ApiError::unprocessable(
            "upload_type_mismatch",
            format!("The uploaded file is not a {} image.", photo.content_type),
        )),
    }
}

/// Check the uploaded object (exists, declared size, real JPEG/PNG/WebP) and
/// attach it to the listing. A refused object is deleted.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ("photo_id" = Uuid, Path, description = "Photo id")),
    responses(
        (status = 200, body = ListingView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/photos/{photo_id}/complete")]
async fn complete_photo_upload(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<ListingView>> {
    let (listing_id, photo_id) = path.into_inner();
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let listing = {
        let row = queries::find(&mut conn, listing_id).await?.ok_or_else(listing_not_found)?;
        if row.seller_id != user.id() {
            return Err(listing_not_found());
        }
        row
    };
    let photo = queries::find_photo(&mut conn, listing.id, photo_id).await?.ok_or_else(photo_not_found)?;
    if photo.status == "attached" {
        return Ok(web::Json(pages.render_one(&mut conn, listing).await?));
    }
    if photo.status != "pending" {
        return Err(photo_not_found());
    }
    if let Err(refusal) = check_upload(&state, &photo).await {
        if !matches!(refusal, ApiError::Unprocessable { code: "upload_missing", .. }) {
            state.storage.delete(&photo.object_key).await?;
        }
        return Err(refusal);
    }
    diesel::update(listing_photos::table.find(photo.id).filter(listing_photos::status.eq("pending")))
        .set((listing_photos::status.eq("attached"), listing_photos::attached_at.eq(now)))
        .execute(&mut conn)
        .await?;
    Ok(web::Json(pages.render_one(&mut conn, listing).await?))
}

/// Remove a photo (while the listing is a draft or rejected).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ("photo_id" = Uuid, Path, description = "Photo id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/listings/{id}/photos/{photo_id}")]
async fn delete_photo(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (listing_id, photo_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let key = conn
        .transaction(async |conn| {
            let listing = lock_owned(conn, listing_id, &user).await?;
            if editable(listing.status()) != Editable::Everything {
                return Err(wrong_status(&listing, "edited"));
            }
            let photo = queries::find_photo(conn, listing.id, photo_id).await?.filter(|p| p.status != "deleted");
            let photo = photo.ok_or_else(photo_not_found)?;
            diesel::update(listing_photos::table.find(photo.id))
                .set(listing_photos::status.eq("deleted"))
                .execute(conn)
                .await?;
            Ok::<_, ApiError>(photo.object_key)
        })
        .await?;
    state.storage.delete(&key).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start_photo_upload).service(complete_photo_upload).service(delete_photo);
}
