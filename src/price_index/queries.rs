//! Reads of the price index. Series and fire-sale answers read the buckets a
//! key and month at a time from `price_index_months`, and the few with pending
//! observations from `price_index_buckets` (computed live); `latest` aggregates the 7-day
//! window of raw observations per tier with PostgreSQL's own `percentile_cont`,
//! through a covering index.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Date, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::bucket::BucketRow;
use super::packed::Measures;
use super::params::Selection;
use crate::catalog::queries as catalog;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;

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

/// The buckets of `basis` a selection covers, with the `measures` an answer
/// shows, in no particular order (the series place them by key and bucket
/// start; sorting here would cost the database a sort of every row).
///
/// One statement, so one snapshot: the months before the month of the oldest
/// pending observation's buckets come packed from `price_index_months` (one
/// row per key and month), the rest from the `price_index_buckets` view (which
/// computes the buckets with pending observations live), one row per bucket
/// packed the same way. Without pending observations the second part is
/// skipped before any scan.
pub async fn buckets(
    conn: &mut AsyncPgConnection,
    basis: &str,
    measures: Measures,
    selection: &Selection,
) -> QueryResult<Vec<BucketRow>> {
    let (Some(first), Some(last)) = (<[NaiveDate]>::first(&selection.buckets), <[NaiveDate]>::last(&selection.buckets))
    else {
        return Ok(Vec::new());
    };
    let (first, last) = (*first, *last);
    let country = selection.country.clone();
    let tier = selection.tier.filter(|_| selection.cell.has_tier()).map(|tier| tier.key());
    let models = if selection.cell.has_model() { model_scope(conn, selection).await? } else { None };
    if models.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let sql = packed_buckets_sql(measures, country.is_some(), tier.is_some(), models.is_some());
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<Text, _>(basis.to_string())
        .bind::<Text, _>(selection.interval.as_str())
        .bind::<Text, _>(selection.cell.as_str())
        .bind::<Date, _>(first)
        .bind::<Date, _>(last);
    if let Some(country) = country {
        query = query.bind::<Text, _>(country);
    }
    if let Some(tier) = tier {
        query = query.bind::<Text, _>(tier);
    }
    if let Some(models) = models {
        query = query.bind::<Array<SqlUuid>, _>(models);
    }
    let months: Vec<PackedMonth> = query.load(conn).await?;
    let mut rows = Vec::new();
    for month in months {
        let key = BucketRow {
            country: month.country,
            tier: month.tier,
            rig_model_id: month.rig_model_id,
            ..Default::default()
        };
        measures
            .unpack(&key, &month.records, first, last, &mut rows)
            .map_err(|err| diesel::result::Error::DeserializationError(err.into()))?;
    }
    Ok(rows)
}

/// The statement [`buckets`] sends, with the filters it has values for
/// (bound after basis, period, cell, first and last bucket, in this order).
fn packed_buckets_sql(measures: Measures, country: bool, tier: bool, models: bool) -> String {
    let mut filters = String::new();
    let mut parameter = 5;
    let mut next = || {
        parameter += 1;
        parameter
    };
    if country {
        filters.push_str(&format!(" AND country = ${}", next()));
    }
    if tier {
        filters.push_str(&format!(" AND tier = ${}", next()));
    }
    if models {
        filters.push_str(&format!(" AND rig_model_id = ANY(${})", next()));
    }
    let (packed, live) = (measures.column(), measures.pack_live());
    format!(
        "WITH cutoff AS (
             SELECT date_trunc('month', COALESCE(min(day) - 6, 'infinity'::DATE)::TIMESTAMP)::DATE AS month
               FROM price_index_pending)
         SELECT country, tier, rig_model_id, {packed} AS records
           FROM price_index_months
          WHERE basis = $1 AND period = $2 AND cell = $3
            AND month BETWEEN date_trunc('month', $4::TIMESTAMP)::DATE AND $5
            AND month < (SELECT month FROM cutoff){filters}
         UNION ALL
         SELECT country, tier, rig_model_id, {live}
           FROM price_index_buckets
          WHERE (SELECT month FROM cutoff) < 'infinity'::DATE
            AND basis = $1 AND period = $2 AND cell = $3 AND bucket_start BETWEEN $4 AND $5
            AND bucket_start >= (SELECT month FROM cutoff){filters}"
    )
}

/// One key's buckets of one month (or one live bucket), packed.
#[derive(Debug, QueryableByName)]
struct PackedMonth {
    #[diesel(sql_type = Nullable<Text>)]
    country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tier: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    rig_model_id: Option<RigModelId>,
    #[diesel(sql_type = Bytea)]
    records: Vec<u8>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_the_range_in_both_parts_of_the_statement() {
        let all = packed_buckets_sql(Measures::Prices, true, true, true);
        for filter in [" AND country = $6", " AND tier = $7", " AND rig_model_id = ANY($8)"] {
            assert_eq!(all.matches(filter).count(), 2, "{filter} in {all}");
        }
        let models_only = packed_buckets_sql(Measures::NewListings, false, false, true);
        assert_eq!(models_only.matches(" AND rig_model_id = ANY($6)").count(), 2);
        assert!(!models_only.contains("$7") && !models_only.contains("country = "));
        assert!(
            models_only.contains("new_listings AS records") && models_only.contains("price_index_pack_new_listings(")
        );
        assert!(!packed_buckets_sql(Measures::Prices, false, false, false).contains("$6"));
    }
}
