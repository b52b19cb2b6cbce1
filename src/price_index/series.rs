//! Turning bucket rows into series: one series per key with at least one
//! observation in the range, every bucket of the range present (an empty bucket
//! has `count: 0` and `null` statistics), keys in a stable order (tiers by
//! efficiency, models by name, countries by code). No I/O.
//!
//! [`keyed`] places each row by key and bucket without copying it; the JSON
//! bodies are written from that by [`render`](super::render), and the model
//! types ([`price_series`], [`fire_sale_series`]) are built from it for CSV.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::bucket::BucketRow;
use super::model::{FireSalePoint, FireSaleSeries, Series, SeriesPoint};
use super::params::{GroupBy, Selection};
use super::queries::ModelInfo;
use super::stats::{bps_to_pct, cents_to_dollars, midnight, percentile_cont, share, Quantile};
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;

/// A row's series key before it is rendered: borrowed, so placing a row
/// allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'r> {
    Text(&'r str),
    Model(RigModelId),
}

/// The series key of a row. A model cell answering `group_by=tier` (a model
/// filter was given) is keyed by the model's catalog tier.
fn key_of<'r>(group_by: GroupBy, row: &'r BucketRow, models: &'r HashMap<RigModelId, ModelInfo>) -> Option<Key<'r>> {
    match group_by {
        GroupBy::Tier => row
            .tier
            .as_deref()
            .or_else(|| row.rig_model_id.and_then(|id| models.get(&id)).map(|m| m.tier.as_str()))
            .map(Key::Text),
        GroupBy::Model => row.rig_model_id.map(Key::Model),
        GroupBy::Country => row.country.as_deref().map(Key::Text),
    }
}

/// The key and label a series is rendered with.
fn key_and_label(key: Key<'_>, models: &HashMap<RigModelId, ModelInfo>) -> (String, String) {
    match key {
        Key::Text(text) => (text.to_string(), text.to_string()),
        Key::Model(id) => {
            let key = id.to_string();
            let label = models.get(&id).map_or_else(|| key.clone(), |m| m.label.clone());
            (key, label)
        }
    }
}

fn sort_key(group_by: GroupBy, key: &str, label: &str) -> (usize, String) {
    match group_by {
        GroupBy::Tier => (EfficiencyTier::ALL.iter().position(|t| t.key() == key).unwrap_or(usize::MAX), String::new()),
        GroupBy::Model => (0, format!("{label}\u{0}{key}")),
        GroupBy::Country => (0, key.to_string()),
    }
}

/// One series before rendering: its key, label, and row of each bucket of the
/// selection (`None`: empty), in the selection's order.
#[derive(Debug)]
pub struct Keyed<'r> {
    pub key: String,
    pub label: String,
    pub buckets: Vec<Option<&'r BucketRow>>,
}

/// The rows `counts` as non-empty, grouped by key (in display order) and placed
/// by bucket. A row whose bucket the selection does not cover is left out.
pub fn keyed<'r>(
    selection: &Selection,
    rows: &'r [BucketRow],
    models: &'r HashMap<RigModelId, ModelInfo>,
    counts: fn(&BucketRow) -> bool,
) -> Vec<Keyed<'r>> {
    let mut positions: HashMap<Key<'r>, usize> = HashMap::new();
    let mut series: Vec<Keyed<'r>> = Vec::new();
    for row in rows.iter().filter(|row| counts(row)) {
        let (Some(key), Some(bucket)) = (key_of(selection.group_by, row, models), selection.position(row.bucket_start))
        else {
            continue;
        };
        let at = *positions.entry(key).or_insert_with(|| {
            let (key, label) = key_and_label(key, models);
            series.push(Keyed { key, label, buckets: vec![None; selection.buckets.len()] });
            series.len() - 1
        });
        series[at].buckets[bucket] = Some(row);
    }
    series.sort_by_cached_key(|one| sort_key(selection.group_by, &one.key, &one.label));
    series
}

/// A row counts in a price series when it has observations.
pub fn has_observations(row: &BucketRow) -> bool {
    row.observations > 0
}

/// A row counts in a fire-sale series when it has new listings.
pub fn has_new_listings(row: &BucketRow) -> bool {
    row.new_listings > 0
}

fn dollars(n: i32, quantile: Quantile, lo: Option<i64>, hi: Option<i64>) -> Option<f64> {
    percentile_cont(i64::from(n), quantile, lo, hi).map(cents_to_dollars)
}

fn percent(n: i32, lo: Option<i64>, hi: Option<i64>) -> Option<f64> {
    percentile_cont(i64::from(n), Quantile::MEDIAN, lo, hi).map(bps_to_pct)
}

pub fn price_point(start: NaiveDate, row: Option<&BucketRow>) -> SeriesPoint {
    let empty = BucketRow::default();
    let row = row.unwrap_or(&empty);
    let n = row.observations;
    SeriesPoint {
        bucket_start: midnight(start),
        median_usd_per_th: dollars(n, Quantile::MEDIAN, row.p50_lo, row.p50_hi),
        p25: dollars(n, Quantile::P25, row.p25_lo, row.p25_hi),
        p75: dollars(n, Quantile::P75, row.p75_lo, row.p75_hi),
        count: i64::from(n),
        median_discount_pct: percent(row.discounted, row.discount_p50_lo, row.discount_p50_hi),
        fire_sale_share: share(i64::from(row.fire_sales), i64::from(n)),
    }
}

