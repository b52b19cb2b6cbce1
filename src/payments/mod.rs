//! Payment providers behind escrow orders.
//!
//! Each provider module owns its configuration, its HTTP client and the parsing
//! and verification of what the provider sends us; it knows nothing about orders.
//! The order state machine (and the webhook endpoint that drives it) lives with
//! the orders capability and calls into these building blocks.
//!
//! - [`btcpay`]: BTCPay Server Greenfield invoices and HMAC-signed webhooks
//!   (reads `RIGMARKET_BTCPAY_URL`, `RIGMARKET_BTCPAY_STORE_ID`,
//!   `RIGMARKET_BTCPAY_API_KEY`, `RIGMARKET_BTCPAY_WEBHOOK_SECRET`).

pub mod btcpay;
