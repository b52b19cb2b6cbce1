//! Turning bucket rows into series: one series per key with at least one
//! observation in the range, every bucket of the range present (an empty bucket
//! has `count: 0` and `null` statistics), keys in a stable order (tiers by
//! efficiency, models by name, countries by code). No I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::model::{FireSalePoint, FireSaleSeries, Series, SeriesPoint};
use super::params::{GroupBy, Selection};
use super::queries::{BucketRow, ModelInfo};
use super::stats::{bps_to_pct, cents_to_dollars, midnight, percentile_cont, share, Quantile};
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;

/// The series key of a row. A model cell answering `group_by=tier` (a model
/// filter was given) is keyed by the model's catalog tier.
fn key_of(group_by: GroupBy, row: &BucketRow, models: &HashMap<RigModelId, ModelInfo>) -> Option<String> {
    match group_by {
        GroupBy::Tier => {
            row.tier.clone().or_else(|| row.rig_model_id.and_then(|id| models.get(&id)).map(|m| m.tier.clone()))
        }
        GroupBy::Model => row.rig_model_id.map(|id| id.to_string()),
        GroupBy::Country => row.country.clone(),
    }
}

fn label_of(group_by: GroupBy, key: &str, models: &HashMap<RigModelId, ModelInfo>) -> String {
    match group_by {
        GroupBy::Model => key
            .parse::<RigModelId>()
            .ok()
            .and_then(|id| models.get(&id))
            .map_or_else(|| key.to_string(), |m| m.label.clone()),
        _ => key.to_string(),
    }
}

fn sort_key(group_by: GroupBy, key: &str, label: &str) -> (usize, String) {
    match group_by {
        GroupBy::Tier => (EfficiencyTier::ALL.iter().position(|t| t.key() == key).unwrap_or(usize::MAX), String::new()),
        GroupBy::Model => (0, format!("{label}\u{0}{key}")),
        GroupBy::Country => (0, key.to_string()),
    }
}

/// Rows grouped by key (in display order) and bucket start, with labels.
fn grouped(
    selection: &Selection,
    rows: Vec<BucketRow>,
    models: &HashMap<RigModelId, ModelInfo>,
) -> Vec<(String, String, BTreeMap<NaiveDate, BucketRow>)> {
    let mut by_key: HashMap<String, BTreeMap<NaiveDate, BucketRow>> = HashMap::new();
    for row in rows.into_iter().filter(|r| r.observations > 0) {
        if let Some(key) = key_of(selection.group_by, &row, models) {
            by_key.entry(key).or_default().insert(row.bucket_start, row);
        }
    }
    let mut keyed: Vec<_> = by_key
        .into_iter()
        .map(|(key, rows)| {
            let label = label_of(selection.group_by, &key, models);
            (key, label, rows)
        })
        .collect();
    keyed.sort_by_cached_key(|(key, label, _)| sort_key(selection.group_by, key, label));
    keyed
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

pub fn price_series(
    selection: &Selection,
    rows: Vec<BucketRow>,
    models: &HashMap<RigModelId, ModelInfo>,
) -> Vec<Series> {
    grouped(selection, rows, models)
        .into_iter()
        .map(|(key, label, rows)| Series {
            points: selection.buckets.iter().map(|start| price_point(*start, rows.get(start))).collect(),
            key,
            label,
        })
        .collect()
}

pub fn fire_sale_series(
    selection: &Selection,
    rows: Vec<BucketRow>,
    models: &HashMap<RigModelId, ModelInfo>,
) -> Vec<FireSaleSeries> {
    let rows = rows.into_iter().filter(|r| r.new_listings > 0).collect();
    grouped(selection, rows, models)
        .into_iter()
        .map(|(key, label, rows)| FireSaleSeries {
            points: selection.buckets.iter().map(|start| fire_sale_point(*start, rows.get(start))).collect(),
            key,
            label,
        })
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
        let series = price_series(&selection, rows, &HashMap::new());
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
        let by_model = price_series(&selection(GroupBy::Model), vec![model_row.clone()], &models);
        assert_eq!((by_model[0].key.clone(), by_model[0].label.as_str()), (id.to_string(), "Bitmain Antminer S9"));
        let by_tier = price_series(&selection(GroupBy::Tier), vec![model_row], &models);
        assert_eq!(by_tier[0].key, "above68");
    }
}
