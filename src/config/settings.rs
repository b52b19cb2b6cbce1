//! The settings themselves: one plain struct per concern, and the checks a
//! production deployment must pass.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::scale_out::ScaleOutSettings;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/rigmarket";
/// Only acceptable while the public URL points at this machine.
pub const DEV_JWT_SECRET: &str = "rigmarket-development-secret-do-not-use-in-production";
pub(super) const MIN_PRODUCTION_SECRET_LEN: usize = 32;
pub(super) const DEFAULT_WIRE_INSTRUCTIONS: &str =
    "Wire the total in USD to: rigmarket Escrow Ltd, IBAN GB00 RIGM 0000 0000 \
                                         0000 00, BIC RIGMGB2L. Quote the reference exactly; payments without it \
                                         are returned.";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub db_pool_size: usize,
    pub db_statement_timeout: Duration,
    pub http_addr: SocketAddr,
    pub stratum_addr: SocketAddr,
    pub public_url: Url,
    /// The client web app that email links open (`RIGMARKET_WEB_URL`); `None`: the
    /// service's own minimal pages at the public URL. Read through [`Config::web_url`].
    pub web_url: Option<Url>,
    pub jwt_secret: SecretString,
    pub mail: MailConfig,
    pub storage: StorageConfig,
    pub cors_origins: Vec<String>,
    pub json_limit_bytes: usize,
    pub worker_concurrency: usize,
    /// Spread job retries randomly over each backoff step (`RIGMARKET_JOB_RETRY_JITTER`,
    /// default true; tests that assert exact retry times turn it off).
    pub job_retry_jitter: bool,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// How often each stratum connection gets a fresh job.
    pub stratum_job_interval: Duration,
    /// Discount (basis points) from which a listing is a fire sale.
    pub fire_sale_threshold_bps: i64,
    /// Price-index requests per minute per client IP (public answers, failed authentication).
    pub price_index_ip_per_minute: u32,
    /// Price-index requests per minute per signed-in user (API keys have their own quota).
    pub price_index_user_per_minute: u32,
    /// Connection hygiene of the stratum listener and the share writer's batches.
    pub stratum: StratumSettings,
    /// BTCPay Server payments; `None` when its variables are unset.
    pub btcpay: Option<BtcpayConfig>,
    pub orders: OrderSettings,
    /// Replicas, their health limits, PgBouncer.
    pub scale_out: ScaleOutSettings,
    pub webhooks: WebhookSettings,
}

/// Outbound webhooks (`src/webhooks`).
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// Encrypts endpoint signing secrets at rest (`RIGMARKET_WEBHOOK_SECRET_KEY`,
    /// base64 of 32 bytes). `None`: a key derived from the JWT secret (see
    /// `webhooks::secrets`), which production deployments should not rely on.
    pub secret_key: Option<WebhookKey>,
    /// Accept plain `http://` endpoint URLs and private, loopback and link-local
    /// addresses (`RIGMARKET_WEBHOOK_ALLOW_PRIVATE`): for tests and on-premise use.
    pub allow_private: bool,
}

/// 32 secret bytes that never appear in `Debug` output.
#[derive(Clone)]
pub struct WebhookKey(pub [u8; 32]);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(***)")
    }
}

/// Escrow order rules that operators may tune.
#[derive(Debug, Clone)]
pub struct OrderSettings {
    /// Taken from the seller's side at release, in basis points (200 = 2 %).
    pub platform_fee_bps: i32,
    /// From placement to `expired` when unpaid.
    pub payment_window: chrono::Duration,
    /// From payment to `ship_by` (clamped to the hosting power-off minus 48 h).
    pub ship_window: chrono::Duration,
    /// From a missed `ship_by` to the automatic full refund.
    pub auto_refund_after_ship_deadline: chrono::Duration,
    /// From shipping to `delivered` when the buyer does not confirm.
    pub auto_delivery_after: chrono::Duration,
    /// Bank details shown with every wire order (the order's reference is added).
    pub wire_instructions: String,
}

impl Default for OrderSettings {
    /// The same values as the variables' defaults (a test keeps them equal).
    fn default() -> Self {
        Self {
            platform_fee_bps: 200,
            payment_window: chrono::Duration::hours(48),
            ship_window: chrono::Duration::days(7),
            auto_refund_after_ship_deadline: chrono::Duration::days(7),
            auto_delivery_after: chrono::Duration::days(21),
            wire_instructions: DEFAULT_WIRE_INSTRUCTIONS.into(),
        }
    }
}

