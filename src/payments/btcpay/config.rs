//! Where the BTCPay store is and how to talk to it.
//!
//! Reads `RIGMARKET_BTCPAY_URL` (base URL of the BTCPay Server, e.g.
//! `https://btcpay.example.com`), `RIGMARKET_BTCPAY_STORE_ID`,
//! `RIGMARKET_BTCPAY_API_KEY` (Greenfield API key with "view invoices" and
//! "create invoice" on that store) and `RIGMARKET_BTCPAY_WEBHOOK_SECRET` (the
//! secret of the store's webhook). All four or none: a partial setup is a
//! start-up error rather than a payment method that fails at checkout.

use std::collections::HashMap;

use secrecy::SecretString;
use url::Url;

use crate::config::ConfigError;

pub const URL_VAR: &str = "RIGMARKET_BTCPAY_URL";
pub const STORE_ID_VAR: &str = "RIGMARKET_BTCPAY_STORE_ID";
pub const API_KEY_VAR: &str = "RIGMARKET_BTCPAY_API_KEY";
pub const WEBHOOK_SECRET_VAR: &str = "RIGMARKET_BTCPAY_WEBHOOK_SECRET";

#[derive(Debug, Clone)]
pub struct BtcpayConfig {
    /// Base URL of the server; may carry a path prefix (`https://host/btcpay/`).
    pub url: Url,
    pub store_id: String,
    pub api_key: SecretString,
    /// Key of the `BTCPay-Sig` HMAC on webhook deliveries.
    pub webhook_secret: SecretString,
}

impl BtcpayConfig {
    /// `Ok(None)` when none of the variables is set (BTCPay payments disabled).
    /// Empty values count as unset, as everywhere in [`crate::config`].
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let all = [URL_VAR, STORE_ID_VAR, API_KEY_VAR, WEBHOOK_SECRET_VAR];
        if all.iter().all(|var| get(var).is_none()) {
            return Ok(None);
        }
        let require = |var: &'static str| {
            get(var).map(str::to_string).ok_or_else(|| ConfigError::Invalid {
                var,
                message: "required when any RIGMARKET_BTCPAY_* variable is set".into(),
            })
        };
        let raw_url = require(URL_VAR)?;
        let url = Url::parse(&raw_url)
            .map_err(|e| ConfigError::Invalid { var: URL_VAR, message: format!("not a URL: {e}") })?;
        // API paths are appended as segments, which needs a hierarchical http(s) URL.
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
            return Err(ConfigError::Invalid { var: URL_VAR, message: "expected an http:// or https:// URL".into() });
        }
        Ok(Some(Self {
            url,
            store_id: require(STORE_ID_VAR)?,
            api_key: SecretString::from(require(API_KEY_VAR)?),
            webhook_secret: SecretString::from(require(WEBHOOK_SECRET_VAR)?),
        }))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

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
    }

    #[test]
    fn the_app_config_carries_it() {
        let config = crate::config::Config::from_vars(&vars(&complete())).unwrap();
        assert_eq!(config.btcpay.expect("configured").store_id, "8Vbq3WxrC9aP");
        assert!(crate::config::Config::from_vars(&HashMap::new()).unwrap().btcpay.is_none());
        let partial = vars(&[(URL_VAR, "https://btcpay.example.com")]);
        let err = crate::config::Config::from_vars(&partial).unwrap_err();
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
