//! Reads of the price index. Series and fire-sale answers read the buckets a
//! key and month at a time from `price_index_months`, and the few with pending
//! observations from `price_index_buckets` (computed live); `latest` aggregates the 7-day
//! window of raw observations per tier with PostgreSQL's own `percentile_cont`,
//! through a covering index.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Date, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::params::Selection;
use crate::catalog::queries as catalog;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;

/// The columns of a bucket the API serves.
#[derive(Debug, Clone, Default)]
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
///
/// One statement, so one snapshot: the months before the month of the oldest
/// pending observation's buckets come packed from `price_index_months` (one
/// row per key and month), the rest from the `price_index_buckets` view (which
/// computes the buckets with pending observations live), one row per bucket in
/// the same shape. Without pending observations the second part is skipped
/// before any scan.
pub async fn buckets(conn: &mut AsyncPgConnection, basis: &str, selection: &Selection) -> QueryResult<Vec<BucketRow>> {
    let (Some(first), Some(last)) = (<[NaiveDate]>::first(&selection.buckets), <[NaiveDate]>::last(&selection.buckets))
    else {
        return Ok(Vec::new());
    };
    let (first, last) = (*first, *last);
    let country = selection.country.clone();
    let tier = selection.tier.filter(|_| selection.cell.has_tier()).map(|tier| tier.key());
    let models = match selection.cell.has_model() {
        true => model_scope(conn, selection).await?,
        false => None,
    };
    if models.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let sql = packed_buckets_sql(country.is_some(), tier.is_some(), models.is_some());
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
    let packed: Vec<PackedBuckets> = query.load(conn).await?;
    let mut rows = Vec::with_capacity(packed.iter().map(|p| p.bucket_starts.len()).sum());
    for one in packed {
        one.unpack_into(first, last, &mut rows)?;
    }
    Ok(rows)
}

/// The value columns of a bucket, after its start.
const BUCKET_VALUES: [&str; 18] = [
    "observations",
    "fire_sales",
    "discounted",
    "p25_lo",
    "p25_hi",
    "p50_lo",
    "p50_hi",
    "p75_lo",
    "p75_hi",
    "discount_p50_lo",
    "discount_p50_hi",
    "new_listings",
    "new_fire_sales",
    "new_discounted",
    "new_discount_p50_lo",
    "new_discount_p50_hi",
    "new_fire_discount_p50_lo",
    "new_fire_discount_p50_hi",
];

/// The statement [`buckets`] sends, with the filters it has values for
/// (bound after basis, period, cell, first and last bucket, in this order).
fn packed_buckets_sql(country: bool, tier: bool, models: bool) -> String {
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
    let packed = BUCKET_VALUES.join(", ");
    let live = BUCKET_VALUES.iter().map(|c| format!("ARRAY[{c}]")).collect::<Vec<_>>().join(", ");
    format!(
        "WITH cutoff AS (
             SELECT date_trunc('month', COALESCE(min(day) - 6, 'infinity'::DATE)::TIMESTAMP)::DATE AS month
               FROM price_index_pending)
         SELECT country, tier, rig_model_id, bucket_starts, {packed}
           FROM price_index_months
          WHERE basis = $1 AND period = $2 AND cell = $3
            AND month BETWEEN date_trunc('month', $4::TIMESTAMP)::DATE AND $5
            AND month < (SELECT month FROM cutoff){filters}
         UNION ALL
         SELECT country, tier, rig_model_id, ARRAY[bucket_start], {live}
           FROM price_index_buckets
          WHERE (SELECT month FROM cutoff) < 'infinity'::DATE
            AND basis = $1 AND period = $2 AND cell = $3 AND bucket_start BETWEEN $4 AND $5
            AND bucket_start >= (SELECT month FROM cutoff){filters}"
    )
}

/// One key's buckets of one month, column by column, in bucket order.
#[derive(Debug, QueryableByName)]
struct PackedBuckets {
    #[diesel(sql_type = Nullable<Text>)]
    country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tier: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    rig_model_id: Option<RigModelId>,
    #[diesel(sql_type = Array<Date>)]
    bucket_starts: Vec<NaiveDate>,
    #[diesel(sql_type = Array<Integer>)]
    observations: Vec<i32>,
    #[diesel(sql_type = Array<Integer>)]
    fire_sales: Vec<i32>,
    #[diesel(sql_type = Array<Integer>)]
    discounted: Vec<i32>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    p25_lo: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    p25_hi: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    p50_lo: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    p50_hi: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    p75_lo: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    p75_hi: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    discount_p50_lo: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    discount_p50_hi: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Integer>)]
    new_listings: Vec<i32>,
    #[diesel(sql_type = Array<Integer>)]
    new_fire_sales: Vec<i32>,
    #[diesel(sql_type = Array<Integer>)]
    new_discounted: Vec<i32>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    new_discount_p50_lo: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    new_discount_p50_hi: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    new_fire_discount_p50_lo: Vec<Option<i64>>,
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    new_fire_discount_p50_hi: Vec<Option<i64>>,
}

