//! Runtime configuration, read once from environment variables into one plain
//! struct that is passed down explicitly (no globals).
//!
//! Reads: `DATABASE_URL`, `RIGMARKET_HTTP_ADDR`, `RIGMARKET_STRATUM_ADDR`,
//! `RIGMARKET_PUBLIC_URL`, `RIGMARKET_JWT_SECRET`, `RIGMARKET_SMTP_URL`,
//! `RIGMARKET_MAIL_DIR`, `RIGMARKET_MAIL_FROM`, `RIGMARKET_S3_ENDPOINT`,
//! `RIGMARKET_S3_BUCKET`, `RIGMARKET_S3_REGION`, `RIGMARKET_S3_ACCESS_KEY`,
//! `RIGMARKET_S3_SECRET_KEY`, `RIGMARKET_STORAGE_DIR`, `RIGMARKET_CORS_ORIGINS`,
//! `RIGMARKET_DB_POOL_SIZE`, `RIGMARKET_DB_STATEMENT_TIMEOUT_MS`,
//! `RIGMARKET_JSON_LIMIT_BYTES`, `RIGMARKET_WORKER_CONCURRENCY`,
//! `RIGMARKET_TRUST_FORWARDED_FOR`, `RIGMARKET_FIRE_SALE_THRESHOLD_PCT`,
//! `RIGMARKET_STRATUM_JOB_INTERVAL_SECS`, `RIGMARKET_PRICE_INDEX_IP_PER_MINUTE`,
//! `RIGMARKET_PRICE_INDEX_USER_PER_MINUTE`, and for escrow orders
//! `RIGMARKET_PLATFORM_FEE_BPS`, `RIGMARKET_ORDER_PAYMENT_WINDOW`,
//! `RIGMARKET_ORDER_SHIP_WINDOW`, `RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE`,
//! `RIGMARKET_ORDER_AUTO_DELIVERY_AFTER`, `RIGMARKET_WIRE_INSTRUCTIONS`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/rigmarket";
/// Only acceptable while the public URL points at this machine.
pub const DEV_JWT_SECRET: &str = "rigmarket-development-secret-do-not-use-in-production";
const MIN_PRODUCTION_SECRET_LEN: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub db_pool_size: usize,
    pub db_statement_timeout: Duration,
    pub http_addr: SocketAddr,
    pub stratum_addr: SocketAddr,
    pub public_url: Url,
    pub jwt_secret: SecretString,
    pub mail: MailConfig,
    pub storage: StorageConfig,
    pub cors_origins: Vec<String>,
    pub json_limit_bytes: usize,
    pub worker_concurrency: usize,
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
    /// BTCPay Server payments; `None` when its variables are unset.
    pub btcpay: Option<crate::payments::btcpay::BtcpayConfig>,
    pub orders: OrderSettings,
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
    fn default() -> Self {
        Self {
            platform_fee_bps: 200,
            payment_window: chrono::Duration::hours(48),
            ship_window: chrono::Duration::days(7),
            auto_refund_after_ship_deadline: chrono::Duration::days(7),
            auto_delivery_after: chrono::Duration::days(21),
            wire_instructions: "Wire the total in USD to: rigmarket Escrow Ltd, IBAN GB00 RIGM 0000 0000 0000 00, \
                                BIC RIGMGB2L. Quote the reference exactly; payments without it are returned."
                .into(),
        }
    }
}

