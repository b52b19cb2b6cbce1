//! What a BTCPay webhook delivery carries, and proof that BTCPay sent it.
//!
//! BTCPay signs the exact request bytes: `BTCPay-Sig: sha256=<hex HMAC-SHA256
//! keyed by the webhook secret>`. Verify before parsing, on the raw body (a
//! re-serialised body would not match). A verified delivery still only says
//! "look at invoice X": the order is marked paid after
//! [`super::BtcpayClient::payment_check`] confirms it with the Greenfield API.
//!
//! Redeliveries (automatic retries and the "redeliver" button) get a fresh
//! `deliveryId` and carry the first one in `originalDeliveryId`, so
//! de-duplicate on [`WebhookEvent::dedup_key`], not on `delivery_id` alone.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The request header holding the signature.
pub const SIGNATURE_HEADER: &str = "BTCPay-Sig";

/// Test deliveries from BTCPay's "send test webhook" use ids wrapped in this.
const TEST_ID_MARKER: &str = "__test__";

/// True when `header` is `sha256=<hex>` (either case) and the hex is the
/// HMAC-SHA256 of `raw_body` under `secret`. Compared in constant time.
pub fn verify_signature(secret: &SecretString, raw_body: &[u8], header: Option<&str>) -> bool {
    let Some(digest_hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(digest) = hex::decode(digest_hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(raw_body);
    mac.verify_slice(&digest).is_ok()
}

/// The `type` of a delivery. Unknown types parse as [`WebhookEventType::Other`]
/// so that events added by newer BTCPay versions never fail a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum WebhookEventType {
    InvoiceCreated,
    InvoiceReceivedPayment,
    InvoicePaymentSettled,
    InvoiceProcessing,
    InvoiceExpired,
    InvoiceSettled,
    InvoiceInvalid,
    Other(String),
}

impl WebhookEventType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvoiceCreated => "InvoiceCreated",
            Self::InvoiceReceivedPayment => "InvoiceReceivedPayment",
            Self::InvoicePaymentSettled => "InvoicePaymentSettled",
            Self::InvoiceProcessing => "InvoiceProcessing",
            Self::InvoiceExpired => "InvoiceExpired",
            Self::InvoiceSettled => "InvoiceSettled",
            Self::InvoiceInvalid => "InvoiceInvalid",
            Self::Other(other) => other,
        }
    }
}

impl From<String> for WebhookEventType {
    fn from(value: String) -> Self {
        match value.as_str() {
            "InvoiceCreated" => Self::InvoiceCreated,
            "InvoiceReceivedPayment" => Self::InvoiceReceivedPayment,
            "InvoicePaymentSettled" => Self::InvoicePaymentSettled,
            "InvoiceProcessing" => Self::InvoiceProcessing,
            "InvoiceExpired" => Self::InvoiceExpired,
            "InvoiceSettled" => Self::InvoiceSettled,
            "InvoiceInvalid" => Self::InvoiceInvalid,
            _ => Self::Other(value),
        }
    }
}

impl From<WebhookEventType> for String {
    fn from(value: WebhookEventType) -> Self {
        match value {
            WebhookEventType::Other(other) => other,
            known => known.as_str().to_string(),
        }
    }
}

