//! Listing queries; each takes a connection so callers compose them in one
//! transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::price_index::observations::{self as price_index, SettledSale};

use super::lifecycle::ListingStatus;
use super::model::{ConditionReport, FlagView, ListingRow, PhotoRow, PriceChange};
use crate::catalog::model::RigModelRow;
use crate::catalog::queries::effective_reference;
use crate::db::schema::{condition_reports, listing_flags, listing_photos, listing_price_changes, listings};

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ListingRow>> {
    listings::table.find(id).select(ListingRow::as_select()).first(conn).await.optional()
}

/// Locks the listing row for the rest of the transaction (every state change
/// and every reservation goes through this lock). `FOR NO KEY UPDATE`: rows
/// that reference the listing (an order being placed holds a key-share lock on
/// it through its foreign key) neither block it nor deadlock with it.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ListingRow>> {
    listings::table.find(id).select(ListingRow::as_select()).for_no_key_update().first(conn).await.optional()
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: ListingStatus,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    diesel::update(listings::table.find(id))
        .set((listings::status.eq(status.as_str()), listings::updated_at.eq(now)))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// The model's effective reference today, copied onto the listing.
pub async fn reference_for(
    conn: &mut AsyncPgConnection,
    model: &RigModelRow,
    now: DateTime<Utc>,
) -> QueryResult<Option<i64>> {
    Ok(effective_reference(conn, model, now.date_naive()).await?.map(|r| r.unit_price_cents))
}

/// Recomputes the stored reference of every open or live listing (of one model,
/// or all): after reference prices change and once a day as dates roll on.
pub async fn refresh_references(
    conn: &mut AsyncPgConnection,
    model: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let open = [ListingStatus::Draft, ListingStatus::PendingReview, ListingStatus::Active, ListingStatus::SoldOut]
        .map(ListingStatus::as_str);
    let mut model_query =
        listings::table.filter(listings::status.eq_any(open)).select(listings::rig_model_id).distinct().into_boxed();
    if let Some(model) = model {
        model_query = model_query.filter(listings::rig_model_id.eq(model));
    }
    let model_ids: Vec<Uuid> = model_query.load(conn).await?;
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

pub async fn price_history(conn: &mut AsyncPgConnection, listing_id: Uuid) -> QueryResult<Vec<PriceChange>> {
    listing_price_changes::table
        .filter(listing_price_changes::listing_id.eq(listing_id))
        .order(listing_price_changes::id.asc())
        .select(PriceChange::as_select())
        .load(conn)
        .await
}

pub async fn condition_reports(conn: &mut AsyncPgConnection, listing_id: Uuid) -> QueryResult<Vec<ConditionReport>> {
    condition_reports::table
        .filter(condition_reports::listing_id.eq(listing_id))
        .order(condition_reports::version.desc())
        .select(ConditionReport::as_select())
        .load(conn)
        .await
}

pub async fn next_report_version(conn: &mut AsyncPgConnection, listing_id: Uuid) -> QueryResult<i32> {
    let latest: Option<i32> = condition_reports::table
        .filter(condition_reports::listing_id.eq(listing_id))
        .select(diesel::dsl::max(condition_reports::version))
        .first(conn)
        .await?;
    Ok(latest.unwrap_or(0) + 1)
}

pub async fn find_photo(
    conn: &mut AsyncPgConnection,
    listing_id: Uuid,
    photo_id: Uuid,
) -> QueryResult<Option<PhotoRow>> {
    listing_photos::table
        .find(photo_id)
        .filter(listing_photos::listing_id.eq(listing_id))
        .select(PhotoRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn count_photos(conn: &mut AsyncPgConnection, listing_id: Uuid) -> QueryResult<i64> {
    listing_photos::table
        .filter(listing_photos::listing_id.eq(listing_id))
        .filter(listing_photos::status.ne("deleted"))
        .count()
        .get_result(conn)
        .await
}

pub async fn open_flags(conn: &mut AsyncPgConnection, before: Option<Uuid>, limit: i64) -> QueryResult<Vec<FlagView>> {
    let mut query = listing_flags::table
        .filter(listing_flags::status.eq("open"))
        .order(listing_flags::id.desc())
        .limit(limit)
        .select(FlagView::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(listing_flags::id.lt(before));
    }
    query.load(conn).await
}

/// The moderation queue: oldest submission first, paged by `(submitted_at, id)`.
pub async fn by_status(
    conn: &mut AsyncPgConnection,
    status: ListingStatus,
    after: Option<(Option<DateTime<Utc>>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<ListingRow>> {
    let mut query = listings::table
        .filter(listings::status.eq(status.as_str()))
        .order((listings::submitted_at.asc().nulls_first(), listings::id.asc()))
        .limit(limit)
        .select(ListingRow::as_select())
        .into_boxed();
    match after {
        Some((Some(at), id)) => {
            query =
                query.filter(listings::submitted_at.gt(at).or(listings::submitted_at.eq(at).and(listings::id.gt(id))))
        }
        Some((None, id)) => {
            query = query.filter(
                listings::submitted_at.is_not_null().or(listings::submitted_at.is_null().and(listings::id.gt(id))),
            )
        }
        None => {}
    }
    query.load(conn).await
}

pub async fn of_seller(
    conn: &mut AsyncPgConnection,
    seller: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ListingRow>> {
    let mut query = listings::table
        .filter(listings::seller_id.eq(seller))
        .order(listings::id.desc())
        .limit(limit)
        .select(ListingRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(listings::id.lt(before));
    }
    query.load(conn).await
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
    listing_id: Uuid,
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
    listing_id: Uuid,
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

/// Titles of many listings in one query.
pub async fn titles(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, String>> {
    Ok(listings::table
        .filter(listings::id.eq_any(ids))
        .select((listings::id, listings::title))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect())
}