/// `90s`, `30m`, `48h`, `7d` (or a bare number of seconds) as a duration.
pub fn parse_duration(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: i64 = digits.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" => amount,
        "m" => amount.checked_mul(60)?,
        "h" => amount.checked_mul(3600)?,
        "d" => amount.checked_mul(86_400)?,
        _ => return None,
    };
    (seconds > 0 && seconds <= 366 * 86_400).then(|| chrono::Duration::seconds(seconds))
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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {message}")]
    Invalid { var: &'static str, message: String },
    #[error("unsafe production setting: {0}")]
    Unsafe(String),
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { var, message: message.into() }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads an explicit variable map, so tests can build configs without touching
    /// the process environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let parse_addr = |var: &'static str, default: &str| -> Result<SocketAddr, ConfigError> {
            get(var).unwrap_or(default).parse().map_err(|e| invalid(var, format!("not a socket address: {e}")))
        };
        let parse_num = |var: &'static str, default: usize| -> Result<usize, ConfigError> {
            get(var).map_or(Ok(default), |v| v.parse().map_err(|_| invalid(var, "expected a positive integer")))
        };

        let http_addr = parse_addr("RIGMARKET_HTTP_ADDR", "127.0.0.1:8080")?;
        let public_url = match get("RIGMARKET_PUBLIC_URL") {
            Some(raw) => Url::parse(raw).map_err(|e| invalid("RIGMARKET_PUBLIC_URL", e.to_string()))?,
            None => {
                Url::parse(&format!("http://{http_addr}")).map_err(|e| invalid("RIGMARKET_HTTP_ADDR", e.to_string()))?
            }
        };

        let mail_transport = match get("RIGMARKET_SMTP_URL") {
            Some(url) => MailTransportConfig::Smtp { url: SecretString::from(url.to_string()) },
            None => {
                MailTransportConfig::Files { dir: PathBuf::from(get("RIGMARKET_MAIL_DIR").unwrap_or("./var/mail")) }
            }
        };

        let storage = match get("RIGMARKET_S3_ENDPOINT") {
            Some(endpoint) => {
                let require = |var: &'static str| {
                    get(var)
                        .map(str::to_string)
                        .ok_or_else(|| invalid(var, "required when RIGMARKET_S3_ENDPOINT is set"))
                };
                StorageConfig::S3(S3Config {
                    endpoint: Url::parse(endpoint).map_err(|e| invalid("RIGMARKET_S3_ENDPOINT", e.to_string()))?,
                    bucket: require("RIGMARKET_S3_BUCKET")?,
                    region: get("RIGMARKET_S3_REGION").unwrap_or("us-east-1").to_string(),
                    access_key: require("RIGMARKET_S3_ACCESS_KEY")?,
                    secret_key: SecretString::from(require("RIGMARKET_S3_SECRET_KEY")?),
                })
            }
            None => {
                StorageConfig::Local { dir: PathBuf::from(get("RIGMARKET_STORAGE_DIR").unwrap_or("./var/storage")) }
            }
        };

        let duration = |var: &'static str, default: chrono::Duration| -> Result<chrono::Duration, ConfigError> {
            get(var).map_or(Ok(default), |v| {
                parse_duration(v).ok_or_else(|| invalid(var, "expected a duration such as 90s, 30m, 48h or 7d"))
            })
        };
        let order_defaults = OrderSettings::default();
        let orders = OrderSettings {
            platform_fee_bps: match get("RIGMARKET_PLATFORM_FEE_BPS") {
                Some(raw) => raw
                    .parse::<i32>()
                    .ok()
                    .filter(|bps| (0..=10_000).contains(bps))
                    .ok_or_else(|| invalid("RIGMARKET_PLATFORM_FEE_BPS", "expected basis points from 0 to 10000"))?,
                None => order_defaults.platform_fee_bps,
            },
            payment_window: duration("RIGMARKET_ORDER_PAYMENT_WINDOW", order_defaults.payment_window)?,
            ship_window: duration("RIGMARKET_ORDER_SHIP_WINDOW", order_defaults.ship_window)?,
            auto_refund_after_ship_deadline: duration(
                "RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE",
                order_defaults.auto_refund_after_ship_deadline,
            )?,
            auto_delivery_after: duration("RIGMARKET_ORDER_AUTO_DELIVERY_AFTER", order_defaults.auto_delivery_after)?,
            wire_instructions: get("RIGMARKET_WIRE_INSTRUCTIONS")
                .map(str::to_string)
                .unwrap_or(order_defaults.wire_instructions),
        };
        let config = Config {
            database_url: SecretString::from(get("DATABASE_URL").unwrap_or(DEFAULT_DATABASE_URL).to_string()),
            db_pool_size: parse_num("RIGMARKET_DB_POOL_SIZE", 16)?.max(2),
            db_statement_timeout: Duration::from_millis(parse_num("RIGMARKET_DB_STATEMENT_TIMEOUT_MS", 10_000)? as u64),
            http_addr,
            stratum_addr: parse_addr("RIGMARKET_STRATUM_ADDR", "127.0.0.1:3333")?,
            public_url,
            jwt_secret: SecretString::from(get("RIGMARKET_JWT_SECRET").unwrap_or(DEV_JWT_SECRET).to_string()),
            mail: MailConfig {
                from: get("RIGMARKET_MAIL_FROM").unwrap_or("rigmarket <no-reply@rigmarket.localhost>").to_string(),
                transport: mail_transport,
            },
            storage,
            cors_origins: get("RIGMARKET_CORS_ORIGINS")
                .map(|v| {
                    v.split(',').map(|o| o.trim().trim_end_matches('/').to_string()).filter(|o| !o.is_empty()).collect()
                })
                .unwrap_or_default(),
            json_limit_bytes: parse_num("RIGMARKET_JSON_LIMIT_BYTES", 256 * 1024)?,
            worker_concurrency: parse_num("RIGMARKET_WORKER_CONCURRENCY", 2)?.max(1),
            stratum_job_interval: Duration::from_secs(
                parse_num("RIGMARKET_STRATUM_JOB_INTERVAL_SECS", 30)?.max(1) as u64
            ),
            fire_sale_threshold_bps: match get("RIGMARKET_FIRE_SALE_THRESHOLD_PCT") {
                Some(raw) => {
                    crate::decimal::parse_scaled_decimal(raw, 2).filter(|bps| *bps <= 10_000).ok_or_else(|| {
                        invalid("RIGMARKET_FIRE_SALE_THRESHOLD_PCT", "expected a percentage from 0 to 100")
                    })?
                }
                None => 2000,
            },
            trust_forwarded_for: get("RIGMARKET_TRUST_FORWARDED_FOR").is_some_and(|v| v == "true" || v == "1"),
            price_index_ip_per_minute: parse_num("RIGMARKET_PRICE_INDEX_IP_PER_MINUTE", 30)?.clamp(1, 1_000_000) as u32,
            price_index_user_per_minute: parse_num("RIGMARKET_PRICE_INDEX_USER_PER_MINUTE", 60)?.clamp(1, 1_000_000)
                as u32,
            btcpay: crate::payments::btcpay::BtcpayConfig::from_vars(vars)?,
            orders,
        };
        config.check_production_safety()?;
        Ok(config)
    }

    /// True when the service is reachable only from this machine; dev defaults are
    /// tolerated only then.
    pub fn is_local(&self) -> bool {
        matches!(self.public_url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]" | "::1"))
            || self.public_url.host_str().is_some_and(|h| h.ends_with(".localhost"))
    }

    fn check_production_safety(&self) -> Result<(), ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_local_and_safe() {
        let config = Config::from_vars(&HashMap::new()).expect("defaults load");
        assert_eq!(config.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.stratum_addr.to_string(), "127.0.0.1:3333");
        assert!(config.is_local());
        assert!(matches!(config.storage, StorageConfig::Local { .. }));
        assert!(matches!(config.mail.transport, MailTransportConfig::Files { .. }));
    }

    #[test]
    fn refuses_dev_secret_on_a_public_url() {
        let err = Config::from_vars(&vars(&[("RIGMARKET_PUBLIC_URL", "https://rigs.example.com")])).unwrap_err();
        assert!(err.to_string().contains("development default"), "{err}");
    }

    #[test]
    fn refuses_short_secret_and_plain_http_in_production() {
        let short = Config::from_vars(&vars(&[
            ("RIGMARKET_PUBLIC_URL", "https://rigs.example.com"),
            ("RIGMARKET_JWT_SECRET", "short"),
        ]));
        assert!(short.is_err());
        let http = Config::from_vars(&vars(&[
            ("RIGMARKET_PUBLIC_URL", "http://rigs.example.com"),
            ("RIGMARKET_JWT_SECRET", &"x".repeat(40)),
        ]));
        assert!(http.unwrap_err().to_string().contains("https"));
    }

    #[test]
    fn s3_needs_all_its_settings() {
        let err = Config::from_vars(&vars(&[("RIGMARKET_S3_ENDPOINT", "http://127.0.0.1:9000")])).unwrap_err();
        assert!(err.to_string().contains("RIGMARKET_S3_BUCKET"), "{err}");
    }

    #[test]
    fn order_timers_read_durations_and_refuse_nonsense() {
        let config = Config::from_vars(&vars(&[
            ("RIGMARKET_ORDER_PAYMENT_WINDOW", "30m"),
            ("RIGMARKET_ORDER_SHIP_WINDOW", "10d"),
            ("RIGMARKET_PLATFORM_FEE_BPS", "150"),
        ]))
        .unwrap();
        assert_eq!(config.orders.payment_window, chrono::Duration::minutes(30));
        assert_eq!(config.orders.ship_window, chrono::Duration::days(10));
        assert_eq!(config.orders.auto_delivery_after, chrono::Duration::days(21));
        assert_eq!(config.orders.platform_fee_bps, 150);
        for bad in ["", "0h", "-5h", "7 weeks", "h", "1000d"] {
            assert!(parse_duration(bad).is_none(), "{bad:?}");
        }
        assert_eq!(parse_duration("90"), Some(chrono::Duration::seconds(90)));
        let err = Config::from_vars(&vars(&[("RIGMARKET_ORDER_AUTO_DELIVERY_AFTER", "soon")])).unwrap_err();
        assert!(err.to_string().contains("RIGMARKET_ORDER_AUTO_DELIVERY_AFTER"), "{err}");
        assert!(Config::from_vars(&vars(&[("RIGMARKET_PLATFORM_FEE_BPS", "20000")])).is_err());
    }

    #[test]
    fn hides_database_password_in_logs() {
        let config =
            Config::from_vars(&vars(&[("DATABASE_URL", "postgres://app:hunter2@db.internal:5432/rigmarket")])).unwrap();
        let shown = config.database_url_for_logs();
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("db.internal"));
    }
}
