//! Which variable holds what: [`VARS`] with their defaults, the figment that layers
//! the set variables over those defaults, and the sections extracted from it and
//! assembled into a [`Config`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::Serialized;
use figment::{Figment, Profile};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::scale_out::ScaleOutVars;
use super::settings::{
    invalid, BtcpayConfig, Config, ConfigError, MailConfig, MailTransportConfig, OrderSettings, S3Config,
    StorageConfig, StratumSettings, WebhookKey, WebhookSettings, DEFAULT_DATABASE_URL, DEFAULT_WIRE_INSTRUCTIONS,
    DEV_JWT_SECRET,
};
use super::values::{Addr, Bps, Count, Flag, Link, Origins, Percent, Span};

/// Every variable read, with its default written as an operator would write it
/// (and parsed like a set value). `None`: unset turns the feature off (SMTP, S3,
/// BTCPay, CORS) or the value is derived (the public URL, from the HTTP address;
/// the web app's URL, from the public URL).
pub(super) const VARS: &[(&str, Option<&str>)] = &[
    ("DATABASE_URL", Some(DEFAULT_DATABASE_URL)),
    ("RIGMARKET_HTTP_ADDR", Some("127.0.0.1:8080")),
    ("RIGMARKET_STRATUM_ADDR", Some("127.0.0.1:3333")),
    ("RIGMARKET_PUBLIC_URL", None),
    ("RIGMARKET_WEB_URL", None),
    ("RIGMARKET_JWT_SECRET", Some(DEV_JWT_SECRET)),
    ("RIGMARKET_SMTP_URL", None),
    ("RIGMARKET_MAIL_DIR", Some("./var/mail")),
    ("RIGMARKET_MAIL_FROM", Some("rigmarket <no-reply@rigmarket.localhost>")),
    ("RIGMARKET_S3_ENDPOINT", None),
    ("RIGMARKET_S3_BUCKET", None),
    ("RIGMARKET_S3_REGION", Some("us-east-1")),
    ("RIGMARKET_S3_ACCESS_KEY", None),
    ("RIGMARKET_S3_SECRET_KEY", None),
    ("RIGMARKET_STORAGE_DIR", Some("./var/storage")),
    ("RIGMARKET_CORS_ORIGINS", None),
    ("RIGMARKET_DB_POOL_SIZE", Some("16")),
    ("RIGMARKET_DB_STATEMENT_TIMEOUT_MS", Some("10000")),
    ("RIGMARKET_JSON_LIMIT_BYTES", Some("262144")),
    ("RIGMARKET_WORKER_CONCURRENCY", Some("2")),
    ("RIGMARKET_TRUST_FORWARDED_FOR", Some("false")),
    ("RIGMARKET_JOB_RETRY_JITTER", Some("true")),
    ("RIGMARKET_FIRE_SALE_THRESHOLD_PCT", Some("20")),
    ("RIGMARKET_STRATUM_JOB_INTERVAL_SECS", Some("30")),
    ("RIGMARKET_STRATUM_HANDSHAKE_SECS", Some("10")),
    ("RIGMARKET_STRATUM_IDLE_SECS", Some("300")),
    ("RIGMARKET_STRATUM_MAX_LINE_BYTES", Some("4096")),
    ("RIGMARKET_STRATUM_MAX_CONNECTIONS", Some("50000")),
    ("RIGMARKET_STRATUM_MAX_CONNECTIONS_PER_IP", Some("5000")),
    ("RIGMARKET_STRATUM_SEND_BUFFER_BYTES", Some("16384")),
    ("RIGMARKET_STRATUM_WRITE_TIMEOUT_SECS", Some("10")),
    ("RIGMARKET_SHARE_QUEUE", Some("20000")),
    ("RIGMARKET_SHARE_BATCH_MAX", Some("2000")),
    ("RIGMARKET_PRICE_INDEX_IP_PER_MINUTE", Some("30")),
    ("RIGMARKET_PRICE_INDEX_USER_PER_MINUTE", Some("60")),
    ("RIGMARKET_PLATFORM_FEE_BPS", Some("200")),
    ("RIGMARKET_ORDER_PAYMENT_WINDOW", Some("48h")),
    ("RIGMARKET_ORDER_SHIP_WINDOW", Some("7d")),
    ("RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE", Some("7d")),
    ("RIGMARKET_ORDER_AUTO_DELIVERY_AFTER", Some("21d")),
    ("RIGMARKET_WIRE_INSTRUCTIONS", Some(DEFAULT_WIRE_INSTRUCTIONS)),
    ("RIGMARKET_WEBHOOK_SECRET_KEY", None),
    ("RIGMARKET_WEBHOOK_ALLOW_PRIVATE", Some("false")),
    ("RIGMARKET_BTCPAY_URL", None),
    ("RIGMARKET_BTCPAY_STORE_ID", None),
    ("RIGMARKET_BTCPAY_API_KEY", None),
    ("RIGMARKET_BTCPAY_WEBHOOK_SECRET", None),
    ("RIGMARKET_DATABASE_REPLICA_URLS", None),
    ("RIGMARKET_REPLICA_MAX_LAG", Some("5s")),
    ("RIGMARKET_REPLICA_HEALTH_INTERVAL", Some("1s")),
    ("RIGMARKET_DB_PGBOUNCER", Some("off")),
    ("RIGMARKET_MIGRATION_DATABASE_URL", None),
];

