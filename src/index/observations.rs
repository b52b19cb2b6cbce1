//! Recording price observations. The listings and orders code call these inside
//! the transaction of the event they record (publication, price change, settled
//! order), so an observation exists exactly when its event committed; the
//! database trigger on `price_observations` updates the index buckets in that
//! same transaction.
//!
//! Each event is one observation (the index is weighted per event, not per unit);
//! `units` keeps the lot size or order quantity for whoever wants to weigh by it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::stats::cents_per_th;
use crate::db::schema::{hashrate_proofs, price_observations};
use crate::listings::discount::{discount_bps, is_fire_sale};
use crate::listings::model::ListingRow;

/// What happened to a live listing's asking price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskingEvent {
    /// An admin approved it: it is on the market at its price.
    Published,
    /// The seller changed the price of a live listing.
    PriceChanged,
}

impl AskingEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::PriceChanged => "price_changed",
        }
    }
}

/// An order whose money went (at least partly) to the seller.
#[derive(Debug, Clone)]
pub struct SettledSale {
    pub order_id: Uuid,
    pub listing_id: Uuid,
    pub quantity: i32,
    /// What the seller actually got per unit, before the platform fee (subtotal
    /// minus any refund, divided by quantity).
    pub settled_unit_price_cents: i64,
    /// The reference unit price snapshotted on the order (None when the model had none).
    pub reference_unit_price_cents: Option<i64>,
    pub at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = price_observations)]
struct NewObservation<'a> {
    basis: &'a str,
    event: &'a str,
    listing_id: Uuid,
    order_id: Option<Uuid>,
    rig_model_id: Uuid,
    tier: &'a str,
    country: &'a str,
    units: i32,
    unit_price_cents: i64,
    hashrate_hs: i64,
    usd_per_th_cents: i64,
    verified_hashrate_hs: Option<i64>,
    usd_per_verified_th_cents: Option<i64>,
    reference_unit_price_cents: Option<i64>,
    discount_bps: Option<i64>,
    fire_sale: bool,
    observed_at: DateTime<Utc>,
}

/// The measured hashrate per unit of the listing's latest verified proof, while
/// that proof is valid at `at`.
async fn verified_hashrate_per_unit(
    conn: &mut AsyncPgConnection,
    listing: &ListingRow,
    at: DateTime<Utc>,
) -> QueryResult<Option<i64>> {
    if listing.hashrate_verified_until.is_none_or(|until| until <= at) {
        return Ok(None);
    }
    let proof: Option<(Option<f64>, i32)> = hashrate_proofs::table
        .filter(hashrate_proofs::listing_id.eq(listing.id))
        .filter(hashrate_proofs::purpose.eq("listing"))
        .filter(hashrate_proofs::status.eq("verified"))
        .filter(hashrate_proofs::valid_until.gt(at))
        .order(hashrate_proofs::ended_at.desc())
        .select((hashrate_proofs::estimated_hashrate_hs, hashrate_proofs::units))
        .first(conn)
        .await
        .optional()?;
    Ok(proof
        .and_then(|(estimate, units)| estimate.map(|hs| hs / f64::from(units.max(1))))
        .filter(|hs| hs.is_finite() && *hs >= 1.0)
        .map(|hs| hs.round() as i64))
}

/// Inserts one observation of `listing` at `unit_price_cents`; false when this
/// order was already recorded.
#[allow(clippy::too_many_arguments)]
async fn insert(
    conn: &mut AsyncPgConnection,
    listing: &ListingRow,
    event: &str,
    order_id: Option<Uuid>,
    units: i32,
    unit_price_cents: i64,
    reference_unit_price_cents: Option<i64>,
    at: DateTime<Utc>,
    fire_sale_threshold_bps: i64,
) -> QueryResult<bool> {
    let verified = verified_hashrate_per_unit(conn, listing, at).await?;
    let discount = discount_bps(unit_price_cents, reference_unit_price_cents);
    let row = NewObservation {
        basis: if order_id.is_some() { "settled" } else { "asking" },
        event,
        listing_id: listing.id,
        order_id,
        rig_model_id: listing.rig_model_id,
        tier: &listing.model_tier,
        country: &listing.country,
        units: units.max(1),
        unit_price_cents,
        hashrate_hs: listing.model_hashrate_hs,
        usd_per_th_cents: cents_per_th(unit_price_cents, listing.model_hashrate_hs),
        verified_hashrate_hs: verified,
        usd_per_verified_th_cents: verified.map(|hs| cents_per_th(unit_price_cents, hs)),
        reference_unit_price_cents,
        discount_bps: discount,
        fire_sale: is_fire_sale(discount, fire_sale_threshold_bps),
        observed_at: at,
    };
    let inserted = diesel::insert_into(price_observations::table)
        .values(&row)
        .on_conflict(price_observations::order_id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Records a live listing's asking price (call it after the listing row was
/// updated, in the same transaction). Discount and fire-sale flag are against the
/// reference stored on the listing at that moment.
pub async fn record_asking(
    conn: &mut AsyncPgConnection,
    listing: &ListingRow,
    event: AskingEvent,
    at: DateTime<Utc>,
    fire_sale_threshold_bps: i64,
) -> QueryResult<()> {
    insert(
        conn,
        listing,
        event.as_str(),
        None,
        listing.quantity,
        listing.unit_price_cents,
        listing.reference_unit_price_cents,
        at,
        fire_sale_threshold_bps,
    )
    .await?;
    Ok(())
}

/// Records a settled order at the price the seller actually got. Reads the
/// listing (model, tier, country, hashrate, verified proof) itself. Recording the
/// same order twice keeps the first observation; a sale that paid the seller
/// nothing (a full refund) is no price and is not recorded.
pub async fn record_settled(
    conn: &mut AsyncPgConnection,
    sale: &SettledSale,
    fire_sale_threshold_bps: i64,
) -> QueryResult<()> {
    if sale.settled_unit_price_cents <= 0 || sale.quantity <= 0 {
        return Ok(());
    }
    let listing = crate::listings::queries::find(conn, sale.listing_id).await?.ok_or(diesel::NotFound)?;
    let recorded = insert(
        conn,
        &listing,
        "order_settled",
        Some(sale.order_id),
        sale.quantity,
        sale.settled_unit_price_cents,
        sale.reference_unit_price_cents,
        sale.at,
        fire_sale_threshold_bps,
    )
    .await?;
    if !recorded {
        tracing::debug!(order.id = %sale.order_id, "settled price already recorded");
    }
    Ok(())
}
