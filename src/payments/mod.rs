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

/// The providers this deployment takes payments through (registered by the
/// composition root for the handlers and jobs that need them).
#[derive(Clone, Default)]
pub struct Payments {
    /// `None` when `RIGMARKET_BTCPAY_*` are unset.
    pub btcpay: Option<btcpay::BtcpayClient>,
}

impl Payments {
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        let btcpay = config.btcpay.as_ref().map(btcpay::BtcpayClient::new).transpose()?;
        Ok(Self { btcpay })
    }
}