/// The set variables of [`VARS`] merged over their defaults. Values are trimmed
/// and empty ones dropped, so that an empty variable counts as unset. Values stay
/// text (figment's `Env` provider would read `[a]` as a list and digits as a
/// number); the sections' value kinds parse them.
pub(super) fn layered(vars: &HashMap<String, String>) -> Figment {
    let defaults: BTreeMap<&str, &str> =
        VARS.iter().filter_map(|&(name, default)| default.map(|value| (name, value))).collect();
    let set: BTreeMap<&str, &str> = VARS
        .iter()
        .filter_map(|&(name, _)| vars.get(name).map(|value| (name, value.trim())))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    Figment::from(Serialized::defaults(defaults)).merge(Serialized::from(set, Profile::Default))
}

/// One section; a bad value becomes an error naming its variable.
fn extract<T: DeserializeOwned>(figment: &Figment) -> Result<T, ConfigError> {
    figment.extract().map_err(|error| {
        let key = error.path.join(".");
        let var = VARS.iter().map(|&(name, _)| name).find(|name| *name == key).unwrap_or("configuration");
        invalid(var, error.kind.to_string())
    })
}

/// Reads a whole configuration (the production safety checks are the caller's).
pub(super) fn read(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
    let figment = layered(vars);
    let server: ServerVars = extract(&figment)?;
    let public_url = match server.public_url {
        Some(Link(url)) => url,
        None => Url::parse(&format!("http://{}", server.http_addr.0))
            .map_err(|e| invalid("RIGMARKET_HTTP_ADDR", e.to_string()))?,
    };
    let per_minute = |count: Count| count.0.clamp(1, 1_000_000) as u32;
    Ok(Config {
        database_url: server.database_url,
        db_pool_size: server.db_pool_size.0.max(2),
        db_statement_timeout: Duration::from_millis(server.db_statement_timeout_ms.0 as u64),
        http_addr: server.http_addr.0,
        stratum_addr: server.stratum_addr.0,
        public_url,
        web_url: server.web_url.map(|Link(url)| url),
        jwt_secret: server.jwt_secret,
        mail: extract::<MailVars>(&figment)?.into(),
        storage: extract::<StorageVars>(&figment)?.into_config()?,
        cors_origins: server.cors_origins.map(|origins| origins.0).unwrap_or_default(),
        json_limit_bytes: server.json_limit_bytes.0,
        worker_concurrency: server.worker_concurrency.0.max(1),
        trust_forwarded_for: server.trust_forwarded_for.0,
        job_retry_jitter: server.job_retry_jitter.0,
        stratum_job_interval: Duration::from_secs(server.stratum_job_interval_secs.0.max(1) as u64),
        fire_sale_threshold_bps: server.fire_sale_threshold.0,
        price_index_ip_per_minute: per_minute(server.price_index_ip_per_minute),
        price_index_user_per_minute: per_minute(server.price_index_user_per_minute),
        stratum: extract::<StratumVars>(&figment)?.into(),
        btcpay: read_btcpay(&figment)?,
        orders: extract::<OrderVars>(&figment)?.into(),
        scale_out: extract::<ScaleOutVars>(&figment)?
            .into_settings()
            .map_err(|(var, message)| invalid(var, message))?,
        webhooks: extract::<WebhookVars>(&figment)?.into_config()?,
    })
}