/// How the stratum listener treats connections and how shares are committed
/// (`RIGMARKET_STRATUM_*`, `RIGMARKET_SHARE_*`; defaults in brackets).
#[derive(Debug, Clone)]
pub struct StratumSettings {
    /// From connect to subscribed and authorized, else closed [10 s].
    pub handshake_deadline: Duration,
    /// No line from the miner in this long closes the connection [300 s].
    pub idle_timeout: Duration,
    /// A longer line is garbage [4096 bytes].
    pub max_line_bytes: usize,
    /// Connections this process holds at once; more are closed on accept [50,000].
    pub max_connections: usize,
    /// Connections from one IP address (a farm behind one NAT is one IP) [5,000].
    pub max_connections_per_ip: usize,
    /// The kernel send buffer of each connection (`SO_SNDBUF`) [16 KiB].
    pub send_buffer_bytes: usize,
    /// A reply the miner does not read within this long drops the connection [10 s].
    pub write_timeout: Duration,
    /// Verified shares waiting for the writer; submitters wait when it is full [20,000].
    pub share_queue: usize,
    /// Most shares committed in one transaction [2,000].
    pub share_batch_max: usize,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: String,
    pub transport: MailTransportConfig,
}

#[derive(Debug, Clone)]
pub enum MailTransportConfig {
    Smtp { url: SecretString },
    Files { dir: PathBuf },
}

#[derive(Debug, Clone)]
pub enum StorageConfig {
    S3(S3Config),
    Local { dir: PathBuf },
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub endpoint: Url,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: SecretString,
}

/// Where the BTCPay store is and how to talk to it: the base URL of the BTCPay
/// Server (`RIGMARKET_BTCPAY_URL`), the store (`RIGMARKET_BTCPAY_STORE_ID`), a
/// Greenfield API key with "view invoices" and "create invoice" on that store
/// (`RIGMARKET_BTCPAY_API_KEY`) and the secret of the store's webhook
/// (`RIGMARKET_BTCPAY_WEBHOOK_SECRET`). All four or none: a partial setup is a
/// start-up error rather than a payment method that fails at checkout.
#[derive(Debug, Clone)]
pub struct BtcpayConfig {
    /// Base URL of the server; may carry a path prefix (`https://host/btcpay/`).
    pub url: Url,
    pub store_id: String,
    pub api_key: SecretString,
    /// Key of the `BTCPay-Sig` HMAC on webhook deliveries.
    pub webhook_secret: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {message}")]
    Invalid { var: &'static str, message: String },
    #[error("unsafe production setting: {0}")]
    Unsafe(String),
}

pub(super) fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { var, message: message.into() }
}

impl Config {
    /// True when the service is reachable only from this machine; dev defaults are
    /// tolerated only then.
    pub fn is_local(&self) -> bool {
        matches!(self.public_url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]" | "::1"))
            || self.public_url.host_str().is_some_and(|h| h.ends_with(".localhost"))
    }

    pub(super) fn check_production_safety(&self) -> Result<(), ConfigError> {
        if self.is_local() {
            return Ok(());
        }
        let secret = self.jwt_secret.expose_secret();
        if secret == DEV_JWT_SECRET {
            return Err(ConfigError::Unsafe(format!(
                "RIGMARKET_PUBLIC_URL is {} but RIGMARKET_JWT_SECRET is the development default; \
                 set a random secret of at least {MIN_PRODUCTION_SECRET_LEN} bytes",
                self.public_url
            )));
        }
        if secret.len() < MIN_PRODUCTION_SECRET_LEN {
            return Err(ConfigError::Unsafe(format!(
                "RIGMARKET_JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_LEN} bytes when \
                 RIGMARKET_PUBLIC_URL is not local"
            )));
        }
        if self.public_url.scheme() != "https" {
            return Err(ConfigError::Unsafe("RIGMARKET_PUBLIC_URL must use https when it is not local".into()));
        }
        if self.cors_origins.iter().any(|o| o == "*") {
            return Err(ConfigError::Unsafe(
                "RIGMARKET_CORS_ORIGINS=* is not allowed outside local development".into(),
            ));
        }
        Ok(())
    }

    /// Where email links (verify the address, reset the password) point: the web
    /// app, or this service, which then serves minimal pages for them.
    pub fn web_url(&self) -> &Url {
        self.web_url.as_ref().unwrap_or(&self.public_url)
    }

    /// The database URL with its password hidden, for logs.
    pub fn database_url_for_logs(&self) -> String {
        match Url::parse(self.database_url.expose_secret()) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("***"));
                }
                url.to_string()
            }
            Err(_) => "<unparseable DATABASE_URL>".into(),
        }
    }
}
