//! SQL on `reference_prices` and `tier_reference_prices`, and the effective
//! reference price of a model on a date.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::OnExisting;
use crate::catalog::model::{
    EffectiveReference, NewReferencePrice, PriceBasis, ReferenceOrigin, ReferencePrice, RigModelRow,
};
use crate::catalog::tiers::{cents_for_hashrate, TierBand};
use crate::db::ids::RigModelId;
use crate::db::schema::{reference_prices, tier_reference_prices};

pub async fn reference_history(
    conn: &mut AsyncPgConnection,
    model_id: RigModelId,
    limit: i64,
) -> QueryResult<Vec<ReferencePrice>> {
    reference_prices::table
        .filter(reference_prices::rig_model_id.eq(model_id))
        .order((reference_prices::priced_on.desc(), reference_prices::created_at.desc()))
        .limit(limit)
        .select(ReferencePrice::as_select())
        .load(conn)
        .await
}

/// Inserts reference prices; a second price for the same model, day and source
/// replaces the first (the later entry is the correction).
pub async fn save_reference_prices(
    conn: &mut AsyncPgConnection,
    prices: &[NewReferencePrice],
) -> QueryResult<Vec<ReferencePrice>> {
    let mut saved = Vec::with_capacity(prices.len());
    for price in prices {
        let row = diesel::insert_into(reference_prices::table)
            .values(price)
            .on_conflict((reference_prices::rig_model_id, reference_prices::priced_on, reference_prices::source))
            .do_update()
            .set((
                reference_prices::basis.eq(&price.basis),
                reference_prices::amount_cents.eq(price.amount_cents),
                reference_prices::note.eq(&price.note),
                reference_prices::created_by.eq(price.created_by),
            ))
            .returning(ReferencePrice::as_returning())
            .get_result(conn)
            .await?;
        saved.push(row);
    }
    Ok(saved)
}

#[derive(Debug, Clone, PartialEq)]
pub struct TierPriceRow {
    pub band: TierBand,
    pub priced_on: NaiveDate,
    pub usd_per_th_cents: i64,
    pub source: String,
}

/// Upserts tier $/TH points; returns how many rows were new or changed.
pub async fn save_tier_prices(
    conn: &mut AsyncPgConnection,
    rows: &[TierPriceRow],
    on_existing: OnExisting,
) -> QueryResult<usize> {
    let mut written = 0;
    for row in rows {
        let insert = diesel::insert_into(tier_reference_prices::table).values((
            tier_reference_prices::id.eq(Uuid::now_v7()),
            tier_reference_prices::tier.eq(&row.band.key),
            tier_reference_prices::min_j_per_th.eq(row.band.min_j_per_th),
            tier_reference_prices::max_j_per_th.eq(row.band.max_j_per_th),
            tier_reference_prices::priced_on.eq(row.priced_on),
            tier_reference_prices::usd_per_th_cents.eq(row.usd_per_th_cents),
            tier_reference_prices::source.eq(&row.source),
        ));
        written += match on_existing {
            OnExisting::Keep => {
                insert
                    .on_conflict((tier_reference_prices::tier, tier_reference_prices::priced_on))
                    .do_nothing()
                    .execute(conn)
                    .await?
            }
            OnExisting::Update => {
                insert
                    .on_conflict((tier_reference_prices::tier, tier_reference_prices::priced_on))
                    .do_update()
                    .set((
                        tier_reference_prices::usd_per_th_cents.eq(row.usd_per_th_cents),
                        tier_reference_prices::source.eq(&row.source),
                    ))
                    .execute(conn)
                    .await?
            }
        };
    }
    Ok(written)
}

#[derive(QueryableByName)]
struct TierPointRow {
    #[diesel(sql_type = Text)]
    tier: String,
    #[diesel(sql_type = Integer)]
    min_j_per_th: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    max_j_per_th: Option<i32>,
    #[diesel(sql_type = Date)]
    priced_on: NaiveDate,
    #[diesel(sql_type = BigInt)]
    usd_per_th_cents: i64,
}

