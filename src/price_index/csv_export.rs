//! CSV renderings of the series answers: a header row, then one row per point,
//! with the same numbers as the JSON (shortest round-trip decimal form; empty
//! for `null`).

use super::model::{FireSaleSeries, Series};

fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn finish(writer: csv::Writer<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    writer.into_inner().map_err(|err| anyhow::anyhow!("writing CSV: {err}"))
}

pub fn price_series(series: &[Series]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "key",
        "label",
        "bucket_start",
        "median_usd_per_th",
        "p25",
        "p75",
        "count",
        "median_discount_pct",
        "fire_sale_share",
    ])?;
    for one in series {
        for point in &one.points {
            writer.write_record([
                one.key.clone(),
                one.label.clone(),
                point.bucket_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                number(point.median_usd_per_th),
                number(point.p25),
                number(point.p75),
                point.count.to_string(),
                number(point.median_discount_pct),
                number(point.fire_sale_share),
            ])?;
        }
    }
    finish(writer)
}

pub fn fire_sale_series(series: &[FireSaleSeries]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "key",
        "label",
        "bucket_start",
        "new_listings",
        "fire_sales",
        "fire_sale_share",
        "median_discount_pct",
        "fire_sale_median_discount_pct",
    ])?;
    for one in series {
        for point in &one.points {
            writer.write_record([
                one.key.clone(),
                one.label.clone(),
                point.bucket_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                point.new_listings.to_string(),
                point.fire_sales.to_string(),
                number(point.fire_sale_share),
                number(point.median_discount_pct),
                number(point.fire_sale_median_discount_pct),
            ])?;
        }
    }
    finish(writer)
}
