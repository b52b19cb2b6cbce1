//! Request bodies of the orders API and their validation (field errors are
//! collected so a client sees every problem at once).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{PaymentMethod, ShippingAddress};
use crate::db::ids::ListingId;
use crate::validation::Problems;

/// The largest lot one order may take.
pub const MAX_ORDER_QUANTITY: i32 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "quantity": 20,
    "payment_method": "wire",
    "shipping_address": {"name": "Aigerim Nurlanovna", "line1": "12 Industrial Zone", "city": "Ekibastuz",
                         "postal_code": "141200", "country": "KZ", "phone": "+7 701 555 0101"}
}))]
pub struct PlaceOrder {
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    pub quantity: i32,
    pub payment_method: PaymentMethod,
    pub shipping_address: ShippingAddress,
}

impl PlaceOrder {
    /// Trims the address and upper-cases its country so equal requests hash equal.
    pub fn normalized(mut self) -> Self {
        let a = &mut self.shipping_address;
        for field in [&mut a.name, &mut a.line1, &mut a.city, &mut a.postal_code, &mut a.phone] {
            *field = field.trim().to_string();
        }
        a.line2 = a.line2.take().map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
        a.country = a.country.trim().to_ascii_uppercase();
        self
    }

    pub fn validate(&self) -> Problems {
        let mut problems = Problems::default();
        if !(1..=MAX_ORDER_QUANTITY).contains(&self.quantity) {
            problems.add("quantity", format!("must be between 1 and {MAX_ORDER_QUANTITY}"));
        }
        let a = &self.shipping_address;
        problems.text("shipping_address.name", &a.name, 1, 120);
        problems.text("shipping_address.line1", &a.line1, 1, 200);
        problems.optional_text("shipping_address.line2", a.line2.as_deref(), 200);
        problems.text("shipping_address.city", &a.city, 1, 120);
        problems.text("shipping_address.postal_code", &a.postal_code, 1, 20);
        problems.country("shipping_address.country", &a.country);
        let digits = a.phone.chars().filter(char::is_ascii_digit).count();
        let phone_chars = a.phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !(6..=20).contains(&digits) || !phone_chars || a.phone.len() > 40 {
            problems.add("shipping_address.phone", "must be a phone number with 6 to 20 digits");
        }
        problems
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"carrier": "DHL Freight", "tracking_number": "JD014600006281234567"}))]
pub struct ShipOrder {
    pub carrier: String,
    pub tracking_number: String,
    /// Defaults to now; at most a week back, never in the future.
    pub shipped_at: Option<DateTime<Utc>>,
    /// For a lot sold by serial (required there): exactly the ordered quantity
    /// of serials, from the order's reserved units or the lot's available ones.
    pub serials: Option<Vec<String>>,
}

impl ShipOrder {
    pub fn validate(&self, paid_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Problems {
        let mut problems = Problems::default();
        problems.text("carrier", &self.carrier, 2, 80);
        problems.text("tracking_number", &self.tracking_number, 4, 80);
        if let Some(at) = self.shipped_at {
            if at > now + chrono::Duration::minutes(5) {
                problems.add("shipped_at", "cannot be in the future");
            } else if paid_at.is_some_and(|paid| at < paid - chrono::Duration::days(7)) {
                problems.add("shipped_at", "cannot be long before the payment");
            }
        }
        problems
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeReason {
    NotDelivered,
    NotAsDescribed,
    HashrateShortfall,
    Damaged,
    Other,
}

impl DisputeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotDelivered => "not_delivered",
            Self::NotAsDescribed => "not_as_described",
            Self::HashrateShortfall => "hashrate_shortfall",
            Self::Damaged => "damaged",
            Self::Other => "other",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "damaged", "description": "Two units arrived with cracked hashboards.",
                          "evidence_ids": []}))]
pub struct OpenDispute {
    pub reason: DisputeReason,
    pub description: String,
    /// Uploaded evidence files of this order (see `POST /v1/orders/{id}/evidence`).
    #[serde(default)]
    pub evidence_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refund_cents": 190000, "message": "Two boards are dead; I refund two units."}))]
pub struct SettlementOfferInput {
    pub refund_cents: i64,
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refund_cents": 95000, "note": "One unit did not hash; refunded pro rata."}))]
pub struct ResolveDispute {
    /// To the buyer; the rest of the escrow goes to the seller less the fee.
    pub refund_cents: i64,
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Buyer reported fraud; seller unreachable."}))]
pub struct AdminNote {
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_cents": 1900000, "received_at": "2021-06-02T10:15:00Z", "note": "SWIFT MT103 ref 88231"}))]
pub struct ConfirmPayment {
    pub amount_cents: i64,
    pub received_at: DateTime<Utc>,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> PlaceOrder {
        serde_json::from_value(serde_json::json!({
            "listing_id": Uuid::nil(), "quantity": 2, "payment_method": "wire",
            "shipping_address": {"name": " A ", "line1": "1 Road", "line2": " ", "city": "Almaty",
                                 "postal_code": "050000", "country": "kz", "phone": "+7 701 555 0101"}
        }))
        .unwrap()
    }

    fn fields(problems: &Problems) -> Vec<String> {
        problems.fields().into_iter().map(str::to_string).collect()
    }

    #[test]
    fn a_normalized_order_is_valid_and_hash_stable() {
        let order = order().normalized();
        assert!(order.validate().is_empty(), "{:?}", order.validate());
        assert_eq!(order.shipping_address.country, "KZ");
        assert_eq!(order.shipping_address.line2, None);
        assert_eq!(order.shipping_address.name, "A");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = order().normalized();
        bad.quantity = 0;
        bad.shipping_address.country = "XX".into();
        bad.shipping_address.phone = "call me".into();
        bad.shipping_address.city = String::new();
        assert_eq!(
            fields(&bad.validate()),
            vec!["quantity", "shipping_address.city", "shipping_address.country", "shipping_address.phone"]
        );
    }
}
