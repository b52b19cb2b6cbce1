//! Who may read the price index, and how often. Public answers (tiers, latest)
//! count against a per-IP quota; series and fire sales need a `Principal`: an
//! API key (its own per-key quota, counted by the extractor) or a signed-in user
//! (a per-user quota). A request that fails to authenticate counts against its
//! IP's quota, so guessing keys is throttled too. Every answer, refusals
//! included, carries `RateLimit-*` headers (the middleware in `crate::http`
//! copies the `Quota` put in the request's extensions).
//!
//! Reads `RIGMARKET_PRICE_INDEX_IP_PER_MINUTE` and
//! `RIGMARKET_PRICE_INDEX_USER_PER_MINUTE` through `Config`.

use actix_web::{HttpMessage, HttpRequest};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ratelimit::Quota;
use crate::state::AppState;

async fn count(state: &AppState, req: &HttpRequest, bucket: String, limit: u32) -> ApiResult<()> {
    let mut conn = state.pool.get().await?;
    let quota = crate::ratelimit::hit(&mut conn, &bucket, limit, state.clock.now()).await?;
    req.extensions_mut().insert(quota);
    if quota.allowed {
        Ok(())
    } else {
        Err(ApiError::TooManyRequests { retry_after_secs: quota.reset_secs })
    }
}

/// Counts a request against its client IP's price-index quota.
pub async fn per_ip(state: &AppState, req: &HttpRequest) -> ApiResult<()> {
    let ip = crate::http::client_info(req, state.config.trust_forwarded_for).ip.unwrap_or_else(|| "unknown".into());
    count(state, req, format!("price_index_ip:{ip}"), state.config.price_index_ip_per_minute).await
}

/// The caller of an authenticated endpoint, with its quota counted.
pub async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    principal: Result<Principal, ApiError>,
) -> ApiResult<Principal> {
    match principal {
        Ok(Principal::User(user)) => {
            count(state, req, format!("price_index_user:{}", user.id()), state.config.price_index_user_per_minute)
                .await?;
            Ok(Principal::User(user))
        }
        // The extractor already counted the key's own quota.
        Ok(key @ Principal::ApiKey { .. }) => Ok(key),
        Err(refused) => {
            if req.extensions().get::<Quota>().is_none() {
                per_ip(state, req).await?;
            }
            Err(refused)
        }
    }
}
