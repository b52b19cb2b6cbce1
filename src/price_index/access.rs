//! Who may read the price index, and how often. Public answers (tiers, latest)
//! count against a per-IP quota; series and fire sales need a `Principal`: an
//! API key (its own per-key quota, counted by the extractor) or a signed-in user
//! (a per-user quota). A request that fails to authenticate counts against its
//! IP's quota, so guessing keys is throttled too. Every answer, refusals
//! included, carries `RateLimit-*` headers (the middleware in `crate::http`
//! copies the `Quota` put in the request's extensions).
//!
//! Reads `RIGMARKET_PRICE_INDEX_IP_PER_MINUTE`,
//! `RIGMARKET_PRICE_INDEX_USER_PER_MINUTE` and `RIGMARKET_TRUST_FORWARDED_FOR`
//! through [`IndexQuotas`].

use actix_web::{HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::accounts::Principal;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::ratelimit::Quota;

/// The settings the quotas need.
#[derive(Debug, Clone, Copy)]
pub struct IndexQuotas {
    pub ip_per_minute: u32,
    pub user_per_minute: u32,
    /// Whether the client IP may be taken from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

impl IndexQuotas {
    pub fn of(config: &Config) -> Self {
        Self {
            ip_per_minute: config.price_index_ip_per_minute,
            user_per_minute: config.price_index_user_per_minute,
            trust_forwarded_for: config.trust_forwarded_for,
        }
    }
}

async fn count(
    conn: &mut AsyncPgConnection,
    req: &HttpRequest,
    bucket: String,
    limit: u32,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let quota = crate::ratelimit::hit(conn, &bucket, limit, now).await?;
    req.extensions_mut().insert(quota);
    if quota.allowed {
        Ok(())
    } else {
        Err(ApiError::TooManyRequests { retry_after_secs: quota.reset_secs })
    }
}

/// Counts a request against its client IP's price-index quota.
pub async fn per_ip(
    conn: &mut AsyncPgConnection,
    req: &HttpRequest,
    quotas: IndexQuotas,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let ip = crate::http::client_info(req, quotas.trust_forwarded_for).ip.unwrap_or_else(|| "unknown".into());
    count(conn, req, format!("price_index_ip:{ip}"), quotas.ip_per_minute, now).await
}

/// The caller of an authenticated endpoint, with its quota counted.
pub async fn authorize(
    conn: &mut AsyncPgConnection,
    req: &HttpRequest,
    quotas: IndexQuotas,
    principal: Result<Principal, ApiError>,
    now: DateTime<Utc>,
) -> ApiResult<Principal> {
    match principal {
        Ok(Principal::User(user)) => {
            count(conn, req, format!("price_index_user:{}", user.id()), quotas.user_per_minute, now).await?;
            Ok(Principal::User(user))
        }
        // The extractor already counted the key's own quota.
        Ok(key @ Principal::ApiKey { .. }) => Ok(key),
        Err(refused) => {
            if req.extensions().get::<Quota>().is_none() {
                per_ip(conn, req, quotas, now).await?;
            }
            Err(refused)
        }
    }
}
