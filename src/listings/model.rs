//! Listing rows and the JSON shapes of the listings API.

use crate::price_index::observations::{LotFacts, Price};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::lifecycle::ListingStatus;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::{ListingId, RigModelId, UserId};
use crate::db::schema::{condition_reports, listing_flags, listing_photos, listing_price_changes, listings};
use crate::db::text_enum;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listings)]
pub struct ListingRow {
    pub id: ListingId,
    pub seller_id: UserId,
    pub rig_model_id: RigModelId,
    pub manufacturer_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: ListingStatus,
    pub rejection_reason: Option<String>,
    pub quantity: i32,
    pub quantity_reserved: i32,
    pub quantity_sold: i32,
    pub quantity_available: i32,
    pub unit_price_cents: i64,
    pub currency: String,
    pub country: String,
    pub region: Option<String>,
    pub incoterm: Option<String>,
    pub lead_time_days: Option<i32>,
    pub inspection_days: i32,
    pub serial_numbers: Vec<String>,
    pub hosting_facility: Option<String>,
    pub hosting_country: Option<String>,
    pub hosting_contract_ends_on: Option<NaiveDate>,
    pub power_off_at: Option<DateTime<Utc>>,
    pub model_hashrate_hs: i64,
    pub model_efficiency_j_per_th: f64,
    pub model_tier: String,
    pub usd_per_th_cents: i64,
    pub reference_unit_price_cents: Option<i64>,
    pub discount_bps: Option<i64>,
    pub discount_rank: i64,
    pub published_reference_unit_price_cents: Option<i64>,
    pub published_discount_bps: Option<i64>,
    pub latest_condition_grade: Option<String>,
    pub hashrate_verified_until: Option<DateTime<Utc>>,
    /// Measured H/s per unit of the latest verified proof (while it is valid).
    pub verified_unit_hashrate_hs: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Units registered by serial (kept by the units); a lot with any is sold by serial.
    pub serial_units: i32,
    pub offers_enabled: bool,
    pub offer_floor_unit_price_cents: Option<i64>,
    pub offer_floor_discount_pct: Option<i32>,
    pub auto_accept_unit_price_cents: Option<i64>,
    /// Percent of an order's units the buyer takes dead on arrival without a refund.
    pub doa_allowance_pct: i32,
}

impl ListingRow {
    /// The lot's units are registered one by one (the units capability keeps the count).
    pub fn sold_by_serial(&self) -> bool {
        self.serial_units > 0
    }

    /// The listing's offer settings (the offers capability applies them).
    pub fn offer_settings(&self) -> super::offer_settings::OfferSettings {
        super::offer_settings::OfferSettings {
            enabled: self.offers_enabled,
            floor_unit_price_cents: self.offer_floor_unit_price_cents,
            floor_discount_pct: self.offer_floor_discount_pct,
            auto_accept_unit_price_cents: self.auto_accept_unit_price_cents,
        }
    }

    /// The lot as the price index records it at `at`.
    pub fn lot_facts(&self, at: DateTime<Utc>) -> LotFacts {
        let verified = self.hashrate_verified_until.is_some_and(|until| until > at);
        LotFacts {
            listing_id: self.id,
            rig_model_id: self.rig_model_id,
            tier: self.model_tier.clone(),
            country: self.country.clone(),
            hashrate_hs: self.model_hashrate_hs,
            verified_unit_hashrate_hs: self.verified_unit_hashrate_hs.filter(|_| verified),
        }
    }

    /// The whole lot's asking price at `at`, against the reference it carries.
    pub fn asking_price(&self, at: DateTime<Utc>) -> Price {
        Price {
            units: self.quantity,
            unit_price_cents: self.unit_price_cents,
            reference_unit_price_cents: self.reference_unit_price_cents,
            at,
        }
    }

    pub fn status(&self) -> ListingStatus {
        self.status
    }
}

/// Incoterms 2020.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Incoterm {
    EXW,
    FCA,
    FAS,
    FOB,
    CFR,
    CIF,
    CPT,
    CIP,
    DAP,
    DPU,
    DDP,
}