impl PackedBuckets {
    /// Appends the buckets that start in `first..=last` as rows. Columns of
    /// unequal length (never written so) are an error, not a guess.
    fn unpack_into(self, first: NaiveDate, last: NaiveDate, rows: &mut Vec<BucketRow>) -> QueryResult<()> {
        let len = self.bucket_starts.len();
        let lengths = [
            self.observations.len(),
            self.fire_sales.len(),
            self.discounted.len(),
            self.p25_lo.len(),
            self.p25_hi.len(),
            self.p50_lo.len(),
            self.p50_hi.len(),
            self.p75_lo.len(),
            self.p75_hi.len(),
            self.discount_p50_lo.len(),
            self.discount_p50_hi.len(),
            self.new_listings.len(),
            self.new_fire_sales.len(),
            self.new_discounted.len(),
            self.new_discount_p50_lo.len(),
            self.new_discount_p50_hi.len(),
            self.new_fire_discount_p50_lo.len(),
            self.new_fire_discount_p50_hi.len(),
        ];
        if lengths.iter().any(|&n| n != len) {
            return Err(diesel::result::Error::DeserializationError(
                format!("packed bucket columns of unequal length: {len} starts, {lengths:?}").into(),
            ));
        }
        for (i, &bucket_start) in self.bucket_starts.iter().enumerate() {
            if bucket_start < first || bucket_start > last {
                continue;
            }
            rows.push(BucketRow {
                country: self.country.clone(),
                tier: self.tier.clone(),
                rig_model_id: self.rig_model_id,
                bucket_start,
                observations: self.observations[i],
                fire_sales: self.fire_sales[i],
                discounted: self.discounted[i],
                p25_lo: self.p25_lo[i],
                p25_hi: self.p25_hi[i],
                p50_lo: self.p50_lo[i],
                p50_hi: self.p50_hi[i],
                p75_lo: self.p75_lo[i],
                p75_hi: self.p75_hi[i],
                discount_p50_lo: self.discount_p50_lo[i],
                discount_p50_hi: self.discount_p50_hi[i],
                new_listings: self.new_listings[i],
                new_fire_sales: self.new_fire_sales[i],
                new_discounted: self.new_discounted[i],
                new_discount_p50_lo: self.new_discount_p50_lo[i],
                new_discount_p50_hi: self.new_discount_p50_hi[i],
                new_fire_discount_p50_lo: self.new_fire_discount_p50_lo[i],
                new_fire_discount_p50_hi: self.new_fire_discount_p50_hi[i],
            });
        }
        Ok(())
    }
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

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// A month of the tier cell whose bucket `i` has `i + 1` observations.
    fn packed(starts: &[&str]) -> PackedBuckets {
        let counts: Vec<i32> = (1..=starts.len() as i32).collect();
        let values: Vec<Option<i64>> = counts.iter().map(|&n| Some(i64::from(n) * 100)).collect();
        PackedBuckets {
            country: None,
            tier: Some("25to38".into()),
            rig_model_id: None,
            bucket_starts: starts.iter().map(|s| day(s)).collect(),
            observations: counts.clone(),
            fire_sales: counts.clone(),
            discounted: counts.clone(),
            p25_lo: values.clone(),
            p25_hi: values.clone(),
            p50_lo: values.clone(),
            p50_hi: values.clone(),
            p75_lo: values.clone(),
            p75_hi: values.clone(),
            discount_p50_lo: values.clone(),
            discount_p50_hi: values.clone(),
            new_listings: counts.clone(),
            new_fire_sales: counts.clone(),
            new_discounted: counts.clone(),
            new_discount_p50_lo: values.clone(),
            new_discount_p50_hi: values.clone(),
            new_fire_discount_p50_lo: values.clone(),
            new_fire_discount_p50_hi: values,
        }
    }

    #[test]
    fn a_month_unpacks_to_the_buckets_of_the_range_in_order() {
        let month = packed(&["2021-06-01", "2021-06-02", "2021-06-03", "2021-06-04"]);
        let mut rows = Vec::new();
        month.unpack_into(day("2021-06-02"), day("2021-06-03"), &mut rows).unwrap();
        let starts: Vec<NaiveDate> = rows.iter().map(|r| r.bucket_start).collect();
        assert_eq!(starts, [day("2021-06-02"), day("2021-06-03")]);
        let second = &rows[0];
        assert_eq!((second.observations, second.new_fire_sales), (2, 2));
        assert_eq!((second.p25_lo, second.new_fire_discount_p50_hi), (Some(200), Some(200)));
        assert_eq!(second.tier.as_deref(), Some("25to38"));
    }

    #[test]
    fn columns_of_unequal_length_are_an_error() {
        let mut month = packed(&["2021-06-01", "2021-06-02"]);
        month.p75_hi.pop();
        let mut rows = Vec::new();
        assert!(month.unpack_into(day("2021-06-01"), day("2021-06-30"), &mut rows).is_err());
        assert!(rows.is_empty());
    }

    #[test]
    fn filters_follow_the_range_in_both_parts_of_the_statement() {
        let all = packed_buckets_sql(true, true, true);
        for filter in [" AND country = $6", " AND tier = $7", " AND rig_model_id = ANY($8)"] {
            assert_eq!(all.matches(filter).count(), 2, "{filter} in {all}");
        }
        let models_only = packed_buckets_sql(false, false, true);
        assert_eq!(models_only.matches(" AND rig_model_id = ANY($6)").count(), 2);
        assert!(!models_only.contains("$7") && !models_only.contains("country = "));
        assert!(!packed_buckets_sql(false, false, false).contains("$6"));
    }
}
