//! Catalog rows and the JSON shapes the API returns for them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::tiers::EfficiencyTier;
use crate::db::ids::{RigModelId, UserId};
use crate::db::schema::{reference_prices, rig_models};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rig_models)]
pub struct RigModelRow {
    pub id: RigModelId,
    pub manufacturer_id: Uuid,
    pub name: String,
    pub algorithm: String,
    pub hashrate_hs: i64,
    pub power_w: i32,
    pub release_year: Option<i16>,
    pub source: Option<String>,
    pub efficiency_j_per_th: f64,
    pub tier: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A rig model with its manufacturer's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f5c2-9a0b-7d31-8e44-1c2b3d4e5f60", "manufacturer_id": "0192f5c0-4e1a-7a22-8b33-4c55d66e7f80",
    "manufacturer": "Bitmain", "name": "Antminer S19 Pro", "algorithm": "SHA-256", "hashrate_hs": 110000000000000_i64,
    "hashrate_ths": 110.0, "power_w": 3250, "efficiency_j_per_th": 29.5, "tier": "25to38", "release_year": 2020,
    "source": "Mining Store S19 series guide; Glassnode",
    "reference": {"unit_price_cents": 172800, "currency": "USD", "origin": "model", "priced_on": "2026-05-01"}
}))]
pub struct RigModelView {
    #[schema(value_type = uuid::Uuid)]
    pub id: RigModelId,
    pub manufacturer_id: Uuid,
    #[schema(example = "Bitmain")]
    pub manufacturer: String,
    #[schema(example = "Antminer S19 Pro")]
    pub name: String,
    #[schema(example = "SHA-256")]
    pub algorithm: String,
    /// Nominal hashrate in H/s (integer; MH/s-class test rigs are allowed).
    #[schema(example = 110000000000000_i64)]
    pub hashrate_hs: i64,
    /// Nominal hashrate in TH/s, for display.
    #[schema(example = 110.0)]
    pub hashrate_ths: f64,
    #[schema(example = 3250)]
    pub power_w: i32,
    /// Power / hashrate, rounded to 0.1 J/TH.
    #[schema(example = 29.5)]
    pub efficiency_j_per_th: f64,
    pub tier: EfficiencyTier,
    pub release_year: Option<i16>,
    pub source: Option<String>,
    /// The effective reference price today (only on the single-model endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<EffectiveReference>,
}

impl RigModelView {
    pub fn from_row(row: RigModelRow, manufacturer: String) -> Self {
        Self {
            id: row.id,
            manufacturer_id: row.manufacturer_id,
            manufacturer,
            hashrate_ths: row.hashrate_hs as f64 / 1e12,
            efficiency_j_per_th: (row.efficiency_j_per_th * 10.0).round() / 10.0,
            tier: EfficiencyTier::from_key(&row.tier).unwrap_or(EfficiencyTier::Above68),
            name: row.name,
            algorithm: row.algorithm,
            hashrate_hs: row.hashrate_hs,
            power_w: row.power_w,
            release_year: row.release_year,
            source: row.source,
            reference: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceBasis {
    /// The amount is the price of one rig.
    Unit,
    /// The amount is the price of one nominal TH/s.
    Th,
}

impl PriceBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Th => "th",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "unit" => Some(Self::Unit),
            "th" => Some(Self::Th),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceSource {
    Manual,
    Import,
    TierIndex,
}

impl ReferenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Import => "import",
            Self::TierIndex => "tier_index",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = reference_prices)]
#[schema(example = json!({
    "id": "0192f5d8-6f7e-7d8c-9b0a-1c2d3e4f5a6b", "rig_model_id": "0192f5c2-9a0b-7d31-8e44-1c2b3d4e5f60",
    "priced_on": "2026-05-01", "basis": "unit", "amount_cents": 172800, "currency": "USD", "source": "manual",
    "note": "Median of three Shenzhen broker quotes, week 18.", "created_at": "2026-05-01T10:00:00Z"
}))]
pub struct ReferencePrice {
    pub id: Uuid,
    #[schema(value_type = uuid::Uuid)]
    pub rig_model_id: RigModelId,
    pub priced_on: NaiveDate,
    #[schema(example = "unit")]
    pub basis: String,
    pub amount_cents: i64,
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(example = "manual")]
    pub source: String,
    pub note: Option<String>,
    #[serde(skip)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = reference_prices)]
pub struct NewReferencePrice {
    pub id: Uuid,
    pub rig_model_id: RigModelId,
    pub priced_on: NaiveDate,
    pub basis: String,
    pub amount_cents: i64,
    pub source: String,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
}

/// Where a model's reference price on a date comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceOrigin {
    /// The model's own latest reference price.
    Model,
    /// The tier index $/TH for the model's efficiency band times its nominal TH.
    TierIndex,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "unit_price_cents": 172800, "currency": "USD", "origin": "model", "priced_on": "2026-05-01"
}))]
pub struct EffectiveReference {
    /// Reference price of one unit, in USD cents.
    #[schema(example = 1311750)]
    pub unit_price_cents: i64,
    pub currency: &'static str,
    pub origin: ReferenceOrigin,
    pub priced_on: NaiveDate,
    /// For `tier_index`: the band used (e.g. `under38`) and its $/TH in cents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_band: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_th_cents: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "effective": {"unit_price_cents": 172800, "currency": "USD", "origin": "model", "priced_on": "2026-05-01"},
    "items": [
        {
            "id": "0192f5d8-6f7e-7d8c-9b0a-1c2d3e4f5a6b", "rig_model_id": "0192f5c2-9a0b-7d31-8e44-1c2b3d4e5f60",
            "priced_on": "2026-05-01", "basis": "unit", "amount_cents": 172800, "currency": "USD", "source": "manual",
            "note": "Median of three Shenzhen broker quotes, week 18.", "created_at": "2026-05-01T10:00:00Z"
        }
    ]
}))]
pub struct ReferencePricesView {
    /// The reference used for discounts today (`null` when none exists).
    pub effective: Option<EffectiveReference>,
    /// The model's own reference prices, newest first (at most 500).
    pub items: Vec<ReferencePrice>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [
        {
            "id": "0192f5d8-6f7e-7d8c-9b0a-1c2d3e4f5a6b", "rig_model_id": "0192f5c2-9a0b-7d31-8e44-1c2b3d4e5f60",
            "priced_on": "2026-05-01", "basis": "unit", "amount_cents": 172800, "currency": "USD", "source": "manual",
            "note": "Median of three Shenzhen broker quotes, week 18.", "created_at": "2026-05-01T10:00:00Z"
        }
    ]
}))]
pub struct SavedReferencePrices {
    pub items: Vec<ReferencePrice>,
}
