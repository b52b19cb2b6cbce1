//! Order rows and the JSON shapes of the orders API.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state::{ActorRole, OrderStatus};
use crate::db::ids::{ListingId, OrderId, UserId};
use crate::db::schema::{order_events, orders};
use crate::db::text_enum;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: OrderId,
    pub listing_id: ListingId,
    pub buyer_id: UserId,
    pub seller_id: UserId,
    pub status: OrderStatus,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub total_cents: i64,
    pub fee_bps: i32,
    pub fee_cents: i64,
    pub currency: String,
    pub reference_unit_price_cents: Option<i64>,
    pub discount_bps: Option<i64>,
    pub payment_method: PaymentMethod,
    pub payment_reference: String,
    pub btcpay_invoice_id: Option<String>,
    pub btcpay_checkout_url: Option<String>,
    pub shipping_address: serde_json::Value,
    pub inspection_days: i32,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub pay_by: DateTime<Utc>,
    pub ship_by: Option<DateTime<Utc>>,
    pub auto_refund_at: Option<DateTime<Utc>>,
    pub auto_delivery_at: Option<DateTime<Utc>>,
    pub inspect_until: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_amount_cents: Option<i64>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub disputed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub refund_cents: Option<i64>,
    pub seller_credit_cents: Option<i64>,
    pub platform_fee_cents: Option<i64>,
    pub dispute_reason: Option<String>,
    pub dispute_description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Agreed in an offer (0 for orders at the asking price).
    pub doa_allowance_pct: i32,
    /// Agreed in an offer: the ship deadline may not fall after it.
    pub agreed_ship_by: Option<DateTime<Utc>>,
    /// The offer thread this order was made from (no foreign key: offers sit above orders).
    pub offer_thread_id: Option<uuid::Uuid>,
    /// The seller answers the buyer's unit rejections by then, or they count as accepted.
    pub rejections_answer_by: Option<DateTime<Utc>>,
}

impl OrderRow {
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// The role `user` plays in this order, if any (admins are not parties).
    pub fn party_role(&self, user: UserId) -> Option<ActorRole> {
        if user == self.buyer_id {
            Some(ActorRole::Buyer)
        } else if user == self.seller_id {
            Some(ActorRole::Seller)
        } else {
            None
        }
    }
}

text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PaymentMethod {
        /// A bank transfer quoting the order's reference, confirmed by an admin.
        Wire = "wire",
        /// A BTCPay Server invoice, confirmed by its signed webhook.
        Btcpay = "btcpay",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Prairie Hash Co.", "line1": "4100 FM 1788", "line2": "Dock 3", "city": "Midland", "postal_code": "79706",
    "country": "US", "phone": "+1 432 555 0142"
}))]
pub struct ShippingAddress {
    #[schema(example = "Aigerim Nurlanovna")]
    pub name: String,
    #[schema(example = "12 Industrial Zone")]
    pub line1: String,
    pub line2: Option<String>,
    #[schema(example = "Ekibastuz")]
    pub city: String,
    #[schema(example = "141200")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "KZ")]
    pub country: String,
    #[schema(example = "+7 701 555 0101")]
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "display_name": "Altai Hosting"}))]
pub struct PartySummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "method": "wire", "reference": "RM-7KQ4-X2MD",
    "instructions": "Wire the total in USD to: rigmarket Escrow Ltd, IBAN GB00 RIGM 0000 0000 0000 00, BIC RIGMGB2L. Quote the reference exactly; payments without it are returned. Reference: RM-7KQ4-X2MD.",
    "paid_at": "2026-05-12T09:41:00Z", "paid_amount_cents": 1900000
}))]
pub struct PaymentView {
    pub method: PaymentMethod,
    /// Quote it on the wire transfer.
    #[schema(example = "RM-7KQ4-X2MD")]
    pub reference: String,
    /// Wire orders: where to send the money.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// BTCPay orders: the invoice's checkout page (`null` while it is being created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_url: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_amount_cents: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "pay_by": "2026-05-13T14:20:00Z", "ship_by": "2026-05-19T09:41:00Z", "auto_refund_at": "2026-05-26T09:41:00Z",
    "auto_delivery_at": "2026-06-05T07:30:00Z", "inspect_until": "2026-06-04T16:00:00Z"
}))]
pub struct Deadlines {
    pub pay_by: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_by: Option<DateTime<Utc>>,
    /// After a missed `ship_by`, the buyer is refunded automatically at this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_refund_at: Option<DateTime<Utc>>,
    /// A shipped order counts as delivered at this time unless the buyer confirms earlier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_delivery_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspect_until: Option<DateTime<Utc>>,
    /// The seller answers the buyer's unit rejections by then, or they count as accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejections_answer_by: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "carrier": "DHL Freight", "tracking_number": "JD014600006281234567", "shipped_at": "2026-05-15T07:30:00Z"
}))]
pub struct ShipmentView {
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "reason": "hashrate_shortfall",
    "description": "The delivery proof measured 2.09 PH/s for 20 units sold as 2.2 PH/s; three units hash on two of three boards.",
    "opened_at": "2026-06-02T10:15:00Z"
}))]
pub struct DisputeView {
    #[schema(example = "hashrate_shortfall")]
    pub reason: String,
    pub description: String,
    pub opened_at: DateTime<Utc>,
}

