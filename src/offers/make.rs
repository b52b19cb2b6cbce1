//! Making an offer, and what a buyer's price meets on arrival (the first offer
//! or a buyer's counter): below the listing's floor it is declined at once with
//! the floor shown; at or above the auto-accept price it is accepted at once and
//! the order placed. One transaction: the Idempotency-Key, the listing's row
//! lock (so offers and acceptances on a listing queue, and the quotas below
//! cannot be raced), the thread, its first version, and its outcome.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{MakeOffer, ThreadRow};
use super::notify::OfferChange;
use super::state::{Party, ThreadStatus};
use super::terms::{self, Arrival};
use super::{flow, queries};
use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::ApiError;
use crate::idempotency::{self, KeyUse, Replay};
use crate::listings::lifecycle::ListingStatus;
use crate::listings::model::ListingRow;
use crate::orders::notify::money;
use crate::orders::OrderContext;

pub const ROUTE: &str = "POST /v1/listings/{id}/offers";
/// At most this many threads per buyer per listing in [`QUOTA_WINDOW`].
pub const THREADS_PER_WINDOW: i64 = 5;
pub const QUOTA_WINDOW: Duration = Duration::days(30);

pub enum Made {
    New(Box<ThreadRow>),
    Replayed(Replay),
}

pub async fn make(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    buyer: &AuthUser,
    listing_id: ListingId,
    key: KeyUse<'_>,
    body: &MakeOffer,
    now: DateTime<Utc>,
) -> Result<Made, ApiError> {
    conn.transaction(async |conn| {
        if let Some(replay) = idempotency::claim(conn, key).await? {
            return Ok(Made::Replayed(replay));
        }
        let listing = open_listing(conn, buyer, listing_id).await?;
        flow::check_quantity(&listing, body.terms.quantity)?;
        if queries::open_thread_of(conn, listing.id, buyer.id()).await?.is_some() {
            return Err(ApiError::conflict(
                "offer_already_open",
                "You have an open offer on this listing; counter or withdraw it instead.",
            ));
        }
        if queries::count_started_since(conn, listing.id, buyer.id(), now - QUOTA_WINDOW).await? >= THREADS_PER_WINDOW {
            return Err(ApiError::LimitReached {
                code: "offer_limit",
                detail: format!("At most {THREADS_PER_WINDOW} offers per listing in 30 days."),
            });
        }
        let thread = queries::insert_thread(conn, &new_thread(&listing, buyer, body, now)?).await?;
        let allowance = listing.doa_allowance_pct;
        let thread = flow::add_version(conn, &thread, 1, Party::Buyer, &body.terms, allowance, now).await?;
        let thread = on_buyer_price(ctx, conn, &listing, thread, now).await?;
        let view = super::view::render_one(conn, thread.clone()).await?;
        let json = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
        idempotency::store(conn, key, 201, &json, thread.order_id, now).await?;
        Ok(Made::New(Box::new(thread)))
    })
    .await
}

/// The listing, locked, if this buyer may make offers on it now.
async fn open_listing(
    conn: &mut AsyncPgConnection,
    buyer: &AuthUser,
    listing_id: ListingId,
) -> Result<ListingRow, ApiError> {
    let listing =
        crate::listings::queries::lock(conn, listing_id).await?.ok_or_else(crate::listings::listing_not_found)?;
    let own = listing.seller_id == buyer.id();
    if (!own && !listing.status().is_public()) || crate::accounts::is_suspended(conn, listing.seller_id).await? {
        return Err(crate::listings::listing_not_found());
    }
    if own {
        return Err(ApiError::forbidden("own_listing", "You cannot make an offer on your own listing."));
    }
    match listing.status() {
        ListingStatus::Active => {}
        ListingStatus::SoldOut => {
            return Err(ApiError::conflict("insufficient_quantity", "This listing is sold out."));
        }
        _ => {
            return Err(ApiError::conflict("listing_not_buyable", "This listing is not on sale."));
        }
    }
    if !listing.offers_enabled {
        return Err(ApiError::conflict("offers_disabled", "The seller does not take offers on this listing."));
    }
    Ok(listing)
}

fn new_thread(
    listing: &ListingRow,
    buyer: &AuthUser,
    body: &MakeOffer,
    now: DateTime<Utc>,
) -> anyhow::Result<ThreadRow> {
    Ok(ThreadRow {
        id: Uuid::now_v7(),
        listing_id: listing.id,
        buyer_id: buyer.id(),
        seller_id: listing.seller_id,
        status: ThreadStatus::Open,
        payment_method: body.payment_method,
        shipping_address: serde_json::to_value(&body.shipping_address)?,
        // `add_version` sets the latest version's columns right after.
        latest_n: 1,
        latest_by: Party::Buyer,
        quantity: body.terms.quantity,
        unit_price_cents: body.terms.unit_price_cents,
        expires_at: now + body.terms.expiry(),
        close_reason: None,
        close_note: None,
        order_id: None,
        created_at: now,
        updated_at: now,
        closed_at: None,
    })
}

/// Applies the listing's floor and auto-accept price to the buyer's latest
/// version (`listing` locked by the caller).
pub async fn on_buyer_price(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    listing: &ListingRow,
    thread: ThreadRow,
    now: DateTime<Utc>,
) -> Result<ThreadRow, ApiError> {
    let settings = listing.offer_settings();
    let median = match settings.floor_discount_pct {
        Some(_) => crate::price_index::current::tier_median_usd_per_th_cents(conn, &listing.model_tier, now).await?,
        None => None,
    };
    let floor = terms::floor_unit_price_cents(&settings, median, listing.model_hashrate_hs);
    match terms::on_arrival(thread.unit_price_cents, floor, settings.auto_accept_unit_price_cents) {
        Arrival::Open => Ok(thread),
        Arrival::BelowFloor { floor } => {
            let basis = match settings.floor_discount_pct {
                Some(pct) => format!(" ({pct} % under the price index's {} tier median)", listing.model_tier),
                None => String::new(),
            };
            let note = format!("The seller declines offers below {} per unit{basis}.", money(floor));
            flow::close(conn, &thread, OfferChange::BelowFloor, None, Some(note), now).await
        }
        Arrival::AutoAccept => {
            // In a savepoint: if the order cannot be placed (the rigs are powered
            // off too soon ...), the offer stays open for the seller to answer.
            let attempt =
                conn.transaction(async |conn| flow::accept(ctx, conn, &thread, Party::Seller, true, now).await).await;
            match attempt {
                Ok(accepted) => Ok(accepted),
                Err(ApiError::Conflict { code, .. }) => {
                    tracing::info!(offer.id = %thread.id, code, "auto-accept refused; the offer stays open");
                    Ok(thread)
                }
                Err(err) => Err(err),
            }
        }
    }
}
