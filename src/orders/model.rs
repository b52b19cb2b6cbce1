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
pub struct PartySummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeView {
    #[schema(example = "hashrate_shortfall")]
    pub reason: String,
    pub description: String,
    pub opened_at: DateTime<Utc>,
}

/// How the escrow was distributed when the order closed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementView {
    pub refund_cents: i64,
    pub seller_credit_cents: i64,
    pub platform_fee_cents: i64,
}

/// An order as its parties and admins see it.
#[derive(Debug, Serialize, ToSchema)]
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = order_events)]
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
}

/// A new order as placement writes it: the buyer's request and a snapshot of
/// the listing's terms.
#[derive(Debug, Insertable)]
#[diesel(table_name = orders)]
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
}
