//! Writes the demo's accounts, lots, proofs and price cuts at their historic
//! timestamps. Each lot is created and published (with its first asking
//! observation) in one transaction, each price cut in another, as the listing
//! endpoints do; anything that already exists is left alone.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::scenario::{LotPlan, Seller};
use crate::catalog::model::RigModelRow;
use crate::db::ids::{ListingId, ProofId, UserId};
use crate::listings::model::ListingRow;
use crate::listings::{history, queries, HashrateVerification};
use crate::proofs::history::HistoricProof;

/// `cents` rounded to whole $10, as sellers price lots.
fn round_to_ten_dollars(cents: i64) -> i64 {
    ((cents + 500) / 1000 * 1000).max(1000)
}

fn title(lot: &LotPlan, model: &RigModelRow, seller: &Seller) -> String {
    match &seller.hosting {
        Some(h) if lot.published_at < h.power_off_at => format!(
            "{}x {}, {}, must be out by {}",
            lot.quantity,
            model.name,
            h.facility,
            h.power_off_at.format("%b %-d")
        ),
        _ => format!("{}x {}, {} {}", lot.quantity, model.name, seller.person.city, seller.region),
    }
}

/// Creates and publishes a lot (with its proof and first asking observation) in
/// one transaction; `None` when it already exists or its model has no reference.
pub async fn publish_lot(
    conn: &mut AsyncPgConnection,
    lot: &LotPlan,
    seller: &Seller,
    seller_id: UserId,
    fire_sale_threshold_bps: i64,
) -> anyhow::Result<Option<ListingRow>> {
    if queries::find(conn, lot.id).await?.is_some() {
        return Ok(None);
    }
    let Some(model) = crate::catalog::queries::model_named(conn, lot.model).await? else {
        return Ok(None);
    };
    let Some(reference) = queries::reference_for(conn, &model, lot.published_at).await? else {
        return Ok(None);
    };
    let at = lot.published_at;
    let hosting = seller.hosting.as_ref().filter(|h| at < h.power_off_at);
    let historic = history::HistoricLot {
        id: lot.id,
        seller_id,
        model: &model,
        title: title(lot, &model, seller),
        description: "Demo lot: air-cooled, stock firmware, PSUs included. Sold as a lot.",
        quantity: lot.quantity,
        unit_price_cents: round_to_ten_dollars(reference * (10_000 - lot.discount_bps) / 10_000),
        country: hosting.map_or(seller.person.country, |h| h.country),
        region: seller.region,
        hosting: (
            hosting.map(|h| h.facility.clone()),
            hosting.map(|h| h.country.to_string()),
            hosting.map(|h| h.contract_ends_on),
            hosting.map(|h| h.power_off_at),
        ),
        reference_unit_price_cents: reference,
        published_at: at,
    };
    conn.transaction(async |conn| {
        history::insert_published(conn, &historic).await?;
        let verification = match lot.proof_ratio {
            Some(ratio) => Some(proof_of(conn, lot, seller_id, &model, ratio).await?),
            None => None,
        };
        let row = history::observe_publication(conn, lot.id, verification, at, fire_sale_threshold_bps).await?;
        Ok(Some(row))
    })
    .await
}

/// A verified listing proof that ended 12 hours before publication.
async fn proof_of(
    conn: &mut AsyncPgConnection,
    lot: &LotPlan,
    seller_id: UserId,
    model: &RigModelRow,
    ratio: f64,
) -> anyhow::Result<HashrateVerification> {
    let units = lot.quantity.min(4);
    let proof = HistoricProof {
        id: ProofId(Uuid::from_u128(lot.id.0.as_u128() ^ 0x0050_524f_4f46)),
        listing_id: lot.id,
        requested_by: seller_id,
        units,
        claimed_hashrate_hs: model.hashrate_hs.saturating_mul(i64::from(units)),
        ratio,
        ended: lot.published_at - Duration::hours(12),
    };
    let until = crate::proofs::history::record_verified(conn, &proof).await?;
    let per_unit = (model.hashrate_hs as f64 * ratio).round() as i64;
    Ok(HashrateVerification { until: Some(until), unit_hashrate_hs: Some(per_unit) })
}

/// Cuts a live lot's price by `cut_bps` at `at` (its reference refreshed to that
/// day's, as the daily job would), with price history and an observation.
pub async fn cut_price(
    conn: &mut AsyncPgConnection,
    lot_id: ListingId,
    at: DateTime<Utc>,
    cut_bps: i64,
    fire_sale_threshold_bps: i64,
) -> anyhow::Result<bool> {
    let new_price = |price: i64| round_to_ten_dollars(price * (10_000 - cut_bps) / 10_000);
    history::cut_price(conn, lot_id, at, new_price, fire_sale_threshold_bps).await
}

/// Ends a historic lot that still has units: withdrawn by the seller, or expired
/// at its hosting deadline.
pub async fn close_lot(conn: &mut AsyncPgConnection, lot: &LotPlan, at: DateTime<Utc>) -> QueryResult<()> {
    history::close(conn, lot.id, lot.withdrawn, at).await
}