impl Incoterm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EXW => "EXW",
            Self::FCA => "FCA",
            Self::FAS => "FAS",
            Self::FOB => "FOB",
            Self::CFR => "CFR",
            Self::CIF => "CIF",
            Self::CPT => "CPT",
            Self::CIP => "CIP",
            Self::DAP => "DAP",
            Self::DPU => "DPU",
            Self::DDP => "DDP",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Currency {
    USD,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "facility": "Ekibastuz DC-2", "country": "KZ", "contract_ends_on": "2026-07-31",
    "power_off_at": "2026-07-15T00:00:00Z"
}))]
pub struct Hosting {
    /// The hosting facility the rigs are in.
    #[schema(example = "Ekibastuz DC-2")]
    pub facility: String,
    #[schema(example = "KZ")]
    pub country: String,
    #[schema(example = "2021-07-31")]
    pub contract_ends_on: Option<NaiveDate>,
    /// When the rigs must be out (powered off); the listing expires then.
    #[schema(example = "2021-07-15T00:00:00Z")]
    pub power_off_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "display_name": "Altai Hosting",
    "reputation": {"average_rating": 4.67, "review_count": 12, "completed_sales": 15}
}))]
pub struct SellerSummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub display_name: String,
    pub reputation: crate::accounts::Reputation,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f5c2-9a0b-7d31-8e44-1c2b3d4e5f60", "manufacturer": "Bitmain", "name": "Antminer S19 Pro",
    "hashrate_ths": 110.0, "hashrate_hs": 110000000000000_i64, "power_w": 3250, "efficiency_j_per_th": 29.5,
    "tier": "25to38"
}))]
pub struct ListingModelSummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: RigModelId,
    #[schema(example = "Bitmain")]
    pub manufacturer: String,
    #[schema(example = "Antminer S19 Pro")]
    pub name: String,
    #[schema(example = 110.0)]
    pub hashrate_ths: f64,
    pub hashrate_hs: i64,
    #[schema(example = 3250)]
    pub power_w: i32,
    #[schema(example = 29.5)]
    pub efficiency_j_per_th: f64,
    pub tier: EfficiencyTier,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "report_id": "0192f7b2-5d4c-7f13-9a6e-8b7c6d5e4f31", "version": 2, "cosmetic_grade": "B", "hashboards_working": 3,
    "hashboards_total": 3, "fans_working": 4, "fans_total": 4, "author_role": "seller",
    "created_at": "2026-05-04T08:25:00Z"
}))]
pub struct ConditionSummary {
    pub report_id: Uuid,
    pub version: i32,
    #[schema(example = "B")]
    pub cosmetic_grade: String,
    pub hashboards_working: i32,
    pub hashboards_total: i32,
    pub fans_working: i32,
    pub fans_total: i32,
    #[schema(example = "seller")]
    pub author_role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f7a9-1e2d-7c3b-8a4f-5e6d7c8b9a02", "content_type": "image/jpeg", "size_bytes": 2483117,
    "url": "https://rigmarket-media.s3.eu-central-1.amazonaws.com/listings/0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01/photos/0192f7a9-1e2d-7c3b-8a4f-5e6d7c8b9a02.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260504%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260504T081500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
}))]
pub struct PhotoView {
    pub id: Uuid,
    pub content_type: String,
    pub size_bytes: i64,
    /// A short-lived signed URL (15 minutes).
    pub url: String,
}