/// A model's effective reference price on `date`: its own latest price on or
/// before the date, else the latest tier $/TH whose band contains the model's
/// efficiency (the narrowest band when several share that date) times its
/// nominal TH. `None` when neither exists.
pub async fn effective_reference(
    conn: &mut AsyncPgConnection,
    model: &RigModelRow,
    date: NaiveDate,
) -> QueryResult<Option<EffectiveReference>> {
    // A reference that rounds to zero cents (a MH/s-class rig priced per TH) is
    // no reference: a discount against it would be meaningless.
    if let Some(price) = latest_model_price(conn, model.id, date).await? {
        return Ok(Some(model_reference(&price, model.hashrate_hs)).filter(|r| r.unit_price_cents > 0));
    }
    let point = latest_tier_point(conn, model, date).await?;
    Ok(point.map(|point| tier_reference(point, model.hashrate_hs)).filter(|r| r.unit_price_cents > 0))
}

/// The model's own latest price on or before `date`.
async fn latest_model_price(
    conn: &mut AsyncPgConnection,
    model_id: RigModelId,
    date: NaiveDate,
) -> QueryResult<Option<ReferencePrice>> {
    reference_prices::table
        .filter(reference_prices::rig_model_id.eq(model_id))
        .filter(reference_prices::priced_on.le(date))
        .order((reference_prices::priced_on.desc(), reference_prices::created_at.desc()))
        .select(ReferencePrice::as_select())
        .first(conn)
        .await
        .optional()
}

fn model_reference(price: &ReferencePrice, hashrate_hs: i64) -> EffectiveReference {
    let unit_price_cents = match PriceBasis::parse(&price.basis) {
        Some(PriceBasis::Th) => cents_for_hashrate(price.amount_cents, hashrate_hs),
        _ => price.amount_cents,
    };
    EffectiveReference {
        unit_price_cents,
        currency: "USD",
        origin: ReferenceOrigin::Model,
        priced_on: price.priced_on,
        tier_band: None,
        usd_per_th_cents: (price.basis == PriceBasis::Th.as_str()).then_some(price.amount_cents),
    }
}

/// The latest tier $/TH on or before `date` whose band contains the model's efficiency.
async fn latest_tier_point(
    conn: &mut AsyncPgConnection,
    model: &RigModelRow,
    date: NaiveDate,
) -> QueryResult<Option<TierPointRow>> {
    // Band membership is decided in NUMERIC so boundaries (38.0 J/TH) are exact.
    diesel::sql_query(
        "SELECT tier, min_j_per_th, max_j_per_th, priced_on, usd_per_th_cents
           FROM tier_reference_prices
          WHERE priced_on <= $1
            AND min_j_per_th::numeric * $2 <= $3::numeric * 1000000000000
            AND (max_j_per_th IS NULL OR $3::numeric * 1000000000000 < max_j_per_th::numeric * $2)
          ORDER BY priced_on DESC, COALESCE(max_j_per_th, 1000000) - min_j_per_th ASC
          LIMIT 1",
    )
    .bind::<Date, _>(date)
    .bind::<BigInt, _>(model.hashrate_hs)
    .bind::<Integer, _>(model.power_w)
    .get_result(conn)
    .await
    .optional()
}

fn tier_reference(point: TierPointRow, hashrate_hs: i64) -> EffectiveReference {
    EffectiveReference {
        unit_price_cents: cents_for_hashrate(point.usd_per_th_cents, hashrate_hs),
        currency: "USD",
        origin: ReferenceOrigin::TierIndex,
        priced_on: point.priced_on,
        tier_band: Some(
            TierBand { key: point.tier, min_j_per_th: point.min_j_per_th, max_j_per_th: point.max_j_per_th }.key,
        ),
        usd_per_th_cents: Some(point.usd_per_th_cents),
    }
}
