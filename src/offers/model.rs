//! Offer rows and the JSON shapes of the offers API.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::state::{Party, ThreadStatus};
use super::terms::Terms;
use crate::db::ids::{ListingId, OrderId, UserId};
use crate::db::schema::{offer_threads, offer_versions};
use crate::orders::model::{PartySummary, PaymentMethod, ShippingAddress};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offer_threads)]
pub struct ThreadRow {
    pub id: Uuid,
    pub listing_id: ListingId,
    pub buyer_id: UserId,
    pub seller_id: UserId,
    pub status: ThreadStatus,
    pub payment_method: PaymentMethod,
    pub shipping_address: serde_json::Value,
    pub latest_n: i32,
    pub latest_by: Party,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub expires_at: DateTime<Utc>,
    pub close_reason: Option<String>,
    pub close_note: Option<String>,
    pub order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl ThreadRow {
    /// The part `user` plays in this thread, if any.
    pub fn party_of(&self, user: UserId) -> Option<Party> {
        if user == self.buyer_id {
            Some(Party::Buyer)
        } else if user == self.seller_id {
            Some(Party::Seller)
        } else {
            None
        }
    }

    pub fn user_of(&self, party: Party) -> UserId {
        match party {
            Party::Buyer => self.buyer_id,
            Party::Seller => self.seller_id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offer_versions)]
pub struct VersionRow {
    pub thread_id: Uuid,
    pub n: i32,
    pub by_role: Party,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub doa_allowance_pct: i32,
    pub ship_by: Option<DateTime<Utc>>,
    pub message: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl VersionRow {
    /// The version `terms` describe; an allowance they leave out is `default_allowance_pct`.
    pub fn new(
        thread_id: Uuid,
        n: i32,
        by: Party,
        terms: &Terms,
        default_allowance_pct: i32,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            thread_id,
            n,
            by_role: by,
            quantity: terms.quantity,
            unit_price_cents: terms.unit_price_cents,
            doa_allowance_pct: terms.doa_allowance_pct.unwrap_or(default_allowance_pct),
            ship_by: terms.ship_by,
            message: terms.message.clone(),
            expires_at: now + terms.expiry(),
            created_at: now,
        }
    }
}

/// The first offer of a thread: its terms, and how the buyer will pay and where
/// the rigs go if it is accepted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "quantity": 600, "unit_price_cents": 78000, "doa_allowance_pct": 2, "ship_by": "2026-06-20T00:00:00Z",
    "message": "The whole lot if you ship before the power-off.", "expires_in": 172800, "payment_method": "wire",
    "shipping_address": {"name": "Prairie Hash Co.", "line1": "4100 FM 1788", "city": "Midland",
                         "postal_code": "79706", "country": "US", "phone": "+1 432 555 0142"}
}))]
pub struct MakeOffer {
    #[serde(flatten)]
    pub terms: Terms,
    /// How the buyer pays once the offer is accepted.
    pub payment_method: PaymentMethod,
    /// Where the rigs go once the offer is accepted.
    pub shipping_address: ShippingAddress,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "I have a buyer for the whole lot at the asking price."}))]
pub struct DeclineOffer {
    pub reason: Option<String>,
}

/// One offer or counter of a thread.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "n": 1, "by": "buyer", "quantity": 600, "unit_price_cents": 78000, "doa_allowance_pct": 2,
    "ship_by": "2026-06-20T00:00:00Z", "message": "The whole lot if you ship before the power-off.",
    "expires_at": "2026-06-03T09:00:00Z", "created_at": "2026-06-01T09:00:00Z"
}))]
pub struct VersionView {
    pub n: i32,
    pub by: Party,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub doa_allowance_pct: i32,
    pub ship_by: Option<DateTime<Utc>>,
    pub message: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<VersionRow> for VersionView {
    fn from(row: VersionRow) -> Self {
        Self {
            n: row.n,
            by: row.by_role,
            quantity: row.quantity,
            unit_price_cents: row.unit_price_cents,
            doa_allowance_pct: row.doa_allowance_pct,
            ship_by: row.ship_by,
            message: row.message,
            expires_at: row.expires_at,
            created_at: row.created_at,
        }
    }
}

/// An offer thread as its buyer and seller see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f9c1-7a2e-7d31-9b44-2c8e1f0a6d55", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "buyer": {"id": "0192f6e8-71c4-7a93-b2d5-0e4f8a6c3d21", "display_name": "Prairie Hash Co."},
    "seller": {"id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "display_name": "Altai Hosting"},
    "status": "accepted", "close_reason": null, "close_note": null, "payment_method": "wire",
    "versions": [
        {"n": 1, "by": "buyer", "quantity": 600, "unit_price_cents": 78000, "doa_allowance_pct": 2,
         "ship_by": "2026-06-20T00:00:00Z", "message": "The whole lot if you ship before the power-off.",
         "expires_at": "2026-06-03T09:00:00Z", "created_at": "2026-06-01T09:00:00Z"},
        {"n": 2, "by": "seller", "quantity": 600, "unit_price_cents": 82000, "doa_allowance_pct": 1,
         "ship_by": "2026-06-20T00:00:00Z", "message": null,
         "expires_at": "2026-06-03T15:00:00Z", "created_at": "2026-06-01T15:00:00Z"}
    ],
    "expires_at": "2026-06-03T15:00:00Z", "order_id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72",
    "created_at": "2026-06-01T09:00:00Z", "updated_at": "2026-06-01T18:00:00Z"
}))]
pub struct ThreadView {
    pub id: Uuid,
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    pub buyer: PartySummary,
    pub seller: PartySummary,
    pub status: ThreadStatus,
    /// Why the thread closed without an order: `declined`, `below_floor`,
    /// `expired`, `withdrawn`, `units_gone`, `listing_closed`.
    pub close_reason: Option<String>,
    /// The same in words (for `below_floor`, the floor).
    pub close_note: Option<String>,
    pub payment_method: PaymentMethod,
    /// Oldest first; the last one is the open version while the thread is open.
    pub versions: Vec<VersionView>,
    /// When the latest version expires.
    pub expires_at: DateTime<Utc>,
    /// The escrow order made when the thread was accepted.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
