//! What a seller does to their own listings: create a draft, edit it, submit it
//! for review and withdraw it, and the price history that edits of published
//! listings leave. Each use case runs in one transaction on the locked listing.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::access::{find_visible, lock_owned, wrong_status};
use super::input::{self, CreateListing, UpdateListing};
use super::lifecycle::{editable, next_status, Actor, Editable, ListingStatus, Transition};
use super::market::MarketChange;
use super::model::{ListingRow, PriceChange};
use super::queries::{self, ModelChange};
use super::stock;
use super::view::ListingRenderer;
use crate::accounts::AuthUser;
use crate::catalog::model::RigModelRow;
use crate::db::ids::{ListingId, RigModelId, UserId};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::conditional;
use crate::price_index::observations::{self, AskingEvent};

/// A new listing's description, normalised (country and hosting) and checked
/// against every rule that needs no database.
pub struct DraftListing(CreateListing);

impl DraftListing {
    pub fn check(mut body: CreateListing, now: DateTime<Utc>) -> ApiResult<Self> {
        body.country = body.country.trim().to_ascii_uppercase();
        body.hosting = body.hosting.map(input::normalize_hosting);
        input::validate_create(&body, now).into_result()?;
        Ok(Self(body))
    }
}

async fn load_model(conn: &mut AsyncPgConnection, id: RigModelId) -> ApiResult<RigModelRow> {
    crate::catalog::queries::model_row(conn, id)
        .await?
        .ok_or_else(|| ApiError::validation("rig_model_id", "no rig model has this id"))
}

/// Creates `draft` as a draft of `seller_id`, with its model's specs and today's
/// reference price copied onto it.
pub async fn create(
    conn: &mut AsyncPgConnection,
    seller_id: UserId,
    draft: &DraftListing,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    let DraftListing(body) = draft;
    let row = conn
        .transaction(async |conn| {
            let model = load_model(conn, body.rig_model_id).await?;
            let reference = queries::reference_for(conn, &model, now).await?;
            let row = queries::insert_draft(conn, seller_id, body, &model, reference, now).await?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    tracing::info!(listing.id = %row.id, seller.id = %seller_id, "listing created");
    Ok(row)
}

/// Edits a listing of `seller`. Drafts and rejected listings change freely; live
/// ones only their price, quantity and description. A new price of a published
/// listing goes into its price history, and into the price index while it is
/// active.
pub async fn update(
    conn: &mut AsyncPgConnection,
    seller: &AuthUser,
    id: ListingId,
    mut body: UpdateListing,
    precondition: Option<Precondition<'_>>,
    fire_sale_threshold_bps: i64,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    conn.transaction(async |conn| {
        let row = lock_owned(conn, id, seller).await?;
        if let Some(precondition) = &precondition {
            precondition.check(conn, &row).await?;
        }
        check_edit(&row, &mut body, now)?;
        let model_change = model_change(conn, &row, &body, now).await?;
        let updated = queries::apply_edit(conn, row.id, &body, model_change.as_ref(), now).await?;
        let new_price = body.unit_price_cents.filter(|price| *price != row.unit_price_cents);
        if let Some(new_price) = new_price.filter(|_| row.published_at.is_some()) {
            queries::insert_price_change(conn, row.id, row.unit_price_cents, new_price, seller.id(), now).await?;
        }
        let updated = stock::sync_sold_out(conn, updated, now).await?;
        if new_price.is_some() {
            observe_new_price(conn, &updated, fire_sale_threshold_bps, now).await?;
        }
        // A live lot got cheaper: saved searches may alert (from a job).
        if new_price.is_some_and(|price| price < row.unit_price_cents) && updated.status() == ListingStatus::Active {
            let change = MarketChange::PriceDropped { old_unit_price_cents: row.unit_price_cents };
            super::market::announce(conn, row.id, change, now).await?;
        }
        Ok(updated)
    })
    .await
}

/// A PATCH's `If-Match`, checked against the locked listing as `GET` renders
/// it (so the ETag a client read is the one compared), before anything is
/// written: no other edit can slip in between the check and the write.
pub struct Precondition<'a> {
    pub if_match: &'a str,
    pub renderer: &'a ListingRenderer,
}

impl Precondition<'_> {
    async fn check(&self, conn: &mut AsyncPgConnection, row: &ListingRow) -> ApiResult<()> {
        let current = self.renderer.render_one(conn, row.clone()).await?;
        let (_, etag) = conditional::json_with_etag(&current)?;
        conditional::check_if_match(Some(self.if_match), &etag)
    }
}

