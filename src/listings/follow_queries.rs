//! How listings follow what other capabilities decide: the catalog's reference
//! prices and model specs, the proofs' verdicts on a lot's hashrate, and settled
//! sales for the price index. Each query takes a connection, so it runs in the
//! caller's transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::lifecycle::ListingStatus;
use super::queries::{find, reference_for};
use crate::catalog::model::RigModelRow;
use crate::db::ids::{ListingId, RigModelId};
use crate::db::schema::listings;
use crate::price_index::observations::{self as price_index, SettledSale};

/// Recomputes the stored reference of every open or live listing (of one model,
/// or all): after reference prices change and once a day as dates roll on.
pub async fn refresh_references(
    conn: &mut AsyncPgConnection,
    model: Option<RigModelId>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let open = [ListingStatus::Draft, ListingStatus::PendingReview, ListingStatus::Active, ListingStatus::SoldOut]
        .map(ListingStatus::as_str);
    let mut model_query =
        listings::table.filter(listings::status.eq_any(open)).select(listings::rig_model_id).distinct().into_boxed();
    if let Some(model) = model {
        model_query = model_query.filter(listings::rig_model_id.eq(model));
    }
    let model_ids: Vec<RigModelId> = model_query.load(conn).await?;
    let mut updated = 0;
    for model_id in model_ids {
        let model = crate::catalog::queries::model_row(conn, model_id).await?.ok_or(diesel::NotFound)?;
        let reference = reference_for(conn, &model, now).await?;
        updated += diesel::update(
            listings::table
                .filter(listings::rig_model_id.eq(model_id))
                .filter(listings::status.eq_any(open))
                .filter(listings::reference_unit_price_cents.is_distinct_from(reference)),
        )
        .set(listings::reference_unit_price_cents.eq(reference))
        .execute(conn)
        .await?;
    }
    Ok(updated)
}

/// Copies a model's (changed) specs onto its open listings and recomputes their
/// reference, since a per-TH reference depends on the hashrate.
async fn sync_model_specs(conn: &mut AsyncPgConnection, model: &RigModelRow, now: DateTime<Utc>) -> QueryResult<()> {
    let open = [ListingStatus::Draft, ListingStatus::PendingReview, ListingStatus::Active, ListingStatus::SoldOut]
        .map(ListingStatus::as_str);
    diesel::update(listings::table.filter(listings::rig_model_id.eq(model.id)).filter(listings::status.eq_any(open)))
        .set((
            listings::model_hashrate_hs.eq(model.hashrate_hs),
            listings::model_efficiency_j_per_th.eq(model.efficiency_j_per_th),
            listings::model_tier.eq(&model.tier),
        ))
        .execute(conn)
        .await?;
    refresh_references(conn, Some(model.id), now).await?;
    Ok(())
}

/// A listing proof's verdict, as the listing keeps it.
#[derive(Debug, Clone, Copy)]
pub struct HashrateVerification {
    /// Until when the listing counts as verified; `None` after a failed proof.
    pub until: Option<DateTime<Utc>>,
    /// The measured H/s per unit, when verified.
    pub unit_hashrate_hs: Option<i64>,
}

/// Records the verdict of the listing's latest proof: the proofs report each
/// one here.
pub async fn record_hashrate_verification(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    verification: HashrateVerification,
) -> QueryResult<()> {
    diesel::update(listings::table.find(listing_id))
        .set((
            listings::hashrate_verified_until.eq(verification.until),
            listings::verified_unit_hashrate_hs.eq(verification.unit_hashrate_hs.filter(|hs| *hs >= 1)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a settled order of `listing_id` in the price index, as the lot is now.
/// `NotFound` when there is no such listing.
pub async fn record_settled_price(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    sale: &SettledSale,
    fire_sale_threshold_bps: i64,
) -> QueryResult<()> {
    let listing = find(conn, listing_id).await?.ok_or(diesel::NotFound)?;
    price_index::record_settled(conn, &listing.lot_facts(sale.at), sale, fire_sale_threshold_bps).await
}

/// Open listings follow their model's specs (the catalog tells them).
pub struct FollowCatalog;

#[async_trait::async_trait]
impl crate::catalog::events::FollowModelSpecs for FollowCatalog {
    async fn specs_changed(
        &self,
        conn: &mut AsyncPgConnection,
        model: &RigModelRow,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        sync_model_specs(conn, model, now).await?;
        Ok(())
    }
}
