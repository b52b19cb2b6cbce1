//! The Greenfield API client: create an invoice for an order, read it back, and
//! decide from BTCPay's own records whether it was paid in full.
//!
//! Endpoints used (all under `{url}/api/v1/stores/{storeId}`, authenticated with
//! `Authorization: token <api key>`): `POST /invoices`, `GET
//! /invoices/{invoiceId}` and `GET /invoices/{invoiceId}/payment-methods`.
//! Errors are classified for callers ([`BtcpayError`]); their text is for logs
//! and never meant for an HTTP client of rigmarket.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::amount::{cents_beyond_due, cents_to_decimal, decimal_is_positive, decimal_to_cents};
use super::BtcpayConfig;
use crate::db::ids::OrderId;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Enough of an error body to diagnose from the logs.
const MAX_ERROR_BODY: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum BtcpayError {
    /// Network failure, timeout, 5xx, 408/429: worth retrying later.
    #[error("BTCPay unavailable: {0}")]
    Unavailable(String),
    /// BTCPay refused the request (bad API key, unknown invoice, validation).
    #[error("BTCPay rejected the request with {status}: {body}")]
    Rejected { status: u16, body: String },
    /// BTCPay answered 2xx with something this client cannot read.
    #[error("BTCPay answer not understood: {0}")]
    Malformed(String),
}

/// What rigmarket asks BTCPay to collect for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRequest {
    pub order_id: OrderId,
    /// In hundredths of `currency` (a two-decimal currency such as USD or EUR).
    pub amount_cents: i64,
    pub currency: String,
    pub buyer_email: Option<String>,
    /// Defaults to the store's invoice expiration when unset.
    pub expiration_minutes: Option<i64>,
    /// Where the checkout page sends the buyer back after paying.
    pub redirect_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    /// BTCPay's checkout page for the buyer.
    pub checkout_link: String,
    /// Greenfield status as sent (`New`, `Processing`, `Expired`, `Invalid`, `Settled`).
    pub status: String,
    pub amount_cents: i64,
    pub currency: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatus {
    New,
    Processing,
    Expired,
    Invalid,
    Settled,
}

impl InvoiceStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "New" => Some(Self::New),
            "Processing" => Some(Self::Processing),
            "Expired" => Some(Self::Expired),
            "Invalid" => Some(Self::Invalid),
            "Settled" => Some(Self::Settled),
            _ => None,
        }
    }
}

/// BTCPay's own view of an invoice, read when a webhook (or a user) says it
/// changed. Compare `order_id`, `amount_cents` and `currency` with the order
/// before trusting `fully_paid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentCheck {
    pub invoice_id: String,
    pub status: InvoiceStatus,
    /// `None`, `PaidPartial`, `PaidOver`, `PaidLate`, `Marked` or `Invalid`.
    pub additional_status: String,
    pub amount_cents: i64,
    pub currency: String,
    /// `metadata.orderId`, when it is a UUID (invoices rigmarket created).
    pub order_id: Option<OrderId>,
    /// Settled, and every payment method shows nothing left to pay. Overpaid
    /// counts; underpaid, expired, invalid, unconfirmed or marked settled by
    /// hand without the money arriving do not.
    pub fully_paid: bool,
    /// What arrived, in cents of `currency` at the invoice's rate (rounded down):
    /// more than `amount_cents` when overpaid, less when part of it came. Read
    /// from the payment methods of a settled, expired or invalid invoice;
    /// `None` for others, or when BTCPay gave no readable rate.
    pub paid_cents: Option<i64>,
}

/// Cheap to clone: the HTTP connection pool and the config are shared.
#[derive(Debug, Clone)]
pub struct BtcpayClient {
    http: reqwest::Client,
    config: Arc<BtcpayConfig>,
    authorization: HeaderValue,
}