/// How the escrow was distributed when the order closed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"refund_cents": 285000, "seller_credit_cents": 1582700, "platform_fee_cents": 32300}))]
pub struct SettlementView {
    pub refund_cents: i64,
    pub seller_credit_cents: i64,
    pub platform_fee_cents: i64,
}

/// An order as its parties and admins see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "listing_title": "120x S19 Pro, Ekibastuz, must go by July 15",
    "buyer": {"id": "0192f6e8-71c4-7a93-b2d5-0e4f8a6c3d21", "display_name": "Prairie Hash Co."},
    "seller": {"id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "display_name": "Altai Hosting"}, "quantity": 20,
    "unit_price_cents": 95000, "subtotal_cents": 1900000, "fee_cents": 38000, "total_cents": 1900000, "currency": "USD",
    "status": "delivered", "reference_unit_price_cents": 172800, "discount_pct": 45.02,
    "payment": {
        "method": "wire", "reference": "RM-7KQ4-X2MD",
        "instructions": "Wire the total in USD to: rigmarket Escrow Ltd, IBAN GB00 RIGM 0000 0000 0000 00, BIC RIGMGB2L. Quote the reference exactly; payments without it are returned. Reference: RM-7KQ4-X2MD.",
        "paid_at": "2026-05-12T09:41:00Z", "paid_amount_cents": 1900000
    },
    "deadlines": {
        "pay_by": "2026-05-13T14:20:00Z", "ship_by": "2026-05-19T09:41:00Z", "auto_refund_at": "2026-05-26T09:41:00Z",
        "auto_delivery_at": "2026-06-05T07:30:00Z", "inspect_until": "2026-06-04T16:00:00Z"
    },
    "shipping_address": {
        "name": "Prairie Hash Co.", "line1": "4100 FM 1788", "line2": "Dock 3", "city": "Midland",
        "postal_code": "79706", "country": "US", "phone": "+1 432 555 0142"
    },
    "shipment": {
        "carrier": "DHL Freight", "tracking_number": "JD014600006281234567", "shipped_at": "2026-05-15T07:30:00Z"
    },
    "delivered_at": "2026-06-01T16:00:00Z", "dispute": null, "settlement": null, "doa_allowance_pct": 0,
    "agreed_ship_by": null, "offer_id": null, "created_at": "2026-05-11T14:20:00Z", "updated_at": "2026-06-01T16:00:00Z"
}))]
pub struct OrderView {
    #[schema(value_type = uuid::Uuid)]
    pub id: OrderId,
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    pub listing_title: String,
    pub buyer: PartySummary,
    pub seller: PartySummary,
    pub quantity: i32,
    #[schema(example = 95000)]
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    /// The platform fee on a full release, taken from the seller's side.
    pub fee_cents: i64,
    /// What the buyer pays.
    pub total_cents: i64,
    #[schema(example = "USD")]
    pub currency: String,
    pub status: OrderStatus,
    /// The model's reference unit price when the order was placed.
    pub reference_unit_price_cents: Option<i64>,
    /// `1 - unit_price / reference` in percent, when the order was placed.
    pub discount_pct: Option<f64>,
    pub payment: PaymentView,
    pub deadlines: Deadlines,
    pub shipping_address: ShippingAddress,
    pub shipment: Option<ShipmentView>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub dispute: Option<DisputeView>,
    pub settlement: Option<SettlementView>,
    /// Units the buyer accepts dead on arrival without a refund, in percent (agreed in an offer; else 0).
    pub doa_allowance_pct: i32,
    /// The ship-by date agreed in an offer; `deadlines.ship_by` never falls after it.
    pub agreed_ship_by: Option<DateTime<Utc>>,
    /// The offer thread the order was made from.
    pub offer_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For a lot sold by serial: the order's units (reserved, then shipped ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<OrderUnit>>,
}

