//! The JSON bodies of series answers, written in one pass into one buffer sized
//! for them. A fresh answer of three years of daily buckets is 1 to 6 MB, and
//! through serde the model types cost more than the read: every point's date
//! formatted anew, every field name escaped, the buffer regrown and copied. Here
//! each bucket's `{"bucket_start":"…",` is written once per answer and copied
//! into every series, field names are literals, and numbers go through the same
//! formatters serde_json uses (`zmij`, `itoa`).
//!
//! The output is byte for byte what serde_json writes for [`SeriesResponse`] and
//! [`FireSalesResponse`], which stay the documented schema; the tests below
//! hold the two together.
//!
//! [`SeriesResponse`]: super::model::SeriesResponse
//! [`FireSalesResponse`]: super::model::FireSalesResponse

use serde::Serialize;

use super::params::{Basis, Selection};
use super::series::{fire_sale_point, price_point, Keyed};
use super::stats::midnight;

/// Bytes per point, a little above the longest a price point renders to, so
/// the buffer is allocated once.
const POINT_BYTES: usize = 192;

/// A `SeriesResponse` body for `series`, shaped from `selection`'s buckets.
pub fn price_series(selection: &Selection, basis: Basis, series: &[Keyed<'_>]) -> serde_json::Result<Vec<u8>> {
    let mut body = Body::new(selection, series)?;
    body.field_first("group_by", &selection.group_by)?;
    body.field("basis", &basis)?;
    body.head()?;
    body.series(series, |out, start, row| {
        let point = price_point(start, row);
        out.extend_from_slice(b"\"median_usd_per_th\":");
        number(out, point.median_usd_per_th);
        out.extend_from_slice(b",\"p25\":");
        number(out, point.p25);
        out.extend_from_slice(b",\"p75\":");
        number(out, point.p75);
        out.extend_from_slice(b",\"count\":");
        out.extend_from_slice(itoa::Buffer::new().format(point.count).as_bytes());
        out.extend_from_slice(b",\"median_discount_pct\":");
        number(out, point.median_discount_pct);
        out.extend_from_slice(b",\"fire_sale_share\":");
        number(out, point.fire_sale_share);
    })
}

/// A `FireSalesResponse` body for `series`, shaped from `selection`'s buckets.
pub fn fire_sale_series(selection: &Selection, series: &[Keyed<'_>]) -> serde_json::Result<Vec<u8>> {
    let mut body = Body::new(selection, series)?;
    body.field_first("group_by", &selection.group_by)?;
    body.head()?;
    body.series(series, |out, start, row| {
        let point = fire_sale_point(start, row);
        out.extend_from_slice(b"\"new_listings\":");
        out.extend_from_slice(itoa::Buffer::new().format(point.new_listings).as_bytes());
        out.extend_from_slice(b",\"fire_sales\":");
        out.extend_from_slice(itoa::Buffer::new().format(point.fire_sales).as_bytes());
        out.extend_from_slice(b",\"fire_sale_share\":");
        number(out, point.fire_sale_share);
        out.extend_from_slice(b",\"median_discount_pct\":");
        number(out, point.median_discount_pct);
        out.extend_from_slice(b",\"fire_sale_median_discount_pct\":");
        number(out, point.fire_sale_median_discount_pct);
    })
}

/// As serde_json writes an `Option<f64>`: `null` for none and for a value JSON
/// cannot hold.
fn number(out: &mut Vec<u8>, value: Option<f64>) {
    match value {
        Some(value) if value.is_finite() => out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes()),
        _ => out.extend_from_slice(b"null"),
    }
}

/// A body being written, with the opening of each bucket's point.
struct Body<'s> {
    out: Vec<u8>,
    selection: &'s Selection,
    /// `{"bucket_start":"2021-01-01T00:00:00Z",` for each bucket of the selection.
    openings: Vec<Vec<u8>>,
}

