//! Runtime configuration, read once from environment variables into one plain
//! struct that is passed down explicitly (no globals). figment layers the set
//! variables over their defaults and serde extracts them (`vars`: which variable
//! holds what); each kind of value (address, count, duration, ...) has one parser
//! and one error message (`values`), and every error names its variable. Empty
//! values count as unset.
//!
//! Reads: `DATABASE_URL`, `RIGMARKET_HTTP_ADDR`, `RIGMARKET_STRATUM_ADDR`,
//! `RIGMARKET_PUBLIC_URL`, `RIGMARKET_WEB_URL`, `RIGMARKET_JWT_SECRET`, `RIGMARKET_SMTP_URL`,
//! `RIGMARKET_MAIL_DIR`, `RIGMARKET_MAIL_FROM`, `RIGMARKET_S3_ENDPOINT`,
//! `RIGMARKET_S3_BUCKET`, `RIGMARKET_S3_REGION`, `RIGMARKET_S3_ACCESS_KEY`,
//! `RIGMARKET_S3_SECRET_KEY`, `RIGMARKET_STORAGE_DIR`, `RIGMARKET_CORS_ORIGINS`,
//! `RIGMARKET_DB_POOL_SIZE`, `RIGMARKET_DB_STATEMENT_TIMEOUT_MS`,
//! `RIGMARKET_JSON_LIMIT_BYTES`, `RIGMARKET_WORKER_CONCURRENCY`,
//! `RIGMARKET_JOB_RETRY_JITTER`, `RIGMARKET_TRUST_FORWARDED_FOR`, `RIGMARKET_FIRE_SALE_THRESHOLD_PCT`,
//! `RIGMARKET_STRATUM_JOB_INTERVAL_SECS`, for the stratum listener's connections and share
//! batches ([`StratumSettings`]) `RIGMARKET_STRATUM_HANDSHAKE_SECS`, `RIGMARKET_STRATUM_IDLE_SECS`,
//! `RIGMARKET_STRATUM_MAX_LINE_BYTES`, `RIGMARKET_STRATUM_MAX_CONNECTIONS`,
//! `RIGMARKET_STRATUM_MAX_CONNECTIONS_PER_IP`, `RIGMARKET_STRATUM_SEND_BUFFER_BYTES`,
//! `RIGMARKET_STRATUM_WRITE_TIMEOUT_SECS`, `RIGMARKET_SHARE_QUEUE`, `RIGMARKET_SHARE_BATCH_MAX`, `RIGMARKET_PRICE_INDEX_IP_PER_MINUTE`,
//! `RIGMARKET_PRICE_INDEX_USER_PER_MINUTE`, for escrow orders
//! `RIGMARKET_PLATFORM_FEE_BPS`, `RIGMARKET_ORDER_PAYMENT_WINDOW`,
//! `RIGMARKET_ORDER_SHIP_WINDOW`, `RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE`,
//! `RIGMARKET_ORDER_AUTO_DELIVERY_AFTER`, `RIGMARKET_WIRE_INSTRUCTIONS`, for outbound
//! webhooks `RIGMARKET_WEBHOOK_SECRET_KEY`, `RIGMARKET_WEBHOOK_ALLOW_PRIVATE`, and for
//! BTCPay Server payments ([`BtcpayConfig`], all four or none)
//! `RIGMARKET_BTCPAY_URL`, `RIGMARKET_BTCPAY_STORE_ID`, `RIGMARKET_BTCPAY_API_KEY`,
//! `RIGMARKET_BTCPAY_WEBHOOK_SECRET`; for replicas and PgBouncer (`scale_out`)
//! `RIGMARKET_DATABASE_REPLICA_URLS`, `RIGMARKET_REPLICA_MAX_LAG`,
//! `RIGMARKET_REPLICA_HEALTH_INTERVAL`, `RIGMARKET_DB_PGBOUNCER`,
//! `RIGMARKET_MIGRATION_DATABASE_URL`.

mod scale_out;
mod settings;
mod values;
mod vars;

pub use scale_out::{PoolerMode, ScaleOutSettings};
pub use settings::{
    BtcpayConfig, Config, ConfigError, MailConfig, MailTransportConfig, OrderSettings, S3Config, StorageConfig,
    StratumSettings, WebhookKey, WebhookSettings, DEFAULT_DATABASE_URL, DEV_JWT_SECRET,
};
pub use values::parse_duration;

#[cfg(test)]
mod tests;