pub fn fire_sale_point(start: NaiveDate, row: Option<&BucketRow>) -> FireSalePoint {
    let empty = BucketRow::default();
    let row = row.unwrap_or(&empty);
    FireSalePoint {
        bucket_start: midnight(start),
        new_listings: i64::from(row.new_listings),
        fire_sales: i64::from(row.new_fire_sales),
        fire_sale_share: share(i64::from(row.new_fire_sales), i64::from(row.new_listings)),
        median_discount_pct: percent(row.new_discounted, row.new_discount_p50_lo, row.new_discount_p50_hi),
        fire_sale_median_discount_pct: percent(
            row.new_fire_sales,
            row.new_fire_discount_p50_lo,
            row.new_fire_discount_p50_hi,
        ),
    }
}

fn points<P>(selection: &Selection, one: &Keyed<'_>, point: fn(NaiveDate, Option<&BucketRow>) -> P) -> Vec<P> {
    selection.buckets.iter().zip(&one.buckets).map(|(start, row)| point(*start, *row)).collect()
}

pub fn price_series(selection: &Selection, rows: &[BucketRow], models: &HashMap<RigModelId, ModelInfo>) -> Vec<Series> {
    keyed(selection, rows, models, has_observations)
        .into_iter()
        .map(|one| Series { points: points(selection, &one, price_point), key: one.key, label: one.label })
        .collect()
}

pub fn fire_sale_series(
    selection: &Selection,
    rows: &[BucketRow],
    models: &HashMap<RigModelId, ModelInfo>,
) -> Vec<FireSaleSeries> {
    keyed(selection, rows, models, has_new_listings)
        .into_iter()
        .map(|one| FireSaleSeries { points: points(selection, &one, fire_sale_point), key: one.key, label: one.label })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::price_index::params::Filters;
    use crate::price_index::stats::Interval;

    fn selection(group_by: GroupBy) -> Selection {
        let now = chrono::DateTime::parse_from_rfc3339("2021-06-10T00:00:00Z").unwrap().to_utc();
        Filters {
            group_by,
            tier: None,
            rig_model_id: None,
            country: None,
            interval: Interval::Day,
            from: Some("2021-06-01"),
            to: Some("2021-06-03"),
        }
        .select(now)
        .unwrap()
    }

    fn row(tier: &str, day: &str, values: [i64; 2]) -> BucketRow {
        BucketRow {
            tier: Some(tier.into()),
            bucket_start: day.parse().unwrap(),
            observations: 2,
            fire_sales: 1,
            p25_lo: Some(values[0]),
            p25_hi: Some(values[1]),
            p50_lo: Some(values[0]),
            p50_hi: Some(values[1]),
            p75_lo: Some(values[0]),
            p75_hi: Some(values[1]),
            ..Default::default()
        }
    }

    #[test]
    fn series_fill_every_bucket_and_order_tiers_by_efficiency() {
        let selection = selection(GroupBy::Tier);
        assert_eq!(selection.buckets.len(), 3, "June 1 to 3, inclusive");
        let rows = vec![row("above68", "2021-06-02", [1000, 2000]), row("under19", "2021-06-03", [5000, 5000])];
        let series = price_series(&selection, &rows, &HashMap::new());
        assert_eq!(series.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["under19", "above68"]);
        let above = &series[1].points;
        assert_eq!(above.iter().map(|p| p.count).collect::<Vec<_>>(), [0, 2, 0]);
        assert_eq!(above[0].median_usd_per_th, None);
        assert_eq!(above[0].fire_sale_share, None);
        assert_eq!(above[1].median_usd_per_th, Some(15.0), "(1000 + 2000) / 2 cents");
        assert_eq!(above[1].p25, Some(12.5));
        assert_eq!(above[1].p75, Some(17.5));
        assert_eq!(above[1].fire_sale_share, Some(0.5));
        assert_eq!(above[1].median_discount_pct, None, "no observation had a reference");
    }

    #[test]
    fn model_series_carry_labels_and_a_model_cell_can_answer_by_tier() {
        let id = RigModelId::new();
        let models = HashMap::from([(id, ModelInfo { label: "Bitmain Antminer S9".into(), tier: "above68".into() })]);
        let model_row = BucketRow { tier: None, rig_model_id: Some(id), ..row("x", "2021-06-01", [1, 2]) };
        let by_model = price_series(&selection(GroupBy::Model), std::slice::from_ref(&model_row), &models);
        assert_eq!((by_model[0].key.clone(), by_model[0].label.as_str()), (id.to_string(), "Bitmain Antminer S9"));
        let by_tier = price_series(&selection(GroupBy::Tier), &[model_row], &models);
        assert_eq!(by_tier[0].key, "above68");
    }
}
