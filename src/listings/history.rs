//! Lots written at historic timestamps: the demo market (or an import of past
//! trades) publishes, reprices and closes lots as they happened, with the price
//! history and price-index observations the live endpoints record. Each runs in
//! the caller's transaction.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::follow_queries::{record_hashrate_verification, HashrateVerification};
use super::input::HostingColumns;
use super::lifecycle::ListingStatus;
use super::model::ListingRow;
use super::queries;
use crate::catalog::discount::discount_bps;
use crate::catalog::model::RigModelRow;
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::{listing_price_changes, listings};
use crate::price_index::observations::{record_asking, AskingEvent};

/// A lot as it was published on `published_at` (created two days before,
/// submitted one day before).
pub struct HistoricLot<'a> {
    pub id: ListingId,
    pub seller_id: UserId,
    pub model: &'a RigModelRow,
    pub title: String,
    pub description: &'a str,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub country: &'a str,
    pub region: &'a str,
    pub hosting: HostingColumns,
    pub reference_unit_price_cents: i64,
    pub published_at: DateTime<Utc>,
}

/// Writes `lot` as published (in the caller's transaction; its proofs may be
/// recorded next, then [`observe_publication`]).
pub async fn insert_published(conn: &mut AsyncPgConnection, lot: &HistoricLot<'_>) -> QueryResult<()> {
    let at = lot.published_at;
    let reference = lot.reference_unit_price_cents;
    let (facility, hosting_country, contract_ends_on, power_off_at) = lot.hosting.clone();
    diesel::insert_into(listings::table)
        .values((
            listings::id.eq(lot.id),
            listings::seller_id.eq(lot.seller_id),
            listings::rig_model_id.eq(lot.model.id),
            listings::manufacturer_id.eq(lot.model.manufacturer_id),
            listings::title.eq(&lot.title),
            listings::description.eq(lot.description),
            listings::status.eq(ListingStatus::Active.as_str()),
            listings::quantity.eq(lot.quantity),
            listings::unit_price_cents.eq(lot.unit_price_cents),
            listings::country.eq(lot.country),
            listings::region.eq(lot.region),
            listings::incoterm.eq("EXW"),
            listings::lead_time_days.eq(3),
            listings::hosting_facility.eq(facility),
            listings::hosting_country.eq(hosting_country),
            listings::hosting_contract_ends_on.eq(contract_ends_on),
            listings::power_off_at.eq(power_off_at),
            listings::model_hashrate_hs.eq(lot.model.hashrate_hs),
            listings::model_efficiency_j_per_th.eq(lot.model.efficiency_j_per_th),
            listings::model_tier.eq(&lot.model.tier),
            listings::reference_unit_price_cents.eq(reference),
            listings::published_reference_unit_price_cents.eq(reference),
            listings::published_discount_bps.eq(discount_bps(lot.unit_price_cents, Some(reference))),
            listings::created_at.eq(at - Duration::days(2)),
            listings::updated_at.eq(at),
            listings::submitted_at.eq(at - Duration::days(1)),
            listings::published_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Completes a historic publication: the proof verdict the lot had (if any) and
/// its first asking observation.
pub async fn observe_publication(
    conn: &mut AsyncPgConnection,
    lot_id: ListingId,
    verification: Option<HashrateVerification>,
    at: DateTime<Utc>,
    fire_sale_threshold_bps: i64,
) -> anyhow::Result<ListingRow> {
    if let Some(verification) = verification {
        record_hashrate_verification(conn, lot_id, verification).await?;
    }
    let row = queries::find(conn, lot_id).await?.ok_or(diesel::NotFound)?;
    record_asking(conn, &row.lot_facts(at), AskingEvent::Published, row.asking_price(at), fire_sale_threshold_bps)
        .await?;
    Ok(row)
}

/// A price cut of a live lot at `at`, to `price_cents`, against the reference of
/// that day; false when the lot is no longer live.
pub async fn cut_price(
    conn: &mut AsyncPgConnection,
    lot_id: ListingId,
    at: DateTime<Utc>,
    new_price: impl Fn(i64) -> i64 + Send + Sync,
    fire_sale_threshold_bps: i64,
) -> anyhow::Result<bool> {
    conn.transaction(async |conn| {
        let Some(row) = queries::lock(conn, lot_id).await? else { return Ok(false) };
        if row.status() != ListingStatus::Active {
            return Ok(false);
        }
        let model = crate::catalog::queries::model_row(conn, row.rig_model_id).await?.ok_or(diesel::NotFound)?;
        let reference = queries::reference_for(conn, &model, at).await?;
        let price = new_price(row.unit_price_cents);
        let updated: ListingRow = diesel::update(listings::table.find(lot_id))
            .set((
                listings::unit_price_cents.eq(price),
                listings::reference_unit_price_cents.eq(reference),
                listings::updated_at.eq(at),
            ))
            .returning(ListingRow::as_returning())
            .get_result(conn)
            .await?;
        diesel::insert_into(listing_price_changes::table)
            .values((
                listing_price_changes::listing_id.eq(lot_id),
                listing_price_changes::old_price_cents.eq(row.unit_price_cents),
                listing_price_changes::new_price_cents.eq(price),
                listing_price_changes::changed_by.eq(row.seller_id),
                listing_price_changes::changed_at.eq(at),
            ))
            .execute(conn)
            .await?;
        let (facts, asking) = (updated.lot_facts(at), updated.asking_price(at));
        record_asking(conn, &facts, AskingEvent::PriceChanged, asking, fire_sale_threshold_bps).await?;
        Ok(true)
    })
    .await
}

/// Ends a lot that is still live at `at`: withdrawn by its seller, or expired
/// at its hosting deadline.
pub async fn close(
    conn: &mut AsyncPgConnection,
    lot_id: ListingId,
    withdrawn: bool,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let status = if withdrawn { ListingStatus::Withdrawn } else { ListingStatus::Expired };
    diesel::update(listings::table.find(lot_id).filter(listings::status.eq(ListingStatus::Active.as_str())))
        .set((listings::status.eq(status.as_str()), listings::updated_at.eq(at)))
        .execute(conn)
        .await?;
    Ok(())
}
