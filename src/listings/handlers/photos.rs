//! Listing photos: a presigned upload URL, the check that attaches the uploaded
//! object, and removal.

use actix_web::{delete, post, web, HttpResponse};
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::ApiResult;
use crate::listings::model::ListingView;
use crate::listings::photos::{self, NewPhoto, PhotoUpload};
use crate::listings::ListingRenderer;
use crate::state::AppState;

crate::http::problems::problems!(StartPhotoUploadProblems {
    403: not_listing_owner | email_not_verified,
    404: listing_not_found,
    409: too_many_photos,
    422: validation_failed,
});

/// Start a photo upload: returns a presigned PUT URL valid for 15 minutes.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = NewPhoto,
    responses(
        (status = 201, body = PhotoUpload),
        StartPhotoUploadProblems,
    )
)]
#[post("/listings/{id}/photos")]
async fn start_photo_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<NewPhoto>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    body.check()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let upload = photos::start_upload(&mut conn, &state.storage, &user, *id, &body, now).await?;
    Ok(HttpResponse::Created().json(upload))
}

crate::http::problems::problems!(CompletePhotoUploadProblems {
    404: listing_not_found | photo_not_found,
    422: upload_missing | upload_size_mismatch | upload_type_mismatch,
});

/// Check the uploaded object (exists, declared size, real JPEG/PNG/WebP) and
/// attach it to the listing. A refused object is deleted.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ("photo_id" = Uuid, Path, description = "Photo id")),
    responses(
        (status = 200, body = ListingView),
        CompletePhotoUploadProblems,
    )
)]
#[post("/listings/{id}/photos/{photo_id}/complete")]
async fn complete_photo_upload(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    path: web::Path<(ListingId, Uuid)>,
) -> ApiResult<web::Json<ListingView>> {
    let (listing_id, photo_id) = path.into_inner();
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let listing = photos::complete_upload(&mut conn, &state.storage, &user, listing_id, photo_id, now).await?;
    Ok(web::Json(pages.render_one(&mut conn, listing).await?))
}

crate::http::problems::problems!(DeletePhotoProblems {
    404: listing_not_found | photo_not_found,
    409: invalid_listing_status,
});

/// Remove a photo (while the listing is a draft or rejected).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ("photo_id" = Uuid, Path, description = "Photo id")),
    responses(
        (status = 204, description = "Removed"),
        DeletePhotoProblems,
    )
)]
#[delete("/listings/{id}/photos/{photo_id}")]
async fn delete_photo(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(ListingId, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (listing_id, photo_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    photos::delete(&mut conn, &state.storage, &user, listing_id, photo_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start_photo_upload).service(complete_photo_upload).service(delete_photo);
}
