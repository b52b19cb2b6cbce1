//! Moderation: the admin review queue (approve, reject with a reason), and flags
//! that any verified user can raise on a listing and admins resolve.

use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::catalog::discount::discount_bps;
use crate::db::schema::{listing_flags, listings};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::access::{find_visible, listing_not_found, wrong_status};
use crate::listings::lifecycle::{next_status, Actor, ListingStatus, Transition};
use crate::listings::model::{FlagView, ListingRow, ListingView};
use crate::listings::queries;
use crate::listings::ListingRenderer;
use crate::mail;
use crate::price_index::observations::{self, AskingEvent};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModerationQuery {
    /// Default `pending_review` (oldest submission first).
    #[param(inline)]
    status: Option<ListingStatus>,
}

/// Listings by status for moderators (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ModerationQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<ListingView>)),
        (status = 403, body = Problem, content_type = "application/problem+json"),
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
    let after = page.cursor::<(Option<chrono::DateTime<chrono::Utc>>, Uuid)>()?;
    let mut conn = state.pool.get().await?;
    let rows =
        queries::by_status(&mut conn, query.status.unwrap_or(ListingStatus::PendingReview), after, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| (row.submitted_at, row.id));
    Ok(web::Json(Page { items: pages.render(&mut conn, rows).await?, next_cursor }))
}

/// Applies an admin decision under the listing's lock and emails the seller in
/// the same transaction; a publication is also the listing's first asking-price
/// observation for the price index.
async fn decide(
    state: &AppState,
    admin: &AuthUser,
    id: Uuid,
    transition: Transition,
    reason: Option<String>,
) -> ApiResult<ListingRow> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| {
        let row = queries::lock(conn, id).await?.ok_or_else(listing_not_found)?;
        if row.seller_id == admin.id() {
            return Err(ApiError::forbidden("own_listing", "Admins cannot moderate their own listings."));
        }
        let next = next_status(row.status(), transition, Actor::Admin)
            .ok_or_else(|| wrong_status(&row, "moderated this way"))?;
        let updated: ListingRow = if next == ListingStatus::Active {
            // Publication freezes the discount at that moment.
            crate::listings::follow_queries::refresh_references(conn, Some(row.rig_model_id), now).await?;
            let current = queries::find(conn, row.id).await?.ok_or_else(listing_not_found)?;
            let published: ListingRow = diesel::update(listings::table.find(row.id))
                .set((
                    listings::status.eq(next.as_str()),
                    listings::published_at.eq(now),
                    listings::published_reference_unit_price_cents.eq(current.reference_unit_price_cents),
                    listings::published_discount_bps
                        .eq(discount_bps(current.unit_price_cents, current.reference_unit_price_cents)),
                    listings::rejection_reason.eq(None::<String>),
                    listings::updated_at.eq(now),
                ))
                .returning(ListingRow::as_returning())
                .get_result(conn)
                .await?;
            let threshold = state.config.fire_sale_threshold_bps;
            observations::record_asking(
                conn,
                &published.lot_facts(now),
                AskingEvent::Published,
                published.asking_price(now),
                threshold,
            )
            .await?;
            published
        } else {
            diesel::update(listings::table.find(row.id))
                .set((
                    listings::status.eq(next.as_str()),
                    listings::rejection_reason.eq(&reason),
                    listings::updated_at.eq(now),
                ))
                .returning(ListingRow::as_returning())
                .get_result(conn)
                .await?
        };
        let email = crate::accounts::email_of(conn, row.seller_id).await?;
        let template = crate::listings::emails::ListingReviewed {
            title: row.title.clone(),
            approved: next == ListingStatus::Active,
            reason,
        };
        mail::enqueue(conn, &email, &template, now).await?;
        tracing::info!(listing.id = %row.id, admin.id = %admin.id(), to = next.as_str(), "listing moderated");
        Ok(updated)
    })
    .await
}

/// Publish a listing under review (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/listings/{id}/approve")]
async fn approve(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    admin: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ListingView>> {
    admin.require_admin()?;
    let row = decide(&state, &admin, *id, Transition::Approve, None).await?;
    let mut conn = state.pool.get().await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Photos do not show the serial plates"}))]
pub struct RejectRequest {
    reason: String,
}

fn checked_reason(reason: &str) -> ApiResult<String> {
    let reason = reason.trim();
    if (1..=1000).contains(&reason.chars().count()) {
        Ok(reason.to_string())
    } else {
        Err(ApiError::validation("reason", "must be 1 to 1000 characters"))
    }
}

/// Reject a listing under review, with a reason the seller sees (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = RejectRequest,
    responses(
        (status = 200, body = ListingView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/listings/{id}/reject")]
async fn reject(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    admin: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RejectRequest>,
) -> ApiResult<web::Json<ListingView>> {
    admin.require_admin()?;
    let reason = checked_reason(&body.reason)?;
    let row = decide(&state, &admin, *id, Transition::Reject, Some(reason)).await?;
    let mut conn = state.pool.get().await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    Misleading,
    Counterfeit,
    Prohibited,
    Duplicate,
    Scam,
    Other,
}

impl FlagReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Misleading => "misleading",
            Self::Counterfeit => "counterfeit",
            Self::Prohibited => "prohibited",
            Self::Duplicate => "duplicate",
            Self::Scam => "scam",
            Self::Other => "other",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "misleading", "details": "The photos are from another seller's listing"}))]
