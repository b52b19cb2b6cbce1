//! Recording price observations. The listings and orders call these inside
//! the transaction of the event they record (publication, price change, settled
//! order), so an observation exists exactly when its event committed; the
//! database trigger on `price_observations` marks its buckets stale in that same
//! transaction (one insert: no writer waits for another), and the bucket view
//! counts it from then on. The index knows nothing of listings: the caller describes
//! the lot ([`LotFacts`]).
//!
//! Each event is one observation (the index is weighted per event, not per unit);
//! `units` keeps the lot size or order quantity for whoever wants to weigh by it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::stats::cents_per_th;
use crate::catalog::discount::{discount_bps, is_fire_sale};
use crate::db::ids::{ListingId, OrderId, RigModelId};
use crate::db::schema::price_observations;

/// What the index records of a lot at the moment of an observation.
#[derive(Debug, Clone)]
pub struct LotFacts {
    pub listing_id: ListingId,
    pub rig_model_id: RigModelId,
    /// The efficiency tier key of the model.
    pub tier: String,
    pub country: String,
    /// Nominal H/s per unit.
    pub hashrate_hs: i64,
    /// Measured H/s per unit, while a verified proof is valid at the observation.
    pub verified_unit_hashrate_hs: Option<i64>,
}

/// A price observed for a lot: per unit, for how many units, against which
/// reference, when.
#[derive(Debug, Clone, Copy)]
pub struct Price {
    pub units: i32,
    pub unit_price_cents: i64,
    pub reference_unit_price_cents: Option<i64>,
    pub at: DateTime<Utc>,
}

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
    pub order_id: OrderId,
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
    listing_id: ListingId,
    order_id: Option<OrderId>,
    rig_model_id: RigModelId,
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

/// Inserts one observation of `lot`; false when this order was already recorded.
async fn insert(
    conn: &mut AsyncPgConnection,
    lot: &LotFacts,
    event: &str,
    order_id: Option<OrderId>,
    price: Price,
    fire_sale_threshold_bps: i64,
) -> QueryResult<bool> {
    let Price { units, unit_price_cents, reference_unit_price_cents, at } = price;
    let verified = lot.verified_unit_hashrate_hs;
    let discount = discount_bps(unit_price_cents, reference_unit_price_cents);
    let row = NewObservation {
        basis: if order_id.is_some() { "settled" } else { "asking" },
        event,
        listing_id: lot.listing_id,
        order_id,
        rig_model_id: lot.rig_model_id,
        tier: &lot.tier,
        country: &lot.country,
        units: units.max(1),
        unit_price_cents,
        hashrate_hs: lot.hashrate_hs,
        usd_per_th_cents: cents_per_th(unit_price_cents, lot.hashrate_hs),
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

/// Records a live lot's asking price (call it after the listing row was
/// updated, in the same transaction). Discount and fire-sale flag are against
/// the reference the lot carries at that moment.
pub async fn record_asking(
    conn: &mut AsyncPgConnection,
    lot: &LotFacts,
    event: AskingEvent,
    price: Price,
    fire_sale_threshold_bps: i64,
) -> QueryResult<()> {
    insert(conn, lot, event.as_str(), None, price, fire_sale_threshold_bps).await?;
    Ok(())
}

/// Records a settled order at the price the seller actually got. Recording the
/// same order twice keeps the first observation; a sale that paid the seller
/// nothing (a full refund) is no price and is not recorded.
pub async fn record_settled(
    conn: &mut AsyncPgConnection,
    lot: &LotFacts,
    sale: &SettledSale,
    fire_sale_threshold_bps: i64,
) -> QueryResult<()> {
    if sale.settled_unit_price_cents <= 0 || sale.quantity <= 0 {
        return Ok(());
    }
    let price = Price {
        units: sale.quantity,
        unit_price_cents: sale.settled_unit_price_cents,
        reference_unit_price_cents: sale.reference_unit_price_cents,
        at: sale.at,
    };
    let recorded = insert(conn, lot, "order_settled", Some(sale.order_id), price, fire_sale_threshold_bps).await?;
    if !recorded {
        tracing::debug!(order.id = %sale.order_id, "settled price already recorded");
    }
    Ok(())
}
