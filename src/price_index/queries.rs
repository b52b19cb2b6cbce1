//! Reads of the price index. Series and fire-sale answers read only
//! `price_index_buckets` (one index range scan, plus the buckets with pending
//! observations computed live); `latest` aggregates the 7-day
//! window of raw observations per tier with PostgreSQL's own `percentile_cont`,
//! through a covering index.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::params::Selection;
use crate::catalog::queries as catalog;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;
use crate::db::schema::price_index_buckets;

/// The columns of a bucket the API serves.
#[derive(Debug, Clone, Default, Queryable, Selectable)]
#[diesel(table_name = price_index_buckets)]
pub struct BucketRow {
    pub country: Option<String>,
    pub tier: Option<String>,
    pub rig_model_id: Option<RigModelId>,
    pub bucket_start: NaiveDate,
    pub observations: i32,
    pub fire_sales: i32,
    pub discounted: i32,
    pub p25_lo: Option<i64>,
    pub p25_hi: Option<i64>,
    pub p50_lo: Option<i64>,
    pub p50_hi: Option<i64>,
    pub p75_lo: Option<i64>,
    pub p75_hi: Option<i64>,
    pub discount_p50_lo: Option<i64>,
    pub discount_p50_hi: Option<i64>,
    pub new_listings: i32,
    pub new_fire_sales: i32,
    pub new_discounted: i32,
    pub new_discount_p50_lo: Option<i64>,
    pub new_discount_p50_hi: Option<i64>,
    pub new_fire_discount_p50_lo: Option<i64>,
    pub new_fire_discount_p50_hi: Option<i64>,
}

/// What a series needs to know about a rig model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub label: String,
    pub tier: String,
}

/// Which models a model cell may return: `None` for all of them.
pub async fn model_scope(conn: &mut AsyncPgConnection, selection: &Selection) -> QueryResult<Option<Vec<RigModelId>>> {
    match (selection.rig_model_id, selection.tier) {
        (Some(id), None) => Ok(Some(vec![id])),
        (only, Some(tier)) => Ok(Some(catalog::models_in_tier(conn, tier, only).await?)),
        (None, None) => Ok(None),
    }
}

/// The buckets of `basis` a selection covers, in no particular order (the
/// series place them by key and bucket start; sorting here would cost the
/// database a sort of every row).
pub async fn buckets(conn: &mut AsyncPgConnection, basis: &str, selection: &Selection) -> QueryResult<Vec<BucketRow>> {
    use price_index_buckets as b;
    let (Some(first), Some(last)) = (<[NaiveDate]>::first(&selection.buckets), <[NaiveDate]>::last(&selection.buckets))
    else {
        return Ok(Vec::new());
    };
    let mut query = b::table
        .filter(b::basis.eq(basis))
        .filter(b::period.eq(selection.interval.as_str()))
        .filter(b::cell.eq(selection.cell.as_str()))
        .filter(b::bucket_start.between(*first, *last))
        .into_boxed();
    if let Some(country) = &selection.country {
        query = query.filter(b::country.eq(country.clone()));
    }
    if selection.cell.has_tier() {
        if let Some(tier) = selection.tier {
            query = query.filter(b::tier.eq(tier.key()));
        }
    }
    if selection.cell.has_model() {
        if let Some(models) = model_scope(conn, selection).await? {
            if models.is_empty() {
                return Ok(Vec::new());
            }
            query = query.filter(b::rig_model_id.eq_any(models));
        }
    }
    query.select(BucketRow::as_select()).load(conn).await
}

/// Labels ("Bitmain Antminer S19 Pro") and catalog tiers of models.
pub async fn models(conn: &mut AsyncPgConnection, ids: &[RigModelId]) -> QueryResult<HashMap<RigModelId, ModelInfo>> {
    Ok(catalog::model_labels(conn, ids)
        .await?
        .into_iter()
        .map(|(id, label)| (id, ModelInfo { label: label.full_name(), tier: label.tier }))
        .collect())
}

#[derive(QueryableByName)]
struct WindowRow {
    #[diesel(sql_type = Text)]
    tier: String,
    #[diesel(sql_type = BigInt)]
    observations: i64,
    #[diesel(sql_type = Nullable<Array<Nullable<Double>>>)]
    quartiles: Option<Vec<Option<f64>>>,
}

/// Count and `[p25, p50, p75]` in cents per TH of each tier's observations in `(after, until]`.
pub type WindowStats = (i64, [Option<f64>; 3]);

pub async fn window_by_tier(
    conn: &mut AsyncPgConnection,
    basis: &str,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<HashMap<EfficiencyTier, WindowStats>> {
    let tiers: Vec<&str> = EfficiencyTier::ALL.iter().map(|t| t.key()).collect();
    // One index range scan per tier (basis, tier, observed_at).
    let rows: Vec<WindowRow> = diesel::sql_query(
        "SELECT t.tier, s.observations, s.quartiles
           FROM unnest($1::text[]) AS t(tier)
          CROSS JOIN LATERAL (
                SELECT count(*) AS observations,
                       percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY o.usd_per_th_cents) AS quartiles
                  FROM price_observations o
                 WHERE o.basis = $2 AND o.tier = t.tier AND o.observed_at > $3 AND o.observed_at <= $4) s",
    )
    .bind::<Array<Text>, _>(tiers)
    .bind::<Text, _>(basis)
    .bind::<Timestamptz, _>(after)
    .bind::<Timestamptz, _>(until)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let tier = EfficiencyTier::from_key(&row.tier)?;
            let q = row.quartiles.unwrap_or_default();
            let at = |i: usize| q.get(i).copied().flatten();
            Some((tier, (row.observations, [at(0), at(1), at(2)])))
        })
        .collect())
}

/// How many observations there are of each basis (`asking`, `settled`).
pub async fn observation_counts(conn: &mut AsyncPgConnection) -> QueryResult<std::collections::BTreeMap<String, i64>> {
    use crate::db::schema::price_observations;
    let rows: Vec<(String, i64)> = price_observations::table
        .group_by(price_observations::basis)
        .select((price_observations::basis, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}