/// The variables without a section of their own.
#[derive(Deserialize)]
struct ServerVars {
    #[serde(rename = "DATABASE_URL")]
    database_url: SecretString,
    #[serde(rename = "RIGMARKET_HTTP_ADDR")]
    http_addr: Addr,
    #[serde(rename = "RIGMARKET_STRATUM_ADDR")]
    stratum_addr: Addr,
    #[serde(rename = "RIGMARKET_PUBLIC_URL")]
    public_url: Option<Link>,
    #[serde(rename = "RIGMARKET_WEB_URL")]
    web_url: Option<Link>,
    #[serde(rename = "RIGMARKET_JWT_SECRET")]
    jwt_secret: SecretString,
    #[serde(rename = "RIGMARKET_CORS_ORIGINS")]
    cors_origins: Option<Origins>,
    #[serde(rename = "RIGMARKET_DB_POOL_SIZE")]
    db_pool_size: Count,
    #[serde(rename = "RIGMARKET_DB_STATEMENT_TIMEOUT_MS")]
    db_statement_timeout_ms: Count,
    #[serde(rename = "RIGMARKET_JSON_LIMIT_BYTES")]
    json_limit_bytes: Count,
    #[serde(rename = "RIGMARKET_WORKER_CONCURRENCY")]
    worker_concurrency: Count,
    #[serde(rename = "RIGMARKET_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: Flag,
    #[serde(rename = "RIGMARKET_JOB_RETRY_JITTER")]
    job_retry_jitter: Flag,
    #[serde(rename = "RIGMARKET_STRATUM_JOB_INTERVAL_SECS")]
    stratum_job_interval_secs: Count,
    #[serde(rename = "RIGMARKET_FIRE_SALE_THRESHOLD_PCT")]
    fire_sale_threshold: Percent,
    #[serde(rename = "RIGMARKET_PRICE_INDEX_IP_PER_MINUTE")]
    price_index_ip_per_minute: Count,
    #[serde(rename = "RIGMARKET_PRICE_INDEX_USER_PER_MINUTE")]
    price_index_user_per_minute: Count,
}

#[derive(Deserialize)]
struct StratumVars {
    #[serde(rename = "RIGMARKET_STRATUM_HANDSHAKE_SECS")]
    handshake_secs: Count,
    #[serde(rename = "RIGMARKET_STRATUM_IDLE_SECS")]
    idle_secs: Count,
    #[serde(rename = "RIGMARKET_STRATUM_MAX_LINE_BYTES")]
    max_line_bytes: Count,
    #[serde(rename = "RIGMARKET_STRATUM_MAX_CONNECTIONS")]
    max_connections: Count,
    #[serde(rename = "RIGMARKET_STRATUM_MAX_CONNECTIONS_PER_IP")]
    max_connections_per_ip: Count,
    #[serde(rename = "RIGMARKET_STRATUM_SEND_BUFFER_BYTES")]
    send_buffer_bytes: Count,
    #[serde(rename = "RIGMARKET_STRATUM_WRITE_TIMEOUT_SECS")]
    write_timeout_secs: Count,
    #[serde(rename = "RIGMARKET_SHARE_QUEUE")]
    share_queue: Count,
    #[serde(rename = "RIGMARKET_SHARE_BATCH_MAX")]
    share_batch_max: Count,
}

