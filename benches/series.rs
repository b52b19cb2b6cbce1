//! In-process benchmark of a fresh price-index answer after its rows are read:
//! shaping bucket rows into series and writing the JSON body and its ETag, for
//! the two shapes issue 17 targets (5 tiers x 3 years daily; 31 models x 3 years
//! daily). The database read is measured by `benches/price_index.sh`.
//!
//! Run: `cargo bench --bench series` (results in docs/BENCHMARKS.md).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rigmarket::catalog::tiers::EfficiencyTier;
use rigmarket::db::ids::RigModelId;
use rigmarket::http::conditional::etag_of;
use rigmarket::price_index::bucket::BucketRow;
use rigmarket::price_index::params::Basis;
use rigmarket::price_index::params::{Filters, GroupBy, Selection};
use rigmarket::price_index::queries::ModelInfo;
use rigmarket::price_index::stats::Interval;
use rigmarket::price_index::{render, series};

fn selection(group_by: GroupBy) -> Selection {
    let now = chrono::DateTime::parse_from_rfc3339("2024-06-01T00:00:00Z").unwrap().to_utc();
    let filters = Filters {
        group_by,
        tier: None,
        rig_model_id: None,
        country: None,
        interval: Interval::Day,
        from: Some("2021-01-01"),
        to: Some("2023-12-31"),
    };
    filters.select(now).unwrap()
}

/// A full bucket: every statistic present, prices in the thousands of cents.
fn row(selection: &Selection, day: usize, seed: i64) -> BucketRow {
    let cents = 1_000 + (seed * 7_919 + day as i64 * 104_729) % 9_000;
    BucketRow {
        bucket_start: selection.buckets[day],
        observations: 31 + (seed as i32 % 7),
        fire_sales: 9,
        discounted: 20,
        p25_lo: Some(cents - 300),
        p25_hi: Some(cents - 250),
        p50_lo: Some(cents),
        p50_hi: Some(cents + 13),
        p75_lo: Some(cents + 400),
        p75_hi: Some(cents + 411),
        discount_p50_lo: Some(2_750),
        discount_p50_hi: Some(2_811),
        ..Default::default()
    }
}

fn tier_rows(selection: &Selection) -> Vec<BucketRow> {
    let mut rows = Vec::new();
    for (n, tier) in EfficiencyTier::ALL.iter().enumerate() {
        for day in 0..selection.buckets.len() {
            rows.push(BucketRow { tier: Some(tier.key().to_string()), ..row(selection, day, n as i64) });
        }
    }
    rows
}

fn model_rows(selection: &Selection, models: &HashMap<RigModelId, ModelInfo>) -> Vec<BucketRow> {
    let mut rows = Vec::new();
    for (n, id) in models.keys().enumerate() {
        for day in 0..selection.buckets.len() {
            rows.push(BucketRow { rig_model_id: Some(*id), ..row(selection, day, n as i64) });
        }
    }
    rows
}

fn fresh_series(c: &mut Criterion) {
    let tiers = selection(GroupBy::Tier);
    let models: HashMap<RigModelId, ModelInfo> = (0..31)
        .map(|n| (RigModelId::new(), ModelInfo { label: format!("Bitmain Antminer S{n} Pro"), tier: "25to38".into() }))
        .collect();
    let by_model = selection(GroupBy::Model);
    let mut group = c.benchmark_group("fresh series answer");
    group.sample_size(30);
    for (name, selection, rows) in [
        ("5 tiers x 3 years daily", &tiers, tier_rows(&tiers)),
        ("31 models x 3 years daily", &by_model, model_rows(&by_model, &models)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let series = series::keyed(selection, black_box(&rows), &models, series::has_observations);
                let body = render::price_series(selection, Basis::Asking, &series).unwrap();
                black_box((etag_of(&body), body))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fresh_series);
criterion_main!(benches);
