//! Creating, reading, editing, submitting and withdrawing listings.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use crate::accounts::AuthUser;
use crate::accounts::ReplicaReads;
use crate::db::ids::ListingId;
use crate::error::ApiResult;
use crate::http::conditional::{self, PRIVATE_REVALIDATE, PUBLIC_REVALIDATE};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::access::find_visible;
use crate::listings::editing::{self, DraftListing, Precondition};
use crate::listings::input::{CreateListing, UpdateListing};
use crate::listings::model::{ListingView, PriceChange};
use crate::listings::queries;
use crate::listings::ListingRenderer;
use crate::state::AppState;

crate::http::problems::problems!(CreateListingProblems { 403: email_not_verified, 422: validation_failed });

/// Create a listing (a lot of one rig model) as a draft.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    request_body = CreateListing,
    responses(
        (status = 201, body = ListingView),
        CreateListingProblems,
    )
)]
#[post("/listings")]
async fn create_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    body: web::Json<CreateListing>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let now = state.clock.now();
    let draft = DraftListing::check(body.into_inner(), now)?;
    let mut conn = state.pool.get().await?;
    let row = editing::create(&mut conn, user.id(), &draft, now).await?;
    Ok(HttpResponse::Created().json(pages.render_one(&mut conn, row).await?))
}

crate::http::problems::problems!(GetListingProblems { 404: listing_not_found });

/// One listing. Drafts and listings under review are visible only to their
/// seller and admins.
#[utoipa::path(
    tag = "listings",
    params(("id" = Uuid, Path, description = "Listing id"), ("If-None-Match" = Option<String>, Header, description = "ETags of copies the client holds; 304 when one is current")),
    responses(
        (status = 200, body = ListingView, headers(("ETag" = String, description = "Pass as If-Match to PATCH"), ("Cache-Control" = String))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag", headers(("ETag" = String))),
        GetListingProblems,
    )
)]
#[get("/listings/{id}")]
async fn get_listing(
    reads: ReplicaReads,
    pages: web::Data<ListingRenderer>,
    req: HttpRequest,
    viewer: Option<AuthUser>,
    id: web::Path<ListingId>,
) -> ApiResult<HttpResponse> {
    let mut conn = reads.conn().await?;
    let row = find_visible(&mut conn, *id, viewer.as_ref()).await?;
    let view = pages.render_one(&mut conn, row).await?;
    // Anonymous callers only see public listings; drafts and listings under
    // review reach their seller and admins alone.
    let cache_control = if viewer.is_some() { PRIVATE_REVALIDATE } else { PUBLIC_REVALIDATE };
    conditional::respond_json(&req, &view, cache_control)
}

crate::http::problems::problems!(UpdateListingProblems {
    403: not_listing_owner,
    404: listing_not_found,
    409: invalid_listing_status,
    412: precondition_failed,
    422: validation_failed,
});

/// Edit a listing. Drafts and rejected listings change freely; live listings only
/// their price (recorded in the price history, and in the price index while the
/// listing is active), quantity and description.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Listing id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the listing as last read; 412 if it changed since"),
    ),
    request_body = UpdateListing,
    responses(
        (status = 200, body = ListingView, headers(("ETag" = String))),
        UpdateListingProblems,
    )
)]
#[patch("/listings/{id}")]
async fn update_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<UpdateListing>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let threshold = state.config.fire_sale_threshold_bps;
    let if_match = conditional::if_match(&req);
    let precondition = if_match.as_deref().map(|if_match| Precondition { if_match, renderer: &pages });
    let mut conn = state.pool.get().await?;
    let row = editing::update(&mut conn, &user, *id, body.into_inner(), precondition, threshold, now).await?;
    let view = pages.render_one(&mut conn, row).await?;
    let (body, etag) = conditional::json_with_etag(&view)?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).content_type(conditional::JSON).body(body))
}

crate::http::problems::problems!(SubmitListingProblems {
    403: email_not_verified,
    404: listing_not_found,
    409: invalid_listing_status | units_incomplete | serial_reported_stolen,
});

/// Send a draft (or a rejected listing, after edits) to moderation.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        SubmitListingProblems,
    )
)]
#[post("/listings/{id}/submit")]
async fn submit_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    id: web::Path<ListingId>,
) -> ApiResult<web::Json<ListingView>> {
    user.require_verified()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = editing::submit(&mut conn, &user, *id, now).await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

crate::http::problems::problems!(WithdrawListingProblems {
    403: not_listing_owner,
    404: listing_not_found,
    409: invalid_listing_status | listing_has_open_orders,
});

/// Take a listing off the market.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        WithdrawListingProblems,
    )
)]
#[post("/listings/{id}/withdraw")]
async fn withdraw_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    id: web::Path<ListingId>,
) -> ApiResult<web::Json<ListingView>> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = editing::withdraw(&mut conn, &user, *id, now).await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

/// The caller's own listings, in every status, newest first.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = inline(Page<ListingView>)),
    )
)]
#[get("/me/listings")]
async fn my_listings(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ListingView>>> {
    let limit = page.limit()?;
    let before = page.cursor::<ListingId>()?;
    let mut conn = state.pool.get().await?;
    let rows = queries::of_seller(&mut conn, user.id(), before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.id);
    Ok(web::Json(Page { items: pages.render(&mut conn, rows).await?, next_cursor }))
}

crate::http::problems::problems!(PriceHistoryProblems { 404: listing_not_found });

/// Price changes of a published listing, oldest first.
#[utoipa::path(
    tag = "listings",
    params(("id" = Uuid, Path, description = "Listing id"), PageParams),
    responses(
        (status = 200, body = inline(Page<PriceChange>)),
        PriceHistoryProblems,
    )
)]
#[get("/listings/{id}/price-history")]
async fn price_history(
    reads: ReplicaReads,
    viewer: Option<AuthUser>,
    id: web::Path<ListingId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<PriceChange>>> {
    let limit = page.limit()?;
    let after = page.cursor::<i64>()?;
    let mut conn = reads.conn().await?;
    let rows = editing::price_history(&mut conn, *id, viewer.as_ref(), after, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |change| change.id);
    Ok(web::Json(Page { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_listing)
        .service(get_listing)
        .service(update_listing)
        .service(submit_listing)
        .service(withdraw_listing)
        .service(my_listings)
        .service(price_history);
}