/// A listing as buyers and sellers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "seller": {
        "id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "display_name": "Altai Hosting",
        "reputation": {"average_rating": 4.67, "review_count": 12, "completed_sales": 15}
    },
    "status": "active", "title": "120x S19 Pro, Ekibastuz, must go by July 15",
    "description": "Farm exit: 120 Antminer S19 Pro 110 TH/s from one hall, run on air at 18-22 C since 2023. All boards hashing, stock firmware. Pallets of 12, loaded at the door (EXW).",
    "rig_model": {
        "id": "0192f5c2-9a0b-7d31-8e44-1c2b3d4e5f60", "manufacturer": "Bitmain", "name": "Antminer S19 Pro",
        "hashrate_ths": 110.0, "hashrate_hs": 110000000000000_i64, "power_w": 3250, "efficiency_j_per_th": 29.5,
        "tier": "25to38"
    },
    "quantity": 120, "quantity_available": 96, "quantity_reserved": 20, "quantity_sold": 4, "unit_price_cents": 95000,
    "currency": "USD", "reference_unit_price_cents": 172800, "discount_pct": 45.02,
    "discount_at_publication_pct": 41.26, "fire_sale": true, "usd_per_th_cents": 864, "usd_per_th": 8.64,
    "usd_per_verified_th": 8.79, "country": "KZ", "region": "Pavlodar Region", "incoterm": "EXW", "lead_time_days": 3,
    "inspection_days": 3, "doa_allowance_pct": 2,
    "hosting": {
        "facility": "Ekibastuz DC-2", "country": "KZ", "contract_ends_on": "2026-07-31",
        "power_off_at": "2026-07-15T00:00:00Z"
    },
    "serial_numbers": ["JYZZB3NBCJHJB0ZK1", "JYZZB3NBCJHJB0ZK2"],
    "condition": {
        "report_id": "0192f7b2-5d4c-7f13-9a6e-8b7c6d5e4f31", "version": 2, "cosmetic_grade": "B",
        "hashboards_working": 3, "hashboards_total": 3, "fans_working": 4, "fans_total": 4, "author_role": "seller",
        "created_at": "2026-05-04T08:25:00Z"
    },
    "hashrate_proof": {
        "id": "0192f7d9-6c3a-7e85-b1f2-3a4b5c6d7e8f", "status": "verified", "claimed_hashrate_hs": 440000000000000_i64,
        "estimated_hashrate_hs": 432300000000000.0, "ci95_low_hs": 411191410515846.0, "ci95_high_hs": 454211283181737.0,
        "ended_at": "2026-05-05T09:10:00Z", "valid_until": "2026-06-04T09:10:00Z"
    },
    "photos": [
        {
            "id": "0192f7a9-1e2d-7c3b-8a4f-5e6d7c8b9a02", "content_type": "image/jpeg", "size_bytes": 2483117,
            "url": "https://rigmarket-media.s3.eu-central-1.amazonaws.com/listings/0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01/photos/0192f7a9-1e2d-7c3b-8a4f-5e6d7c8b9a02.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260504%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260504T081500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        }
    ],
    "rejection_reason": null, "created_at": "2026-05-04T08:12:00Z", "submitted_at": "2026-05-04T08:30:00Z",
    "published_at": "2026-05-04T10:05:00Z",
    "offers": {"enabled": true, "floor_unit_price_cents": null, "floor_discount_pct": 30}
}))]
pub struct ListingView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ListingId,
    pub seller: SellerSummary,
    pub status: ListingStatus,
    pub rejection_reason: Option<String>,
    #[schema(example = "120x S19 Pro, Ekibastuz, must go by July 15")]
    pub title: String,
    pub description: String,
    pub rig_model: ListingModelSummary,
    pub quantity: i32,
    pub quantity_available: i32,
    pub quantity_reserved: i32,
    pub quantity_sold: i32,
    #[schema(example = 95000)]
    pub unit_price_cents: i64,
    pub currency: Currency,
    /// USD per nominal TH/s, in cents and as a number.
    pub usd_per_th_cents: i64,
    #[schema(example = 8.64)]
    pub usd_per_th: f64,
    /// The model's effective reference price today (`null` when none exists).
    pub reference_unit_price_cents: Option<i64>,
    /// `1 - unit_price / reference` in percent, today.
    #[schema(example = 45.03)]
    pub discount_pct: Option<f64>,
    /// The same at publication.
    pub discount_at_publication_pct: Option<f64>,
    /// `discount_pct >= RIGMARKET_FIRE_SALE_THRESHOLD_PCT`.
    pub fire_sale: bool,
    #[schema(example = "KZ")]
    pub country: String,
    pub region: Option<String>,
    pub incoterm: Option<Incoterm>,
    pub lead_time_days: Option<i32>,
    pub inspection_days: i32,
    /// Percent of an order's units (rounded down) the buyer takes dead on arrival without a refund.
    pub doa_allowance_pct: i32,
    pub serial_numbers: Vec<String>,
    pub hosting: Option<Hosting>,
    /// The latest condition report, summarised.
    pub condition: Option<ConditionSummary>,
    pub photos: Vec<PhotoView>,
    /// The latest hashrate proof of the listing (`null` until one is requested).
    pub hashrate_proof: Option<super::decorations::ProofSummary>,
    /// USD per measured TH/s, while a verified proof is valid.
    pub usd_per_verified_th: Option<f64>,
    /// Whether buyers may make offers, and the floor below which they are declined.
    pub offers: super::offer_settings::OfferTermsView,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = listing_price_changes)]
