//! The JSON shapes of the price-index API. Prices are US dollars per TH/s as JSON
//! numbers (exact `percentile_cont` of integer cents, divided by 100); discounts
//! are percent; shares are fractions in [0, 1]. A statistic of an empty set is
//! `null`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::params::{Basis, GroupBy};
use super::stats::Interval;
use crate::catalog::tiers::EfficiencyTier;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"tier": "25to38", "min_j_per_th": 25, "max_j_per_th": 38}))]
pub struct TierBandView {
    pub tier: EfficiencyTier,
    /// Inclusive lower bound, J/TH.
    #[schema(example = 25)]
    pub min_j_per_th: i32,
    /// Exclusive upper bound, J/TH (`null`: no upper bound).
    #[schema(example = 38)]
    pub max_j_per_th: Option<i32>,
}

/// One tier's index over the trailing window `(as_of - window_days, as_of]`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "tier": "25to38", "basis": "asking", "usd_per_th_median": 9.85, "usd_per_th_p25": 8.12, "usd_per_th_p75": 11.4,
    "count": 214, "window_days": 7, "as_of": "2026-05-11T08:00:00Z"
}))]
pub struct LatestTier {
    pub tier: EfficiencyTier,
    pub basis: Basis,
    #[schema(example = 43.2)]
    pub usd_per_th_median: Option<f64>,
    pub usd_per_th_p25: Option<f64>,
    pub usd_per_th_p75: Option<f64>,
    /// Observations in the window.
    pub count: i64,
    #[schema(example = 7)]
    pub window_days: i64,
    /// The end of the window: now, to the minute.
    pub as_of: DateTime<Utc>,
}

/// One bucket of a price series.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "bucket_start": "2026-05-04T00:00:00Z", "median_usd_per_th": 9.85, "p25": 8.12, "p75": 11.4, "count": 214,
    "median_discount_pct": 27.5, "fire_sale_share": 0.4
}))]
pub struct SeriesPoint {
    /// 00:00 UTC of the day, or of the Monday starting the ISO week.
    pub bucket_start: DateTime<Utc>,
    /// Median USD per nominal TH/s.
    #[schema(example = 38.5)]
    pub median_usd_per_th: Option<f64>,
    pub p25: Option<f64>,
    pub p75: Option<f64>,
    /// Observations in the bucket (0 for an empty bucket, whose statistics are `null`).
    pub count: i64,
    /// Median of `1 - price / reference` in percent, over the observations with a reference.
    #[schema(example = 27.5)]
    pub median_discount_pct: Option<f64>,
    /// Fire-sale observations / observations.
    #[schema(example = 0.4)]
    pub fire_sale_share: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "key": "25to38", "label": "25to38",
    "points": [
        {
            "bucket_start": "2026-05-04T00:00:00Z", "median_usd_per_th": 9.85, "p25": 8.12, "p75": 11.4, "count": 214,
            "median_discount_pct": 27.5, "fire_sale_share": 0.4
        },
        {
            "bucket_start": "2026-05-11T00:00:00Z", "median_usd_per_th": 9.2, "p25": 7.9, "p75": 10.65, "count": 187,
            "median_discount_pct": 31.2, "fire_sale_share": 0.47
        }
    ]
}))]
pub struct Series {
    /// The tier key, rig model id or country code.
    #[schema(example = "25to38")]
    pub key: String,
    /// Human-readable: the model's manufacturer and name; otherwise the key.
    pub label: String,
    pub points: Vec<SeriesPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "group_by": "tier", "basis": "asking", "interval": "week", "from": "2026-05-04T00:00:00Z",
    "to": "2026-05-18T00:00:00Z",
    "series": [
        {
            "key": "25to38", "label": "25to38",
            "points": [
                {
                    "bucket_start": "2026-05-04T00:00:00Z", "median_usd_per_th": 9.85, "p25": 8.12, "p75": 11.4,
                    "count": 214, "median_discount_pct": 27.5, "fire_sale_share": 0.4
                },
                {
                    "bucket_start": "2026-05-11T00:00:00Z", "median_usd_per_th": 9.2, "p25": 7.9, "p75": 10.65,
                    "count": 187, "median_discount_pct": 31.2, "fire_sale_share": 0.47
                }
            ]
        }
    ]
}))]
pub struct SeriesResponse {
    pub group_by: GroupBy,
    pub basis: Basis,
    pub interval: Interval,
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
    /// Keys with at least one observation in the range; each has every bucket of the range.
    pub series: Vec<Series>,
}

/// One bucket of the fire-sale series: new listings (publications) only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "bucket_start": "2026-05-04T00:00:00Z", "new_listings": 40, "fire_sales": 14, "fire_sale_share": 0.35,
    "median_discount_pct": 16.8, "fire_sale_median_discount_pct": 33.5
}))]
pub struct FireSalePoint {
    pub bucket_start: DateTime<Utc>,
    pub new_listings: i64,
    pub fire_sales: i64,
    /// Fire sales / new listings.
    #[schema(example = 0.35)]
    pub fire_sale_share: Option<f64>,
    /// Median discount of the new listings with a reference, percent.
    pub median_discount_pct: Option<f64>,
    /// Median discount of the fire sales, percent.
    pub fire_sale_median_discount_pct: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "key": "KZ", "label": "KZ",
    "points": [
        {
            "bucket_start": "2026-05-04T00:00:00Z", "new_listings": 40, "fire_sales": 14, "fire_sale_share": 0.35,
            "median_discount_pct": 16.8, "fire_sale_median_discount_pct": 33.5
        },
        {
            "bucket_start": "2026-05-11T00:00:00Z", "new_listings": 52, "fire_sales": 23, "fire_sale_share": 0.44,
            "median_discount_pct": 19.1, "fire_sale_median_discount_pct": 36.0
        }
    ]
}))]
pub struct FireSaleSeries {
    #[schema(example = "CN")]
    pub key: String,
    pub label: String,
    pub points: Vec<FireSalePoint>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "group_by": "country", "interval": "week", "from": "2026-05-04T00:00:00Z", "to": "2026-05-18T00:00:00Z",
    "series": [
        {
            "key": "KZ", "label": "KZ",
            "points": [
                {
                    "bucket_start": "2026-05-04T00:00:00Z", "new_listings": 40, "fire_sales": 14,
                    "fire_sale_share": 0.35, "median_discount_pct": 16.8, "fire_sale_median_discount_pct": 33.5
                },
                {
                    "bucket_start": "2026-05-11T00:00:00Z", "new_listings": 52, "fire_sales": 23,
                    "fire_sale_share": 0.44, "median_discount_pct": 19.1, "fire_sale_median_discount_pct": 36.0
                }
            ]
        }
    ]
}))]
pub struct FireSalesResponse {
    pub group_by: GroupBy,
    pub interval: Interval,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub series: Vec<FireSaleSeries>,
}
