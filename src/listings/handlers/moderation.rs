//! Moderation: the admin review queue; approving and rejecting listings.

use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::ApiResult;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::lifecycle::ListingStatus;
use crate::listings::model::ListingView;
use crate::listings::{moderation, queries, ListingRenderer};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModerationQuery {
    /// Default `pending_review` (oldest submission first).
    #[param(inline)]
    status: Option<ListingStatus>,
}

crate::http::problems::problems!(ModerationQueueProblems { 403: admin_required });

/// Listings by status for moderators (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ModerationQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<ListingView>)),
        ModerationQueueProblems,
    )
)]
#[get("/admin/listings")]
async fn moderation_queue(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    admin: AuthUser,
    query: web::Query<ModerationQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ListingView>>> {
    admin.require_admin()?;
    let limit = page.limit()?;
    let after = page.cursor::<(Option<chrono::DateTime<chrono::Utc>>, ListingId)>()?;
    let mut conn = state.pool.get().await?;
    let rows =
        queries::by_status(&mut conn, query.status.unwrap_or(ListingStatus::PendingReview), after, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| (row.submitted_at, row.id));
    Ok(web::Json(Page { items: pages.render(&mut conn, rows).await?, next_cursor }))
}

crate::http::problems::problems!(ApproveProblems {
    403: admin_required | own_listing,
    409: invalid_listing_status | units_incomplete | serial_reported_stolen | serial_under_review,
});

/// Publish a listing under review (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        ApproveProblems,
    )
)]
#[post("/admin/listings/{id}/approve")]
async fn approve(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    admin: AuthUser,
    id: web::Path<ListingId>,
) -> ApiResult<web::Json<ListingView>> {
    admin.require_admin()?;
    let now = state.clock.now();
    let threshold = state.config.fire_sale_threshold_bps;
    let mut conn = state.pool.get().await?;
    let row = moderation::approve(&mut conn, admin.id(), *id, threshold, now).await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Photos do not show the serial plates"}))]
pub struct RejectRequest {
    reason: String,
}

crate::http::problems::problems!(RejectProblems {
    403: admin_required | own_listing,
    409: invalid_listing_status,
    422: validation_failed,
});

/// Reject a listing under review, with a reason the seller sees (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = RejectRequest,
    responses(
        (status = 200, body = ListingView),
        RejectProblems,
    )
)]
#[post("/admin/listings/{id}/reject")]
async fn reject(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    admin: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<RejectRequest>,
) -> ApiResult<web::Json<ListingView>> {
    admin.require_admin()?;
    let reason = moderation::checked_note("reason", &body.reason)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = moderation::reject(&mut conn, admin.id(), *id, reason, now).await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(moderation_queue).service(approve).service(reject);
}