#[schema(example = json!({"old_price_cents": 101500, "new_price_cents": 95000, "changed_at": "2026-05-09T06:00:00Z"}))]
pub struct PriceChange {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    pub old_price_cents: i64,
    pub new_price_cents: i64,
    #[serde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub changed_by: UserId,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = condition_reports)]
#[schema(example = json!({
    "id": "0192f7b2-5d4c-7f13-9a6e-8b7c6d5e4f31", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01", "version": 2,
    "author_id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "author_role": "seller", "cosmetic_grade": "B",
    "hashboards_total": 3, "hashboards_working": 3, "fans_total": 4, "fans_working": 4, "psu_included": true,
    "psu_model": "APW12", "firmware": "stock", "firmware_version": "Antminer-S19-Pro-20230215",
    "cooling_history": "air", "operating_hours": 19420, "last_hashrate_hs": 108700000000000_i64, "last_power_w": 3262,
    "max_chip_temp_c": 78, "repairs": "Fan 2 replaced in March 2026.",
    "notes": "Dust cleaned before the photos; light scratches on the top cover.", "created_at": "2026-05-04T08:25:00Z"
}))]
pub struct ConditionReport {
    pub id: Uuid,
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    pub version: i32,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: UserId,
    #[schema(example = "seller")]
    pub author_role: String,
    #[schema(example = "B")]
    pub cosmetic_grade: String,
    pub hashboards_total: i32,
    pub hashboards_working: i32,
    pub fans_total: i32,
    pub fans_working: i32,
    pub psu_included: bool,
    pub psu_model: Option<String>,
    #[schema(example = "stock")]
    pub firmware: String,
    pub firmware_version: Option<String>,
    #[schema(example = "air")]
    pub cooling_history: String,
    pub operating_hours: Option<i32>,
    pub last_hashrate_hs: Option<i64>,
    pub last_power_w: Option<i32>,
    pub max_chip_temp_c: Option<i32>,
    pub repairs: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

text_enum! {
    /// A photo upload: started, checked and shown, or deleted by its seller.
    pub enum PhotoStatus {
        Pending = "pending",
        Attached = "attached",
        Deleted = "deleted",
    }
}

text_enum! {
    /// A flag: waiting for a moderator, or resolved one way or the other.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FlagStatus {
        Open = "open",
        Dismissed = "dismissed",
        Unpublished = "unpublished",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listing_photos)]
pub struct PhotoRow {
    pub id: Uuid,
    pub listing_id: ListingId,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Option<String>,
    pub status: PhotoStatus,
    pub created_at: DateTime<Utc>,
    pub attached_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = listing_flags)]
#[schema(example = json!({
    "id": "0192f7e1-8c9d-7a0b-9c1d-2e3f4a5b6c7d", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "reporter_id": "0192f6f3-2a1b-7c4d-8e5f-6a7b8c9d0e1f", "reason": "misleading",
    "details": "The photos show S19j Pro labels, not S19 Pro.", "status": "dismissed",
    "created_at": "2026-05-06T12:40:00Z", "resolved_at": "2026-05-06T15:02:00Z",
    "resolved_by": "0192f6a0-0c1d-7f55-9e2a-4b3c6d8e1f02",
    "resolution_note": "Labels checked against the serials: these are S19 Pro units."
}))]
pub struct FlagView {
    pub id: Uuid,
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    /// `null` for flags the platform raises itself (serial checks).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub reporter_id: Option<UserId>,
    #[schema(example = "misleading")]
    pub reason: String,
    pub details: Option<String>,
    #[schema(value_type = String, example = "open")]
    pub status: FlagStatus,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The unit serial a platform flag is about.
    pub serial: Option<String>,
    /// The other lot a `duplicate_serial` flag links to.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub related_listing_id: Option<ListingId>,
}