/// A unit of an order, by serial.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"serial": "HTM3X1234567", "status": "shipped"}))]
pub struct OrderUnit {
    pub serial: String,
    #[schema(value_type = String, example = "shipped")]
    pub status: crate::units::model::UnitStatus,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = order_events)]
#[schema(example = json!({
    "actor_id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "actor_role": "seller", "from_status": "paid",
    "to_status": "shipped", "reason": "shipped",
    "details": {"carrier": "DHL Freight", "tracking_number": "JD014600006281234567"},
    "created_at": "2026-05-15T07:30:00Z"
}))]
pub struct OrderEvent {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub actor_id: Option<UserId>,
    #[schema(example = "seller")]
    pub actor_role: String,
    #[schema(example = "paid")]
    pub from_status: Option<String>,
    #[schema(example = "shipped")]
    pub to_status: String,
    #[schema(example = "shipped")]
    pub reason: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Columns a transition may set besides the status (`None` leaves one alone).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = orders)]
pub struct OrderChanges {
    pub ship_by: Option<DateTime<Utc>>,
    pub auto_refund_at: Option<DateTime<Utc>>,
    pub auto_delivery_at: Option<DateTime<Utc>>,
    pub inspect_until: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_amount_cents: Option<i64>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub disputed_at: Option<DateTime<Utc>>,
    pub dispute_reason: Option<String>,
    pub dispute_description: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub refund_cents: Option<i64>,
    pub seller_credit_cents: Option<i64>,
    pub platform_fee_cents: Option<i64>,
    pub rejections_answer_by: Option<DateTime<Utc>>,
}

/// A new order as placement writes it: the buyer's request and a snapshot of
/// the listing's terms. `None` is written as NULL, not `DEFAULT` (none of these
/// columns has another default), so the INSERT's text never varies and it is a
/// cached prepared statement.
#[derive(Debug, Insertable)]
#[diesel(table_name = orders, treat_none_as_default_value = false)]
pub struct NewOrder<'a> {
    pub id: OrderId,
    pub listing_id: ListingId,
    pub buyer_id: UserId,
    pub seller_id: UserId,
    pub status: OrderStatus,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub total_cents: i64,
    pub fee_bps: i32,
    pub fee_cents: i64,
    pub currency: &'a str,
    pub reference_unit_price_cents: Option<i64>,
    pub discount_bps: Option<i64>,
    pub payment_method: PaymentMethod,
    pub payment_reference: String,
    pub shipping_address: serde_json::Value,
    pub inspection_days: i32,
    pub pay_by: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub doa_allowance_pct: i32,
    pub agreed_ship_by: Option<DateTime<Utc>>,
    pub offer_thread_id: Option<uuid::Uuid>,
}
