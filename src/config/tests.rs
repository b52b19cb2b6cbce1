use std::collections::HashMap;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::vars::VARS;
use super::*;

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn invalid_var(pairs: &[(&str, &str)]) -> &'static str {
    match Config::from_vars(&vars(pairs)) {
        Err(ConfigError::Invalid { var, .. }) => var,
        other => panic!("{pairs:?}: expected an invalid variable, got {other:?}"),
    }
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
fn every_variable_has_its_documented_default() {
    let config = Config::from_vars(&HashMap::new()).unwrap();
    assert_eq!(config.database_url.expose_secret(), DEFAULT_DATABASE_URL);
    assert_eq!(config.db_pool_size, 16);
    assert_eq!(config.db_statement_timeout, Duration::from_millis(10_000));
    assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!((config.web_url.as_ref(), config.web_url()), (None, &config.public_url));
    assert_eq!(config.jwt_secret.expose_secret(), DEV_JWT_SECRET);
    assert_eq!(config.mail.from, "rigmarket <no-reply@rigmarket.localhost>");
    assert!(matches!(&config.mail.transport, MailTransportConfig::Files { dir } if dir.as_os_str() == "./var/mail"));
    assert!(matches!(&config.storage, StorageConfig::Local { dir } if dir.as_os_str() == "./var/storage"));
    assert!(config.cors_origins.is_empty());
    assert_eq!(config.json_limit_bytes, 256 * 1024);
    assert_eq!(config.worker_concurrency, 2);
    assert!(!config.trust_forwarded_for);
    assert_eq!(config.stratum_job_interval, Duration::from_secs(30));
    assert_eq!(config.fire_sale_threshold_bps, 2000);
    assert_eq!((config.price_index_ip_per_minute, config.price_index_user_per_minute), (30, 60));
    assert!(config.btcpay.is_none());
    let (orders, expected) = (config.orders, OrderSettings::default());
    assert_eq!(orders.platform_fee_bps, 200);
    assert_eq!(orders.payment_window, chrono::Duration::hours(48));
    assert_eq!(orders.ship_window, chrono::Duration::days(7));
    assert_eq!(orders.auto_refund_after_ship_deadline, chrono::Duration::days(7));
    assert_eq!(orders.auto_delivery_after, chrono::Duration::days(21));
    assert_eq!(
        (orders.platform_fee_bps, orders.payment_window, orders.ship_window),
        (expected.platform_fee_bps, expected.payment_window, expected.ship_window)
    );
    assert_eq!(orders.auto_refund_after_ship_deadline, expected.auto_refund_after_ship_deadline);
    assert_eq!(orders.auto_delivery_after, expected.auto_delivery_after);
    assert_eq!(orders.wire_instructions, expected.wire_instructions);
    assert!(orders.wire_instructions.starts_with("Wire the total in USD"));
    // S3's region default applies once S3 is on.
    let s3 = Config::from_vars(&vars(&[
        ("RIGMARKET_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ("RIGMARKET_S3_BUCKET", "rigs"),
        ("RIGMARKET_S3_ACCESS_KEY", "key"),
        ("RIGMARKET_S3_SECRET_KEY", "secret"),
    ]))
    .unwrap();
    assert!(matches!(&s3.storage, StorageConfig::S3(s3) if s3.region == "us-east-1" && s3.bucket == "rigs"));
}

#[test]
fn set_values_are_read_trimmed() {
    let config = Config::from_vars(&vars(&[
        ("RIGMARKET_HTTP_ADDR", " 0.0.0.0:9000 "),
        ("RIGMARKET_PUBLIC_URL", "http://rigs.localhost"),
        ("RIGMARKET_SMTP_URL", "smtp://127.0.0.1:2525"),
        ("RIGMARKET_MAIL_FROM", " rigs <mail@rigs.localhost>\n"),
        ("RIGMARKET_CORS_ORIGINS", "https://app.example/, http://localhost:5173"),
        ("RIGMARKET_TRUST_FORWARDED_FOR", "1"),
        ("RIGMARKET_FIRE_SALE_THRESHOLD_PCT", "12.5"),
        ("RIGMARKET_DB_STATEMENT_TIMEOUT_MS", "0"),
        ("RIGMARKET_WIRE_INSTRUCTIONS", "[IBAN] {x}"),
    ]))
    .unwrap();
    assert_eq!(config.http_addr.to_string(), "0.0.0.0:9000");
    assert!(
        matches!(&config.mail.transport, MailTransportConfig::Smtp { url } if url.expose_secret() == "smtp://127.0.0.1:2525")
    );
    assert_eq!(config.mail.from, "rigs <mail@rigs.localhost>");
    assert_eq!(config.cors_origins, ["https://app.example", "http://localhost:5173"]);
    assert!(config.trust_forwarded_for);
    assert_eq!(config.fire_sale_threshold_bps, 1250);
    assert_eq!(config.db_statement_timeout, Duration::ZERO);
    // Text stays text: figment does not read brackets as a list.
    assert_eq!(config.orders.wire_instructions, "[IBAN] {x}");
    let secret = "0123456789".repeat(4);
    let production = Config::from_vars(&vars(&[
        ("RIGMARKET_PUBLIC_URL", "https://rigs.example.com"),
        ("RIGMARKET_JWT_SECRET", &secret),
    ]))
    .unwrap();
    assert_eq!(production.jwt_secret.expose_secret(), secret);
}

#[test]
fn counts_are_raised_to_their_minimum() {
    let config = Config::from_vars(&vars(&[
        ("RIGMARKET_DB_POOL_SIZE", "1"),
        ("RIGMARKET_WORKER_CONCURRENCY", "0"),
        ("RIGMARKET_STRATUM_JOB_INTERVAL_SECS", "0"),
        ("RIGMARKET_PRICE_INDEX_IP_PER_MINUTE", "0"),
        ("RIGMARKET_PRICE_INDEX_USER_PER_MINUTE", "5000000"),
    ]))
    .unwrap();
    assert_eq!((config.db_pool_size, config.worker_concurrency), (2, 1));
    assert_eq!(config.stratum_job_interval, Duration::from_secs(1));
    assert_eq!((config.price_index_ip_per_minute, config.price_index_user_per_minute), (1, 1_000_000));
}

#[test]
fn a_bad_value_names_its_variable() {
    let cases = [
        ("RIGMARKET_HTTP_ADDR", "localhost:8080"),
        ("RIGMARKET_STRATUM_ADDR", "3333"),
        ("RIGMARKET_PUBLIC_URL", "rigs.example.com"),
        ("RIGMARKET_S3_ENDPOINT", "not a url"),
        ("RIGMARKET_DB_POOL_SIZE", "-1"),
        ("RIGMARKET_DB_STATEMENT_TIMEOUT_MS", "10s"),
        ("RIGMARKET_JSON_LIMIT_BYTES", "256KiB"),
        ("RIGMARKET_WORKER_CONCURRENCY", "two"),
        ("RIGMARKET_STRATUM_JOB_INTERVAL_SECS", "30s"),
        ("RIGMARKET_PRICE_INDEX_IP_PER_MINUTE", "1.5"),
        ("RIGMARKET_PRICE_INDEX_USER_PER_MINUTE", "-60"),
        ("RIGMARKET_FIRE_SALE_THRESHOLD_PCT", "120"),
        ("RIGMARKET_PLATFORM_FEE_BPS", "2%"),
        ("RIGMARKET_ORDER_PAYMENT_WINDOW", "0s"),
        ("RIGMARKET_ORDER_SHIP_WINDOW", "367d"),
        ("RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE", "-1h"),
        ("RIGMARKET_ORDER_AUTO_DELIVERY_AFTER", "soon"),
        ("RIGMARKET_BTCPAY_URL", "btcpay.example.com"),
    ];
    for (var, bad) in cases {
        assert_eq!(invalid_var(&[(var, bad)]), var, "{var}={bad}");
    }
}

#[test]
fn error_messages_name_the_expected_format() {
    let message = |pairs: &[(&str, &str)]| Config::from_vars(&vars(pairs)).unwrap_err().to_string();
    assert_eq!(message(&[("RIGMARKET_DB_POOL_SIZE", "x")]), "RIGMARKET_DB_POOL_SIZE: expected a positive integer");
    assert_eq!(
        message(&[("RIGMARKET_ORDER_SHIP_WINDOW", "0")]),
        "RIGMARKET_ORDER_SHIP_WINDOW: expected a duration such as 90s, 30m, 48h or 7d"
    );
    assert_eq!(
        message(&[("RIGMARKET_PLATFORM_FEE_BPS", "-1")]),
        "RIGMARKET_PLATFORM_FEE_BPS: expected basis points from 0 to 10000"
    );
    assert_eq!(
        message(&[("RIGMARKET_FIRE_SALE_THRESHOLD_PCT", "x")]),
        "RIGMARKET_FIRE_SALE_THRESHOLD_PCT: expected a percentage from 0 to 100"
    );
    assert!(message(&[("RIGMARKET_HTTP_ADDR", "x")]).starts_with("RIGMARKET_HTTP_ADDR: not a socket address: "));
    assert_eq!(
        message(&[("RIGMARKET_PUBLIC_URL", "rigs.example.com")]),
        "RIGMARKET_PUBLIC_URL: relative URL without a base"
    );
}

#[test]
fn empty_values_count_as_unset() {
    for empty in ["", "  ", "\t\n"] {
        let all_empty: HashMap<String, String> =
            VARS.iter().map(|(name, _)| (name.to_string(), empty.to_string())).collect();
        let config = Config::from_vars(&all_empty).expect("empty values fall back to the defaults");
        assert_eq!(config.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.jwt_secret.expose_secret(), DEV_JWT_SECRET);
        assert_eq!(config.orders.payment_window, chrono::Duration::hours(48));
        assert_eq!(config.db_pool_size, 16);
        assert!(matches!(config.storage, StorageConfig::Local { .. }));
        assert!(matches!(config.mail.transport, MailTransportConfig::Files { .. }));
        assert!(config.btcpay.is_none() && config.cors_origins.is_empty());
    }
    // An empty S3 bucket is a missing one.
    let err = Config::from_vars(&vars(&[
        ("RIGMARKET_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ("RIGMARKET_S3_BUCKET", " "),
        ("RIGMARKET_S3_ACCESS_KEY", "key"),
        ("RIGMARKET_S3_SECRET_KEY", "secret"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("RIGMARKET_S3_BUCKET"), "{err}");
}

#[test]
fn module_doc_lists_every_variable() {
    let doc: String = include_str!("mod.rs").lines().take_while(|line| line.starts_with("//!")).collect();
    for (name, _) in VARS {
        assert!(doc.contains(&format!("`{name}`")), "{name} is read but not listed in the module doc");
    }
}

#[test]
fn refuses_dev_secret_on_a_public_url() {
    let err = Config::from_vars(&vars(&[("RIGMARKET_PUBLIC_URL", "https://rigs.example.com")])).unwrap_err();
    assert!(err.to_string().contains("development default"), "{err}");
    // The public URL derived from a non-local HTTP address is not local either.
    let err = Config::from_vars(&vars(&[("RIGMARKET_HTTP_ADDR", "0.0.0.0:8080")])).unwrap_err();
    assert!(matches!(err, ConfigError::Unsafe(_)), "{err}");
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
fn refuses_any_origin_in_production() {
    let err = Config::from_vars(&vars(&[
        ("RIGMARKET_PUBLIC_URL", "https://rigs.example.com"),
        ("RIGMARKET_JWT_SECRET", &"x".repeat(40)),
        ("RIGMARKET_CORS_ORIGINS", "*"),
    ]))
    .unwrap_err();
    assert!(matches!(&err, ConfigError::Unsafe(m) if m.contains("RIGMARKET_CORS_ORIGINS")), "{err}");
    assert!(Config::from_vars(&vars(&[("RIGMARKET_CORS_ORIGINS", "*")])).is_ok());
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
    // "7 weeks" used to be refused here; humantime reads it (49 days, in range).
    for bad in ["", "0h", "-5h", "7 fortnights", "h", "1000d"] {
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

mod btcpay {
    use super::*;

    const URL_VAR: &str = "RIGMARKET_BTCPAY_URL";
    const STORE_ID_VAR: &str = "RIGMARKET_BTCPAY_STORE_ID";
    const API_KEY_VAR: &str = "RIGMARKET_BTCPAY_API_KEY";
    const WEBHOOK_SECRET_VAR: &str = "RIGMARKET_BTCPAY_WEBHOOK_SECRET";

    fn complete() -> Vec<(&'static str, &'static str)> {
        vec![
            (URL_VAR, "https://btcpay.example.com/"),
            (STORE_ID_VAR, "8Vbq3WxrC9aP"),
            (API_KEY_VAR, "greenfield-key"),
            (WEBHOOK_SECRET_VAR, "whsec"),
        ]
    }

    #[test]
    fn unset_means_disabled() {
        assert!(BtcpayConfig::from_vars(&HashMap::new()).unwrap().is_none());
        let blank = vars(&[(URL_VAR, " "), (API_KEY_VAR, "")]);
        assert!(BtcpayConfig::from_vars(&blank).unwrap().is_none());
    }

    #[test]
    fn all_four_load() {
        let config = BtcpayConfig::from_vars(&vars(&complete())).unwrap().expect("configured");
        assert_eq!(config.url.as_str(), "https://btcpay.example.com/");
        assert_eq!(config.store_id, "8Vbq3WxrC9aP");
        assert_eq!(config.api_key.expose_secret(), "greenfield-key");
        assert_eq!(config.webhook_secret.expose_secret(), "whsec");
        let shown = format!("{config:?}");
        assert!(!shown.contains("greenfield-key") && !shown.contains("whsec"), "{shown}");
    }

    #[test]
    fn partial_setup_names_the_missing_variable() {
        for missing in [URL_VAR, STORE_ID_VAR, API_KEY_VAR, WEBHOOK_SECRET_VAR] {
            let pairs: Vec<_> = complete().into_iter().filter(|(k, _)| *k != missing).collect();
            let err = BtcpayConfig::from_vars(&vars(&pairs)).unwrap_err();
            assert!(err.to_string().contains(missing), "{missing}: {err}");
        }
        // Any one of the four alone is a partial setup.
        for (var, value) in complete() {
            assert!(BtcpayConfig::from_vars(&vars(&[(var, value)])).is_err(), "{var} alone");
        }
    }

    #[test]
    fn the_app_config_carries_it() {
        let config = Config::from_vars(&vars(&complete())).unwrap();
        assert_eq!(config.btcpay.expect("configured").store_id, "8Vbq3WxrC9aP");
        assert!(Config::from_vars(&HashMap::new()).unwrap().btcpay.is_none());
        let partial = vars(&[(URL_VAR, "https://btcpay.example.com")]);
        let err = Config::from_vars(&partial).unwrap_err();
        assert!(err.to_string().contains(STORE_ID_VAR), "{err}");
    }

    #[test]
    fn url_must_be_http() {
        for bad in ["btcpay.example.com", "mailto:ops@example.com", "ftp://btcpay.example.com"] {
            let mut pairs = complete();
            pairs[0] = (URL_VAR, bad);
            let err = BtcpayConfig::from_vars(&vars(&pairs)).unwrap_err();
            assert!(err.to_string().contains(URL_VAR), "{bad}: {err}");
        }
    }
}

#[test]
fn email_links_go_to_the_web_app_when_it_is_set() {
    let config = Config::from_vars(&vars(&[
        ("RIGMARKET_PUBLIC_URL", "http://api.localhost:8080"),
        ("RIGMARKET_WEB_URL", " http://app.localhost:5173/market/ "),
    ]))
    .unwrap();
    assert_eq!(config.web_url().as_str(), "http://app.localhost:5173/market/");
    assert_eq!(config.public_url.as_str(), "http://api.localhost:8080/");
    assert_eq!(invalid_var(&[("RIGMARKET_WEB_URL", "app.example.com")]), "RIGMARKET_WEB_URL");
}