impl BtcpayClient {
    pub fn new(config: &BtcpayConfig) -> Result<Self, BtcpayError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // The API never redirects; following one could carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rigmarket/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BtcpayError::Unavailable(format!("building the HTTP client: {e}")))?;
        let mut authorization = HeaderValue::from_str(&format!("token {}", config.api_key.expose_secret()))
            .map_err(|_| BtcpayError::Malformed("the API key is not a valid header value".into()))?;
        authorization.set_sensitive(true);
        Ok(Self { http, config: Arc::new(config.clone()), authorization })
    }

    pub fn config(&self) -> &BtcpayConfig {
        &self.config
    }

    pub fn webhook_secret(&self) -> &SecretString {
        &self.config.webhook_secret
    }

    pub async fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BtcpayError> {
        let body = CreateInvoiceBody {
            amount: cents_to_decimal(request.amount_cents),
            currency: &request.currency,
            metadata: InvoiceMetadata {
                order_id: request.order_id.to_string(),
                buyer_email: request.buyer_email.as_deref(),
            },
            checkout: CheckoutOptions {
                redirect_url: request.redirect_url.as_deref(),
                expiration_minutes: request.expiration_minutes,
            },
        };
        let url = self.store_url(&["invoices"])?;
        let wire: InvoiceWire = self.send(self.http.post(url).json(&body)).await?;
        wire.into_invoice()
    }

    pub async fn get_invoice(&self, invoice_id: &str) -> Result<Invoice, BtcpayError> {
        self.fetch_invoice(invoice_id).await?.into_invoice()
    }

    /// Reads the invoice and, when it claims to be settled, its payment methods,
    /// so that an invoice settled with money still due is not taken as paid.
    pub async fn payment_check(&self, invoice_id: &str) -> Result<PaymentCheck, BtcpayError> {
        let wire = self.fetch_invoice(invoice_id).await?;
        let status = InvoiceStatus::parse(&wire.status)
            .ok_or_else(|| BtcpayError::Malformed(format!("unknown invoice status {:?}", wire.status)))?;
        let additional_status = wire.additional_status.clone().unwrap_or_else(|| "None".into());
        let order_id =
            wire.metadata.get("orderId").and_then(|v| v.as_str()).and_then(|v| Uuid::parse_str(v).ok()).map(OrderId);
        let invoice = wire.into_invoice()?;
        // Money may have arrived on a final invoice: read how much.
        let methods: Vec<PaymentMethodWire> =
            if matches!(status, InvoiceStatus::Settled | InvoiceStatus::Expired | InvoiceStatus::Invalid) {
                let url = self.store_url(&["invoices", invoice_id, "payment-methods"])?;
                self.send(self.http.get(url)).await?
            } else {
                Vec::new()
            };
        let fully_paid = status == InvoiceStatus::Settled && settled_in_full(&additional_status, &methods)?;
        let paid_cents = paid_in_cents(invoice.amount_cents, &methods);
        Ok(PaymentCheck {
            invoice_id: invoice.id,
            status,
            additional_status,
            amount_cents: invoice.amount_cents,
            currency: invoice.currency,
            order_id,
            fully_paid,
            paid_cents,
        })
    }

    async fn fetch_invoice(&self, invoice_id: &str) -> Result<InvoiceWire, BtcpayError> {
        let url = self.store_url(&["invoices", invoice_id])?;
        self.send(self.http.get(url)).await
    }

    /// `{url}/api/v1/stores/{store_id}/{segments...}`, each segment escaped.
    fn store_url(&self, segments: &[&str]) -> Result<url::Url, BtcpayError> {
        let mut url = self.config.url.clone();
        url.path_segments_mut()
            .map_err(|_| BtcpayError::Malformed("RIGMARKET_BTCPAY_URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["api", "v1", "stores", self.config.store_id.as_str()])
            .extend(segments);
        Ok(url)
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, BtcpayError> {
        let response = request
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            .map_err(|e| BtcpayError::Unavailable(describe(&e)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| BtcpayError::Unavailable(describe(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| BtcpayError::Malformed(e.to_string()));
        }
        let text = truncated(&body);
        if status.is_client_error() && !matches!(status, StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS) {
            Err(BtcpayError::Rejected { status: status.as_u16(), body: text })
        } else {
            Err(BtcpayError::Unavailable(format!("HTTP {status}: {text}")))
        }
    }
}

/// The rule behind [`PaymentCheck::fully_paid`] for a `Settled` invoice. Every
/// method's `due` is the whole invoice's remainder in that method's currency
/// (negative when overpaid), so one positive `due` means money is missing.
fn settled_in_full(additional_status: &str, methods: &[PaymentMethodWire]) -> Result<bool, BtcpayError> {
    if additional_status == "PaidPartial" || methods.is_empty() {
        return Ok(false);
    }
    for method in methods {
        let due = method.due.as_ref().and_then(decimal_text);
        let positive = due.as_deref().and_then(decimal_is_positive);
        match positive {
            Some(true) => return Ok(false),
            Some(false) => {}
            None => return Err(BtcpayError::Malformed(format!("payment method due {:?}", method.due))),
        }
    }
    Ok(true)
}

/// What arrived for an invoice of `amount_cents`: each method's `due` is the
/// whole invoice's remainder in its currency, converted at its `rate`. The
/// smallest reading wins, so an excess owed back is never overstated.
fn paid_in_cents(amount_cents: i64, methods: &[PaymentMethodWire]) -> Option<i64> {
    methods
        .iter()
        .map(|method| {
            let due = method.due.as_ref().and_then(decimal_text)?;
            let rate = method.rate.as_ref().and_then(decimal_text)?;
            amount_cents.checked_add(cents_beyond_due(&due, &rate)?)
        })
        .collect::<Option<Vec<i64>>>()?
        .into_iter()
        .min()
        .map(|paid| paid.max(0))
}

/// Greenfield writes decimals as strings; accept a bare JSON number too.
fn decimal_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // The Display of a reqwest error names the URL (host and store id), never headers.
    format!("{kind}: {error}")
}

fn truncated(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(MAX_ERROR_BODY) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.into_owned(),
    }
}

#[derive(Serialize)]
struct CreateInvoiceBody<'a> {
    amount: String,
    currency: &'a str,
    metadata: InvoiceMetadata<'a>,
    checkout: CheckoutOptions<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceMetadata<'a> {
    order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer_email: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutOptions<'a> {
    #[serde(rename = "redirectURL", skip_serializing_if = "Option::is_none")]
    redirect_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_minutes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceWire {
    id: String,
    checkout_link: String,
    status: String,
    #[serde(default)]
    additional_status: Option<String>,
    amount: serde_json::Value,
    currency: String,
    /// Unix seconds.
    #[serde(default)]
    expiration_time: Option<i64>,
    #[serde(default)]
    metadata: serde_json::Map<String, serde_json::Value>,
}

impl InvoiceWire {
    fn into_invoice(self) -> Result<Invoice, BtcpayError> {
        let amount_cents = decimal_text(&self.amount)
            .as_deref()
            .and_then(decimal_to_cents)
            .ok_or_else(|| BtcpayError::Malformed(format!("invoice amount {} is not whole cents", self.amount)))?;
        let expires_at = match self.expiration_time {
            Some(secs) => Some(
                DateTime::from_timestamp(secs, 0)
                    .ok_or_else(|| BtcpayError::Malformed(format!("expirationTime {secs}")))?,
            ),
            None => None,
        };
        Ok(Invoice {
            id: self.id,
            checkout_link: self.checkout_link,
            status: self.status,
            amount_cents,
            currency: self.currency,
            expires_at,
        })
    }
}

#[derive(Debug, Deserialize)]
struct PaymentMethodWire {
    #[serde(default)]
    due: Option<serde_json::Value>,
    /// Invoice currency per unit of this method's currency.
    #[serde(default)]
    rate: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(dues: &[&str]) -> Vec<PaymentMethodWire> {
        dues.iter()
            .map(|due| PaymentMethodWire {
                due: Some(serde_json::Value::String(due.to_string())),
                rate: Some(serde_json::Value::String("100000.00".into())),
            })
            .collect()
    }

    #[test]
    fn settled_with_nothing_due_is_paid() {
        assert!(settled_in_full("None", &methods(&["0.00000000", "0"])).unwrap());
        assert!(settled_in_full("PaidOver", &methods(&["-0.00012000"])).unwrap());
    }

    #[test]
    fn money_still_due_is_not_paid() {
        assert!(!settled_in_full("Marked", &methods(&["0.00050000"])).unwrap());
        assert!(!settled_in_full("None", &methods(&["0", "0.00000001"])).unwrap());
        assert!(!settled_in_full("PaidPartial", &methods(&["0"])).unwrap());
        assert!(!settled_in_full("None", &[]).unwrap(), "no payment method to show the money");
    }

    #[test]
    fn what_arrived_is_read_from_the_remainder_at_the_rate() {
        assert_eq!(paid_in_cents(95_000, &methods(&["0.00000000"])), Some(95_000));
        assert_eq!(paid_in_cents(95_000, &methods(&["-0.00095000"])), Some(104_500), "10 % over");
        assert_eq!(paid_in_cents(95_000, &methods(&["0.00475000"])), Some(47_500), "half of it");
        assert_eq!(paid_in_cents(95_000, &methods(&["0.00950000"])), Some(0), "nothing");
        assert_eq!(paid_in_cents(95_000, &methods(&["-0.00095000", "-0.00001000"])), Some(95_100), "the least");
        assert_eq!(paid_in_cents(95_000, &[]), None, "no method, no reading");
        let no_rate = [PaymentMethodWire { due: Some(serde_json::json!("-0.1")), rate: None }];
        assert_eq!(paid_in_cents(95_000, &no_rate), None);
    }

    #[test]
    fn unreadable_due_is_malformed() {
        assert!(matches!(settled_in_full("None", &methods(&["lots"])), Err(BtcpayError::Malformed(_))));
        let missing = [PaymentMethodWire { due: None, rate: None }];
        assert!(matches!(settled_in_full("None", &missing), Err(BtcpayError::Malformed(_))));
    }

    #[test]
    fn invoice_answers_parse_to_cents_and_utc() {
        let wire: InvoiceWire = serde_json::from_str(
            r#"{"id":"Q1","storeId":"s","amount":"1234.50","currency":"USD","type":"Standard",
                "checkoutLink":"https://pay.example/i/Q1","createdTime":1767603600,"expirationTime":1767604500,
                "monitoringExpiration":1767607200,"status":"New","additionalStatus":"None",
                "metadata":{"orderId":"x"},"checkout":{},"archived":false}"#,
        )
        .unwrap();
        let invoice = wire.into_invoice().unwrap();
        assert_eq!(invoice.amount_cents, 123_450);
        assert_eq!(invoice.expires_at.unwrap().to_rfc3339(), "2026-01-05T09:15:00+00:00");
        assert_eq!(invoice.checkout_link, "https://pay.example/i/Q1");
    }

    #[test]
    fn fractional_cent_amounts_are_malformed() {
        let wire: InvoiceWire =
            serde_json::from_str(r#"{"id":"Q1","amount":"10.005","currency":"USD","checkoutLink":"l","status":"New"}"#)
                .unwrap();
        assert!(matches!(wire.into_invoice(), Err(BtcpayError::Malformed(_))));
    }

    #[test]
    fn error_bodies_are_cut_for_logs() {
        let long = "é".repeat(MAX_ERROR_BODY + 10);
        let cut = truncated(long.as_bytes());
        assert_eq!(cut.chars().count(), MAX_ERROR_BODY + 3);
    }
}