impl std::fmt::Display for WebhookEventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One webhook delivery (Greenfield `WebhookInvoiceEvent` and its subtypes).
/// The per-type flags are absent on the types that do not carry them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub delivery_id: String,
    pub webhook_id: String,
    /// The first delivery's id on a redelivery; null (or absent) otherwise.
    /// Old BTCPay versions misspelt the field `orignalDeliveryId`.
    #[serde(default, alias = "orignalDeliveryId")]
    pub original_delivery_id: Option<String>,
    #[serde(default)]
    pub is_redelivery: bool,
    #[serde(rename = "type")]
    pub kind: WebhookEventType,
    /// Unix seconds when the delivery was created.
    #[serde(with = "chrono::serde::ts_seconds")]
    pub timestamp: DateTime<Utc>,
    pub store_id: String,
    /// Absent on non-invoice events (payouts, payment requests).
    #[serde(default)]
    pub invoice_id: Option<String>,
    /// `InvoiceSettled` / `InvoiceInvalid`: an admin marked the invoice by hand.
    #[serde(default)]
    pub manually_marked: Option<bool>,
    /// `InvoiceSettled` / `InvoiceProcessing`.
    #[serde(default)]
    pub over_paid: Option<bool>,
    /// `InvoiceExpired`: some, but not all, of the amount arrived.
    #[serde(default)]
    pub partially_paid: Option<bool>,
    /// `InvoiceReceivedPayment` / `InvoicePaymentSettled`.
    #[serde(default)]
    pub after_expiration: Option<bool>,
}

impl WebhookEvent {
    /// The id shared by a delivery and all its redeliveries: the key to record
    /// so that a retried or replayed event is processed once.
    pub fn dedup_key(&self) -> &str {
        self.original_delivery_id.as_deref().filter(|id| !id.is_empty()).unwrap_or(&self.delivery_id)
    }

    /// A delivery from BTCPay's "send test webhook" button, about no real invoice.
    pub fn is_test(&self) -> bool {
        let marked = |id: &str| id.starts_with(TEST_ID_MARKER);
        self.invoice_id.as_deref().is_some_and(marked) || self.original_delivery_id.as_deref().is_some_and(marked)
    }
}

