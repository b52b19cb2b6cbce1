//! BTCPay Server (Greenfield API v1) as an escrow payment provider.
//!
//! - [`BtcpayConfig`]: where the store is, read by [`crate::config`] from
//!   `RIGMARKET_BTCPAY_URL`, `RIGMARKET_BTCPAY_STORE_ID`, `RIGMARKET_BTCPAY_API_KEY`
//!   and `RIGMARKET_BTCPAY_WEBHOOK_SECRET` (all four or none).
//! - [`client`]: `BtcpayClient`, which creates invoices and, before an order is
//!   marked paid, asks BTCPay itself whether the invoice is settled in full
//!   ([`BtcpayClient::payment_check`]); a webhook body alone is never trusted.
//! - [`webhook`]: `BTCPay-Sig` verification and the delivery payload.
//! - [`amount`]: decimal strings on the wire <-> integer cents, without floats.

pub mod amount;
pub mod client;
pub mod deliveries;
pub mod events;

pub use crate::config::BtcpayConfig;
pub use client::{BtcpayClient, BtcpayError, Invoice, InvoiceRequest, InvoiceStatus, PaymentCheck};
pub use events::{parse_webhook, verify_signature, WebhookEvent, WebhookEventType, SIGNATURE_HEADER};