impl From<StratumVars> for StratumSettings {
    fn from(vars: StratumVars) -> Self {
        let secs = |count: Count| Duration::from_secs(count.0.max(1) as u64);
        StratumSettings {
            handshake_deadline: secs(vars.handshake_secs),
            idle_timeout: secs(vars.idle_secs),
            // A subscribe or a submit is a few hundred bytes; below 512 nothing works.
            max_line_bytes: vars.max_line_bytes.0.clamp(512, 16 * 1024),
            max_connections: vars.max_connections.0.max(1),
            max_connections_per_ip: vars.max_connections_per_ip.0.max(1),
            send_buffer_bytes: vars.send_buffer_bytes.0.max(4096),
            write_timeout: secs(vars.write_timeout_secs),
            share_queue: vars.share_queue.0.max(16),
            share_batch_max: vars.share_batch_max.0.clamp(1, 10_000),
        }
    }
}

#[derive(Deserialize)]
struct MailVars {
    #[serde(rename = "RIGMARKET_SMTP_URL")]
    smtp_url: Option<SecretString>,
    #[serde(rename = "RIGMARKET_MAIL_DIR")]
    dir: PathBuf,
    #[serde(rename = "RIGMARKET_MAIL_FROM")]
    from: String,
}

impl From<MailVars> for MailConfig {
    /// SMTP when its URL is set, `.eml` files otherwise.
    fn from(vars: MailVars) -> Self {
        let transport = match vars.smtp_url {
            Some(url) => MailTransportConfig::Smtp { url },
            None => MailTransportConfig::Files { dir: vars.dir },
        };
        MailConfig { from: vars.from, transport }
    }
}

#[derive(Deserialize)]
struct StorageVars {
    #[serde(rename = "RIGMARKET_S3_ENDPOINT")]
    endpoint: Option<Link>,
    #[serde(rename = "RIGMARKET_S3_BUCKET")]
    bucket: Option<String>,
    #[serde(rename = "RIGMARKET_S3_REGION")]
    region: String,
    #[serde(rename = "RIGMARKET_S3_ACCESS_KEY")]
    access_key: Option<String>,
    #[serde(rename = "RIGMARKET_S3_SECRET_KEY")]
    secret_key: Option<SecretString>,
    #[serde(rename = "RIGMARKET_STORAGE_DIR")]
    dir: PathBuf,
}

impl StorageVars {
    /// S3 when its endpoint is set (then bucket and keys are required), a local
    /// directory otherwise.
    fn into_config(self) -> Result<StorageConfig, ConfigError> {
        let Some(Link(endpoint)) = self.endpoint else {
            return Ok(StorageConfig::Local { dir: self.dir });
        };
        let required = |var: &'static str| invalid(var, "required when RIGMARKET_S3_ENDPOINT is set");
        Ok(StorageConfig::S3(S3Config {
            endpoint,
            bucket: self.bucket.ok_or_else(|| required("RIGMARKET_S3_BUCKET"))?,
            region: self.region,
            access_key: self.access_key.ok_or_else(|| required("RIGMARKET_S3_ACCESS_KEY"))?,
            secret_key: self.secret_key.ok_or_else(|| required("RIGMARKET_S3_SECRET_KEY"))?,
        }))
    }
}

#[derive(Deserialize)]
struct OrderVars {
    #[serde(rename = "RIGMARKET_PLATFORM_FEE_BPS")]
    platform_fee_bps: Bps,
    #[serde(rename = "RIGMARKET_ORDER_PAYMENT_WINDOW")]
    payment_window: Span,
    #[serde(rename = "RIGMARKET_ORDER_SHIP_WINDOW")]
    ship_window: Span,
    #[serde(rename = "RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE")]
    auto_refund_after_ship_deadline: Span,
    #[serde(rename = "RIGMARKET_ORDER_AUTO_DELIVERY_AFTER")]
    auto_delivery_after: Span,
    #[serde(rename = "RIGMARKET_WIRE_INSTRUCTIONS")]
    wire_instructions: String,
}