pub struct NewFlag {
    reason: FlagReason,
    details: Option<String>,
}

/// Flag a listing for moderators (one flag per user per listing).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = NewFlag,
    responses(
        (status = 201, body = FlagView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already flagged by you", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/flags")]
async fn flag_listing(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewFlag>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let body = body.into_inner();
    if body.details.as_ref().is_some_and(|d| d.chars().count() > 2000) {
        return Err(ApiError::validation("details", "must be at most 2000 characters"));
    }
    let mut conn = state.pool.get().await?;
    let listing = find_visible(&mut conn, *id, Some(&user)).await?;
    if !listing.status().is_public() {
        return Err(listing_not_found());
    }
    if listing.seller_id == user.id() {
        return Err(ApiError::conflict("own_listing", "You cannot flag your own listing."));
    }
    let flag = diesel::insert_into(listing_flags::table)
        .values((
            listing_flags::id.eq(Uuid::now_v7()),
            listing_flags::listing_id.eq(listing.id),
            listing_flags::reporter_id.eq(user.id()),
            listing_flags::reason.eq(body.reason.as_str()),
            listing_flags::details.eq(&body.details),
            listing_flags::created_at.eq(state.clock.now()),
        ))
        .returning(FlagView::as_returning())
        .get_result(&mut conn)
        .await
        .map_err(|err| match err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict("already_flagged", "You have already flagged this listing.")
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(flag))
}

/// Open flags, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<FlagView>)))
)]
#[get("/admin/flags")]
async fn flag_queue(
    state: web::Data<AppState>,
    admin: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<FlagView>>> {
    admin.require_admin()?;
    let limit = page.limit()?;
    let before = page.cursor::<Uuid>()?;
    let mut conn = state.pool.get().await?;
    let rows = queries::open_flags(&mut conn, before, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |flag| flag.id);
    Ok(web::Json(Page { items, next_cursor }))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FlagAction {
    /// The flag is unfounded.
    Dismiss,
    /// Take the listing down (it becomes `rejected` with the note as reason).
    Unpublish,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "unpublish", "note": "Confirmed: photos copied from another listing"}))]
pub struct ResolveFlag {
    action: FlagAction,
    note: String,
}

/// Resolve a flag: dismiss it, or unpublish the listing (admin). Unpublishing
/// resolves every other open flag on that listing too.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Flag id")),
    request_body = ResolveFlag,
    responses(
        (status = 200, body = FlagView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/flags/{id}/resolve")]
async fn resolve_flag(
    state: web::Data<AppState>,
    admin: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ResolveFlag>,
) -> ApiResult<web::Json<FlagView>> {
    admin.require_admin()?;
    let body = body.into_inner();
    let note = checked_reason(&body.note).map_err(|_| ApiError::validation("note", "must be 1 to 1000 characters"))?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let flag = conn
        .transaction(async |conn| {
            let flag: FlagView = listing_flags::table
                .find(*id)
                .select(FlagView::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("flag_not_found", "No flag has this id."))?;
            if flag.status != "open" {
                return Err(ApiError::conflict("flag_resolved", "This flag is already resolved."));
            }
            let status = match body.action {
                FlagAction::Dismiss => "dismissed",
                FlagAction::Unpublish => "unpublished",
            };
            if body.action == FlagAction::Unpublish {
                let row = queries::lock(conn, flag.listing_id).await?.ok_or_else(listing_not_found)?;
                if let Some(next) = next_status(row.status(), Transition::Unpublish, Actor::Admin) {
                    if row.quantity_reserved > 0 {
                        return Err(ApiError::conflict(
                            "listing_has_open_orders",
                            "Settle the open orders before unpublishing.",
                        ));
                    }
                    diesel::update(listings::table.find(row.id))
                        .set((
                            listings::status.eq(next.as_str()),
                            listings::rejection_reason.eq(&note),
                            listings::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                    let email = crate::accounts::email_of(conn, row.seller_id).await?;
                    let template = crate::listings::emails::ListingReviewed {
                        title: row.title.clone(),
                        approved: false,
                        reason: Some(note.clone()),
                    };
                    mail::enqueue(conn, &email, &template, now).await?;
                }
                diesel::update(
                    listing_flags::table
                        .filter(listing_flags::listing_id.eq(flag.listing_id))
                        .filter(listing_flags::status.eq("open"))
                        .filter(listing_flags::id.ne(flag.id)),
                )
                .set((
                    listing_flags::status.eq(status),
                    listing_flags::resolved_by.eq(admin.id()),
                    listing_flags::resolved_at.eq(now),
                    listing_flags::resolution_note.eq(&note),
                ))
                .execute(conn)
                .await?;
            }
            let flag = diesel::update(listing_flags::table.find(flag.id))
                .set((
                    listing_flags::status.eq(status),
                    listing_flags::resolved_by.eq(admin.id()),
                    listing_flags::resolved_at.eq(now),
                    listing_flags::resolution_note.eq(&note),
                ))
                .returning(FlagView::as_returning())
                .get_result(conn)
                .await?;
            Ok::<_, ApiError>(flag)
        })
        .await?;
    Ok(web::Json(flag))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(moderation_queue)
        .service(approve)
        .service(reject)
        .service(flag_listing)
        .service(flag_queue)
        .service(resolve_flag);
}