/// Parses a delivery body. Call only after [`verify_signature`] succeeded.
pub fn parse_webhook(raw: &[u8]) -> Result<WebhookEvent, serde_json::Error> {
    serde_json::from_slice(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "4Hf1uWJ6xTq2bS8f";
    // A delivery as BTCPay writes it (indented, camelCase, null when unset).
    const SETTLED: &str = r#"{
  "manuallyMarked": false,
  "overPaid": true,
  "deliveryId": "JR2fMHNQ8xYvTXrrYkqfY4",
  "webhookId": "Kv1dVZ7jn3YqtqZ6nbWjzR",
  "originalDeliveryId": null,
  "isRedelivery": false,
  "type": "InvoiceSettled",
  "timestamp": 1767603600,
  "storeId": "8Vbq3WxrC9aP",
  "invoiceId": "QvrBHwM6kV3nz8iTkyeU9f",
  "metadata": { "orderId": "0194a5f0-0000-7000-8000-000000000001" }
}"#;

    fn secret() -> SecretString {
        SecretString::from(SECRET.to_string())
    }

    fn signature(body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn good_signature_verifies_in_either_hex_case() {
        let header = signature(SETTLED.as_bytes());
        assert!(verify_signature(&secret(), SETTLED.as_bytes(), Some(&header)));
        let upper = format!("sha256={}", header["sha256=".len()..].to_uppercase());
        assert!(verify_signature(&secret(), SETTLED.as_bytes(), Some(&upper)));
    }

    #[test]
    fn tampered_body_or_wrong_secret_fails() {
        let header = signature(SETTLED.as_bytes());
        let tampered = SETTLED.replace("true", "false");
        assert!(!verify_signature(&secret(), tampered.as_bytes(), Some(&header)));
        let other = SecretString::from("another-secret".to_string());
        assert!(!verify_signature(&other, SETTLED.as_bytes(), Some(&header)));
    }

    #[test]
    fn missing_or_garbage_header_fails() {
        let body = SETTLED.as_bytes();
        let digest = signature(body)["sha256=".len()..].to_string();
        for header in [
            None,
            Some(""),
            Some("sha256="),
            Some(digest.as_str()),                       // no scheme
            Some(&*format!("sha1={digest}")),            // wrong scheme
            Some(&*format!("sha256={}", &digest[..62])), // truncated
            Some(&*format!("sha256={digest}00")),        // too long
            Some("sha256=zz11"),
            Some("sha256=ÿÿ"),
        ] {
            assert!(!verify_signature(&secret(), body, header), "{header:?}");
        }
    }

    #[test]
    fn parses_a_settled_delivery() {
        let event = parse_webhook(SETTLED.as_bytes()).unwrap();
        assert_eq!(event.kind, WebhookEventType::InvoiceSettled);
        assert_eq!(event.delivery_id, "JR2fMHNQ8xYvTXrrYkqfY4");
        assert_eq!(event.webhook_id, "Kv1dVZ7jn3YqtqZ6nbWjzR");
        assert_eq!(event.original_delivery_id, None);
        assert!(!event.is_redelivery);
        assert_eq!(event.timestamp.to_rfc3339(), "2026-01-05T09:00:00+00:00");
        assert_eq!(event.store_id, "8Vbq3WxrC9aP");
        assert_eq!(event.invoice_id.as_deref(), Some("QvrBHwM6kV3nz8iTkyeU9f"));
        assert_eq!((event.manually_marked, event.over_paid), (Some(false), Some(true)));
        assert_eq!((event.partially_paid, event.after_expiration), (None, None));
        assert_eq!(event.dedup_key(), "JR2fMHNQ8xYvTXrrYkqfY4");
        assert!(!event.is_test());
    }

    #[test]
    fn redelivery_dedups_on_the_original_id() {
        let body = r#"{"deliveryId":"second","webhookId":"w","orignalDeliveryId":"first","isRedelivery":true,
            "type":"InvoiceExpired","timestamp":1767603600,"storeId":"s","invoiceId":"i","partiallyPaid":true}"#;
        let event = parse_webhook(body.as_bytes()).unwrap();
        assert_eq!(event.kind, WebhookEventType::InvoiceExpired);
        assert!(event.is_redelivery);
        assert_eq!(event.dedup_key(), "first");
        assert_eq!(event.partially_paid, Some(true));
    }

    #[test]
    fn unknown_and_non_invoice_types_still_parse() {
        let body = r#"{"deliveryId":"d","webhookId":"w","type":"PayoutApproved","timestamp":1767603600,
            "storeId":"s","payoutId":"p","pullPaymentId":"pp","payoutState":"AwaitingPayment"}"#;
        let event = parse_webhook(body.as_bytes()).unwrap();
        assert_eq!(event.kind, WebhookEventType::Other("PayoutApproved".into()));
        assert_eq!(event.kind.to_string(), "PayoutApproved");
        assert_eq!(event.invoice_id, None);
        assert_eq!(event.dedup_key(), "d");
    }

    #[test]
    fn every_known_type_round_trips() {
        for name in [
            "InvoiceCreated",
            "InvoiceReceivedPayment",
            "InvoicePaymentSettled",
            "InvoiceProcessing",
            "InvoiceExpired",
            "InvoiceSettled",
            "InvoiceInvalid",
        ] {
            let kind = WebhookEventType::from(name.to_string());
            assert!(!matches!(kind, WebhookEventType::Other(_)), "{name}");
            assert_eq!(serde_json::to_value(&kind).unwrap(), name);
        }
    }

    #[test]
    fn test_deliveries_are_recognised() {
        let body = r#"{"deliveryId":"d","webhookId":"w","originalDeliveryId":"__test__5d1c__test__",
            "isRedelivery":false,"type":"InvoiceSettled","timestamp":1767603600,"storeId":"s",
            "invoiceId":"__test__9f2e__test__","manuallyMarked":false}"#;
        assert!(parse_webhook(body.as_bytes()).unwrap().is_test());
    }

    #[test]
    fn bodies_missing_required_fields_are_errors() {
        assert!(parse_webhook(b"not json").is_err());
        assert!(parse_webhook(br#"{"type":"InvoiceSettled"}"#).is_err());
        let no_timestamp = r#"{"deliveryId":"d","webhookId":"w","type":"InvoiceSettled","storeId":"s"}"#;
        assert!(parse_webhook(no_timestamp.as_bytes()).is_err());
    }
}