impl From<OrderVars> for OrderSettings {
    fn from(vars: OrderVars) -> Self {
        OrderSettings {
            platform_fee_bps: vars.platform_fee_bps.0,
            payment_window: vars.payment_window.0,
            ship_window: vars.ship_window.0,
            auto_refund_after_ship_deadline: vars.auto_refund_after_ship_deadline.0,
            auto_delivery_after: vars.auto_delivery_after.0,
            wire_instructions: vars.wire_instructions,
        }
    }
}

#[derive(Deserialize)]
struct WebhookVars {
    #[serde(rename = "RIGMARKET_WEBHOOK_SECRET_KEY")]
    secret_key: Option<SecretString>,
    #[serde(rename = "RIGMARKET_WEBHOOK_ALLOW_PRIVATE")]
    allow_private: Flag,
}

impl WebhookVars {
    /// The key must be base64 of exactly 32 bytes (AES-256).
    fn into_config(self) -> Result<WebhookSettings, ConfigError> {
        use base64::Engine;
        use secrecy::ExposeSecret;
        let var = "RIGMARKET_WEBHOOK_SECRET_KEY";
        let secret_key = match self.secret_key {
            None => None,
            Some(text) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.expose_secret().trim())
                    .map_err(|_| invalid(var, "expected base64 of 32 random bytes"))?;
                let key: [u8; 32] =
                    bytes.try_into().map_err(|_| invalid(var, "expected base64 of exactly 32 bytes"))?;
                Some(WebhookKey(key))
            }
        };
        Ok(WebhookSettings { secret_key, allow_private: self.allow_private.0 })
    }
}

#[derive(Deserialize)]
struct BtcpayVars {
    #[serde(rename = "RIGMARKET_BTCPAY_URL")]
    url: Option<String>,
    #[serde(rename = "RIGMARKET_BTCPAY_STORE_ID")]
    store_id: Option<String>,
    #[serde(rename = "RIGMARKET_BTCPAY_API_KEY")]
    api_key: Option<SecretString>,
    #[serde(rename = "RIGMARKET_BTCPAY_WEBHOOK_SECRET")]
    webhook_secret: Option<SecretString>,
}

/// `Ok(None)` when none of the four is set; all four otherwise.
pub(super) fn read_btcpay(figment: &Figment) -> Result<Option<BtcpayConfig>, ConfigError> {
    let vars: BtcpayVars = extract(figment)?;
    if vars.url.is_none() && vars.store_id.is_none() && vars.api_key.is_none() && vars.webhook_secret.is_none() {
        return Ok(None);
    }
    fn require<T>(value: Option<T>, var: &'static str) -> Result<T, ConfigError> {
        value.ok_or_else(|| invalid(var, "required when any RIGMARKET_BTCPAY_* variable is set"))
    }
    let url_var = "RIGMARKET_BTCPAY_URL";
    let url = Url::parse(&require(vars.url, url_var)?).map_err(|e| invalid(url_var, format!("not a URL: {e}")))?;
    // API paths are appended as segments, which needs a hierarchical http(s) URL.
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
        return Err(invalid(url_var, "expected an http:// or https:// URL"));
    }
    Ok(Some(BtcpayConfig {
        url,
        store_id: require(vars.store_id, "RIGMARKET_BTCPAY_STORE_ID")?,
        api_key: require(vars.api_key, "RIGMARKET_BTCPAY_API_KEY")?,
        webhook_secret: require(vars.webhook_secret, "RIGMARKET_BTCPAY_WEBHOOK_SECRET")?,
    }))
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads an explicit variable map, so tests can build configs without touching
    /// the process environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let config = read(vars)?;
        config.check_production_safety()?;
        Ok(config)
    }
}

impl BtcpayConfig {
    /// `Ok(None)` when none of the variables is set (BTCPay payments disabled).
    /// Empty values count as unset, as for every variable.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Option<Self>, ConfigError> {
        read_btcpay(&layered(vars))
    }
}
