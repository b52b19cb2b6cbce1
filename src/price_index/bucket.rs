//! One bucket of the index as answers use it: its key columns, its start and
//! its statistics. Read by [`queries`](super::queries) (unpacked by
//! [`packed`](super::packed)), shaped by [`series`](super::series).

use chrono::NaiveDate;

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
