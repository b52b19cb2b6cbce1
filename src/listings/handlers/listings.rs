//! Creating, reading, editing, submitting and withdrawing listings.

use actix_web::{get, patch, post, web, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::catalog::model::RigModelRow;
use crate::db::schema::{listing_price_changes, listings};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::access::{find_visible, lock_owned, wrong_status};
use crate::listings::input::{self, CreateListing, UpdateListing};
use crate::listings::lifecycle::{editable, next_status, Actor, Editable, ListingStatus, Transition};
use crate::listings::model::{ListingRow, ListingView, PriceChange};
use crate::listings::queries;
use crate::listings::ListingRenderer;
use crate::price_index::observations::{self, AskingEvent};
use crate::state::AppState;

async fn load_model(conn: &mut diesel_async::AsyncPgConnection, id: Uuid) -> ApiResult<RigModelRow> {
    crate::catalog::queries::model_row(conn, id)
        .await?
        .ok_or_else(|| ApiError::validation("rig_model_id", "no rig model has this id"))
}

/// Create a listing (a lot of one rig model) as a draft.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    request_body = CreateListing,
    responses(
        (status = 201, body = ListingView),
        (status = 403, description = "Email not verified or account suspended", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
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
    let mut body = body.into_inner();
    let now = state.clock.now();
    body.country = body.country.trim().to_ascii_uppercase();
    body.hosting = body.hosting.map(input::normalize_hosting);
    input::validate_create(&body, now).into_result()?;
    let mut conn = state.pool.get().await?;
    let model = load_model(&mut conn, body.rig_model_id).await?;
    let reference = queries::reference_for(&mut conn, &model, now).await?;
    let (facility, hosting_country, contract_ends_on, power_off_at) = input::hosting_columns(body.hosting.as_ref());
    let row: ListingRow = diesel::insert_into(listings::table)
        .values((
            listings::id.eq(Uuid::now_v7()),
            listings::seller_id.eq(user.id()),
            listings::rig_model_id.eq(model.id),
            listings::manufacturer_id.eq(model.manufacturer_id),
            listings::title.eq(body.title.trim()),
            listings::description.eq(&body.description),
            listings::status.eq(ListingStatus::Draft.as_str()),
            listings::quantity.eq(body.quantity),
            listings::unit_price_cents.eq(body.unit_price_cents),
            listings::country.eq(&body.country),
            listings::region.eq(body.region.as_deref().map(str::trim)),
            listings::incoterm.eq(body.incoterm.map(|i| i.as_str())),
            listings::lead_time_days.eq(body.lead_time_days),
            listings::inspection_days.eq(body.inspection_days.unwrap_or(3)),
            listings::serial_numbers.eq(&body.serial_numbers),
            listings::hosting_facility.eq(facility),
            listings::hosting_country.eq(hosting_country),
            listings::hosting_contract_ends_on.eq(contract_ends_on),
            listings::power_off_at.eq(power_off_at),
            listings::model_hashrate_hs.eq(model.hashrate_hs),
            listings::model_efficiency_j_per_th.eq(model.efficiency_j_per_th),
            listings::model_tier.eq(&model.tier),
            listings::reference_unit_price_cents.eq(reference),
            listings::created_at.eq(now),
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(&mut conn)
        .await?;
    tracing::info!(listing.id = %row.id, seller.id = %user.id(), "listing created");
    Ok(HttpResponse::Created().json(pages.render_one(&mut conn, row).await?))
}

/// One listing. Drafts and listings under review are visible only to their
/// seller and admins.
#[utoipa::path(
    tag = "listings",
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}")]
async fn get_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    viewer: Option<AuthUser>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ListingView>> {
    let mut conn = state.pool.get().await?;
    let row = find_visible(&mut conn, *id, viewer.as_ref()).await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

/// Edit a listing. Drafts and rejected listings change freely; live listings only
/// their price (recorded in the price history, and in the price index while the
/// listing is active), quantity and description.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = UpdateListing,
    responses(
        (status = 200, body = ListingView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/listings/{id}")]
async fn update_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateListing>,
) -> ApiResult<web::Json<ListingView>> {
    let mut body = body.into_inner();
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let row = lock_owned(conn, *id, &user).await?;
            match editable(row.status()) {
                Editable::Nothing => return Err(wrong_status(&row, "edited")),
                Editable::PriceQuantityDescription => {
                    let locked = body.locked_fields_present();
                    if !locked.is_empty() {
                        return Err(ApiError::Validation(
                            locked
                                .into_iter()
                                .map(|f| crate::error::FieldError::new(f, "cannot change while the listing is live"))
                                .collect(),
                        ));
                    }
                }
                Editable::Everything => {}
            }
            input::validate_update(&mut body, &row, now).into_result()?;

            let model = match body.rig_model_id {
                Some(model_id) if model_id != row.rig_model_id => Some(load_model(conn, model_id).await?),
                _ => None,
            };
            let reference = match &model {
                Some(model) => Some(queries::reference_for(conn, model, now).await?),
                None => None,
            };
            let hosting = body.hosting.as_ref().map(|h| input::hosting_columns(h.as_ref()));
            let updated: ListingRow = diesel::update(listings::table.find(row.id))
                .set((
                    model.as_ref().map(|m| {
                        (
                            listings::rig_model_id.eq(m.id),
                            listings::manufacturer_id.eq(m.manufacturer_id),
                            listings::model_hashrate_hs.eq(m.hashrate_hs),
                            listings::model_efficiency_j_per_th.eq(m.efficiency_j_per_th),
                            listings::model_tier.eq(m.tier.clone()),
                        )
                    }),
                    reference.map(|r| listings::reference_unit_price_cents.eq(r)),
                    body.title.as_deref().map(|t| listings::title.eq(t.trim().to_string())),
                    body.description.clone().map(|d| listings::description.eq(d)),
                    body.quantity.map(|q| listings::quantity.eq(q)),
                    body.unit_price_cents.map(|p| listings::unit_price_cents.eq(p)),
                    body.country.clone().map(|c| listings::country.eq(c)),
                    body.region.clone().map(|r| listings::region.eq(r.map(|r| r.trim().to_string()))),
                    body.incoterm.map(|i| listings::incoterm.eq(i.map(|i| i.as_str()))),
                    body.lead_time_days.map(|d| listings::lead_time_days.eq(d)),
                    body.inspection_days.map(|d| listings::inspection_days.eq(d)),
                    body.serial_numbers.clone().map(|s| listings::serial_numbers.eq(s)),
                    hosting.clone().map(|(facility, country, ends, off)| {
                        (
                            listings::hosting_facility.eq(facility),
                            listings::hosting_country.eq(country),
                            listings::hosting_contract_ends_on.eq(ends),
                            listings::power_off_at.eq(off),
                        )
                    }),
                    listings::updated_at.eq(now),
                ))
                .returning(ListingRow::as_returning())
                .get_result(conn)
                .await?;
            if let Some(new_price) = body.unit_price_cents.filter(|p| *p != row.unit_price_cents) {
                if row.published_at.is_some() {
                    diesel::insert_into(listing_price_changes::table)
                        .values((
                            listing_price_changes::listing_id.eq(row.id),
                            listing_price_changes::old_price_cents.eq(row.unit_price_cents),
                            listing_price_changes::new_price_cents.eq(new_price),
                            listing_price_changes::changed_by.eq(user.id()),
                            listing_price_changes::changed_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
            let updated = crate::listings::stock::sync_sold_out(conn, updated, now).await?;
            let repriced = body.unit_price_cents.is_some_and(|p| p != row.unit_price_cents);
            if repriced && updated.status() == ListingStatus::Active {
                let threshold = state.config.fire_sale_threshold_bps;
                observations::record_asking(
                    conn,
                    &updated.lot_facts(now),
                    AskingEvent::PriceChanged,
                    updated.asking_price(now),
                    threshold,
                )
                .await?;
            }
            Ok::<_, ApiError>(updated)
        })
        .await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

/// Applies a seller's transition under the listing's lock and answers the
/// updated listing.
async fn seller_transition(
    state: &AppState,
    pages: &ListingRenderer,
    user: &AuthUser,
    id: Uuid,
    transition: Transition,
    verb: &str,
) -> ApiResult<web::Json<ListingView>> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
        let row = lock_owned(conn, id, user).await?;
        let next = next_status(row.status(), transition, Actor::Seller).ok_or_else(|| wrong_status(&row, verb))?;
        if transition == Transition::Withdraw && row.quantity_reserved > 0 {
            return Err(ApiError::conflict(
                "listing_has_open_orders",
                "Units of this listing are reserved by open orders; settle them before withdrawing.",
            ));
        }
        let updated: ListingRow = diesel::update(listings::table.find(row.id))
            .set((
                listings::status.eq(next.as_str()),
                listings::updated_at.eq(now),
                (transition == Transition::Submit).then_some(listings::submitted_at.eq(now)),
            ))
            .returning(ListingRow::as_returning())
            .get_result(conn)
            .await?;
        tracing::info!(listing.id = %row.id, from = row.status().as_str(), to = next.as_str(), "listing status changed");
        Ok::<_, ApiError>(updated)
    })
    .await?;
    Ok(web::Json(pages.render_one(&mut conn, row).await?))
}

/// Send a draft (or a rejected listing, after edits) to moderation.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/submit")]
async fn submit_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ListingView>> {
    user.require_verified()?;
    seller_transition(&state, &pages, &user, *id, Transition::Submit, "submitted").await
}

/// Take a listing off the market.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = ListingView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/withdraw")]
async fn withdraw_listing(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ListingView>> {
    seller_transition(&state, &pages, &user, *id, Transition::Withdraw, "withdrawn").await
}

/// The caller's own listings, in every status, newest first.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<ListingView>)))
)]
#[get("/me/listings")]
async fn my_listings(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    user: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ListingView>>> {
    let limit = page.limit()?;
    let before = page.cursor::<Uuid>()?;
    let mut conn = state.pool.get().await?;
    let rows = queries::of_seller(&mut conn, user.id(), before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.id);
    Ok(web::Json(Page { items: pages.render(&mut conn, rows).await?, next_cursor }))
}

/// Price changes of a published listing, oldest first.
#[utoipa::path(
    tag = "listings",
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = Vec<PriceChange>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}/price-history")]
async fn price_history(
    state: web::Data<AppState>,
    viewer: Option<AuthUser>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<PriceChange>>> {
    let mut conn = state.pool.get().await?;
    let row = find_visible(&mut conn, *id, viewer.as_ref()).await?;
    Ok(web::Json(queries::price_history(&mut conn, row.id).await?))
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