impl<'s> Body<'s> {
    fn new(selection: &'s Selection, series: &[Keyed<'_>]) -> serde_json::Result<Self> {
        let points = series.len() * selection.buckets.len();
        let mut out = Vec::with_capacity(512 + series.len() * 128 + points * POINT_BYTES);
        out.push(b'{');
        let openings = selection
            .buckets
            .iter()
            .map(|start| {
                let mut opening = b"{\"bucket_start\":".to_vec();
                serde_json::to_writer(&mut opening, &midnight(*start))?;
                opening.push(b',');
                Ok(opening)
            })
            .collect::<serde_json::Result<_>>()?;
        Ok(Self { out, selection, openings })
    }

    fn field_first(&mut self, name: &str, value: &impl Serialize) -> serde_json::Result<()> {
        serde_json::to_writer(&mut self.out, name)?;
        self.out.push(b':');
        serde_json::to_writer(&mut self.out, value)
    }

    fn field(&mut self, name: &str, value: &impl Serialize) -> serde_json::Result<()> {
        self.out.push(b',');
        self.field_first(name, value)
    }

    /// `interval`, `from` and `to`, which both answers share after their first fields.
    fn head(&mut self) -> serde_json::Result<()> {
        let selection = self.selection;
        self.field("interval", &selection.interval)?;
        self.field("from", &selection.range.from)?;
        self.field("to", &selection.range.to)
    }

    /// `"series":[…]}`: each series' key, label and points, a point's fields
    /// after `bucket_start` written by `point`.
    fn series(
        mut self,
        series: &[Keyed<'_>],
        point: impl Fn(&mut Vec<u8>, chrono::NaiveDate, Option<&super::bucket::BucketRow>),
    ) -> serde_json::Result<Vec<u8>> {
        self.out.extend_from_slice(b",\"series\":[");
        for (n, one) in series.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(b"{\"key\":");
            serde_json::to_writer(&mut self.out, &one.key)?;
            self.out.extend_from_slice(b",\"label\":");
            serde_json::to_writer(&mut self.out, &one.label)?;
            self.out.extend_from_slice(b",\"points\":[");
            for (at, (start, row)) in self.selection.buckets.iter().zip(&one.buckets).enumerate() {
                if at > 0 {
                    self.out.push(b',');
                }
                self.out.extend_from_slice(&self.openings[at]);
                point(&mut self.out, *start, *row);
                self.out.push(b'}');
            }
            self.out.extend_from_slice(b"]}");
        }
        self.out.extend_from_slice(b"]}");
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::db::ids::RigModelId;
    use crate::price_index::bucket::BucketRow;
    use crate::price_index::model::{FireSalesResponse, SeriesResponse};
    use crate::price_index::params::{Filters, GroupBy};
    use crate::price_index::queries::ModelInfo;
    use crate::price_index::series::{self, has_new_listings, has_observations, keyed};
    use crate::price_index::stats::Interval;

    fn selection(group_by: GroupBy, interval: Interval) -> Selection {
        let now = chrono::DateTime::parse_from_rfc3339("2021-07-01T00:00:00Z").unwrap().to_utc();
        let filters = Filters {
            group_by,
            tier: None,
            rig_model_id: None,
            country: None,
            interval,
            from: Some("2021-06-01T07:30:00+02:00"),
            to: Some("2021-06-20"),
        };
        filters.select(now).unwrap()
    }

    /// Rows with every kind of value: whole and fractional prices, a bucket
    /// with one observation (lo = hi), shares, empty statistics, huge cents,
    /// a label that needs escaping, and a row outside the range.
    fn rows(selection: &Selection) -> (Vec<BucketRow>, HashMap<RigModelId, ModelInfo>) {
        let model = RigModelId::new();
        let other = RigModelId::new();
        let models = HashMap::from([
            (model, ModelInfo { label: "Bitmain \"Antminer\" S19 Pro\n\u{1F525}".into(), tier: "25to38".into() }),
            (other, ModelInfo { label: "Canaan AvalonMiner 1246".into(), tier: "38to68".into() }),
        ]);
        let mut rows = Vec::new();
        for (n, start) in selection.buckets.iter().enumerate().step_by(2) {
            let n = n as i64;
            rows.push(BucketRow {
                tier: Some(["25to38", "under19", "above68"][n as usize % 3].into()),
                country: Some(["KZ", "US"][n as usize % 2].into()),
                rig_model_id: Some(if n % 4 == 0 { model } else { other }),
                bucket_start: *start,
                observations: (n % 5) as i32,
                fire_sales: (n % 3) as i32,
                discounted: (n % 4) as i32,
                p25_lo: Some(1_000 + n * 37),
                p25_hi: Some(1_001 + n * 41),
                p50_lo: Some(i64::MAX / 3 - n),
                p50_hi: Some(i64::MAX / 3),
                p75_lo: Some(2_500),
                p75_hi: (n % 3 != 0).then_some(2_533),
                discount_p50_lo: Some(-1_250 + n),
                discount_p50_hi: Some(3_333),
                new_listings: (n % 6) as i32,
                new_fire_sales: (n % 2) as i32,
                new_discounted: (n % 3) as i32,
                new_discount_p50_lo: Some(77),
                new_discount_p50_hi: Some(78 + n),
                new_fire_discount_p50_lo: (n % 2 == 0).then_some(4_000),
                new_fire_discount_p50_hi: Some(4_001),
            });
        }
        let outside = selection.buckets[0] - chrono::Days::new(1);
        rows.push(BucketRow { bucket_start: outside, observations: 3, new_listings: 3, ..rows[1].clone() });
        (rows, models)
    }

    #[test]
    fn bodies_are_what_serde_writes_for_the_documented_types() {
        for group_by in [GroupBy::Tier, GroupBy::Model, GroupBy::Country] {
            for interval in [Interval::Day, Interval::Week] {
                let selection = selection(group_by, interval);
                let (rows, models) = rows(&selection);
                let case = format!("{group_by:?} by {interval:?}");

                let prices = keyed(&selection, &rows, &models, has_observations);
                assert!(!prices.is_empty(), "{case}");
                let expected = SeriesResponse {
                    group_by,
                    basis: Basis::Settled,
                    interval,
                    from: selection.range.from,
                    to: selection.range.to,
                    series: series::price_series(&selection, &rows, &models),
                };
                let written = price_series(&selection, Basis::Settled, &prices).unwrap();
                assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&expected).unwrap(), "{case}");

                let fire_sales = keyed(&selection, &rows, &models, has_new_listings);
                let expected = FireSalesResponse {
                    group_by,
                    interval,
                    from: selection.range.from,
                    to: selection.range.to,
                    series: series::fire_sale_series(&selection, &rows, &models),
                };
                let written = fire_sale_series(&selection, &fire_sales).unwrap();
                assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&expected).unwrap(), "{case}");
            }
        }
    }

    #[test]
    fn an_answer_with_no_series_is_still_a_whole_body() {
        let selection = selection(GroupBy::Country, Interval::Week);
        let written = price_series(&selection, Basis::Asking, &[]).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&written).unwrap();
        assert_eq!(body["series"], serde_json::json!([]));
        assert_eq!(body["interval"], "week");
    }
}