/// Whether the listing's status allows this edit, then the edit's own rules
/// (normalising `body` on the way).
fn check_edit(row: &ListingRow, body: &mut UpdateListing, now: DateTime<Utc>) -> ApiResult<()> {
    match editable(row.status()) {
        Editable::Nothing => return Err(wrong_status(row, "edited")),
        Editable::PriceQuantityDescription => {
            // A live lot sold by serial has as many units as are registered.
            if row.sold_by_serial() && body.quantity.is_some_and(|q| q != row.quantity) {
                return Err(ApiError::validation("quantity", "follows the registered units while the lot is live"));
            }
            let locked = body.locked_fields_present();
            if !locked.is_empty() {
                return Err(ApiError::Validation(
                    locked
                        .into_iter()
                        .map(|field| FieldError::new(field, "cannot change while the listing is live"))
                        .collect(),
                ));
            }
        }
        Editable::Everything => {}
    }
    input::validate_update(body, row, now).into_result()
}

/// The new model and its reference, when the edit moves the listing to another
/// model.
async fn model_change(
    conn: &mut AsyncPgConnection,
    row: &ListingRow,
    body: &UpdateListing,
    now: DateTime<Utc>,
) -> ApiResult<Option<ModelChange>> {
    match body.rig_model_id {
        Some(model_id) if model_id != row.rig_model_id => {
            let model = load_model(conn, model_id).await?;
            let reference = queries::reference_for(conn, &model, now).await?;
            Ok(Some(ModelChange { model, reference }))
        }
        _ => Ok(None),
    }
}

/// A repriced listing that is (still) active is a new asking price for the
/// price index.
async fn observe_new_price(
    conn: &mut AsyncPgConnection,
    updated: &ListingRow,
    fire_sale_threshold_bps: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if updated.status() == ListingStatus::Active {
        let lot = updated.lot_facts(now);
        let price = updated.asking_price(now);
        observations::record_asking(conn, &lot, AskingEvent::PriceChanged, price, fire_sale_threshold_bps).await?;
    }
    Ok(())
}

/// Sends a draft (or a rejected listing, after edits) to moderation.
pub async fn submit(
    conn: &mut AsyncPgConnection,
    seller: &AuthUser,
    id: ListingId,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    conn.transaction(async |conn| {
        let row = lock_owned(conn, id, seller).await?;
        let next = seller_move(&row, Transition::Submit, "submitted")?;
        super::serials::check_ready(conn, &row, false).await?;
        let updated = queries::mark_submitted(conn, row.id, next, now).await?;
        log_status_change(&row, next);
        Ok(updated)
    })
    .await
}

/// Takes a listing off the market, unless open orders hold units of it.
pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    seller: &AuthUser,
    id: ListingId,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    conn.transaction(async |conn| {
        let row = lock_owned(conn, id, seller).await?;
        let next = seller_move(&row, Transition::Withdraw, "withdrawn")?;
        if row.quantity_reserved > 0 {
            return Err(ApiError::conflict(
                "listing_has_open_orders",
                "Units of this listing are reserved by open orders; settle them before withdrawing.",
            ));
        }
        let updated = queries::set_status(conn, row.id, next, now).await?;
        log_status_change(&row, next);
        Ok(updated)
    })
    .await
}

/// Where a seller's `transition` leads from the listing's status; `verb` names
/// it in the refusal.
fn seller_move(row: &ListingRow, transition: Transition, verb: &str) -> ApiResult<ListingStatus> {
    next_status(row.status(), transition, Actor::Seller).ok_or_else(|| wrong_status(row, verb))
}

fn log_status_change(row: &ListingRow, next: ListingStatus) {
    tracing::info!(listing.id = %row.id, from = row.status().as_str(), to = next.as_str(), "listing status changed");
}

/// The price changes of a listing the viewer may see, oldest first.
pub async fn price_history(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    viewer: Option<&AuthUser>,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<PriceChange>> {
    let row = find_visible(conn, id, viewer).await?;
    Ok(queries::price_history(conn, row.id, after, limit).await?)
}
