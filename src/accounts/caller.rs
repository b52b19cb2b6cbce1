//! Who is calling. `AuthUser` is a signed-in person: an HS256 access token whose
//! session is still live, for an account that is not suspended; roles and status
//! are read from the database on every request, so changes apply at once.
//! `Principal` also accepts an API key (`X-Api-Key`, or `Authorization: Bearer
//! rmk_...`) and enforces the key's per-minute quota across instances.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::api_keys;
use super::model::AccountStatus;
use super::queries::sessions;
use super::roles::ROLE_ADMIN;
use super::token::{self, Claims};
use crate::config::Config;
use crate::db::ids::{ApiKeyId, UserId};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::problems::Declared;
use crate::state::AppState;

/// An authenticated, non-suspended person with a live session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub account: AccountStatus,
    pub session_id: Uuid,
}

impl AuthUser {
    pub fn id(&self) -> UserId {
        self.account.id
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.account.roles.iter().any(|r| r == role)
    }

    /// The explicit role check handlers call before privileged work.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.has_role(ROLE_ADMIN) {
            Ok(())
        } else {
            Err(ApiError::forbidden("admin_required", "This action requires the admin role."))
        }
    }

    /// Unverified accounts may browse but not list, buy or sell.
    pub fn require_verified(&self) -> Result<(), ApiError> {
        if self.account.email_verified_at.is_some() {
            Ok(())
        } else {
            Err(ApiError::forbidden("email_not_verified", "Verify your email address first."))
        }
    }
}

/// What an operation that needs a signed-in user ([`AuthUser`]) can answer
/// before its handler runs.
pub const BEARER_PROBLEMS: Declared<'static> = &[
    (401, &["authentication_required", "api_key_not_accepted", "invalid_token", "token_expired", "session_revoked"]),
    (403, &["account_suspended"]),
];

/// What an operation open to an API key or a signed-in user ([`Principal`])
/// can answer before its handler runs; keys are metered.
pub const KEY_OR_BEARER_PROBLEMS: Declared<'static> = &[
    (401, &["authentication_required", "invalid_api_key", "invalid_token", "token_expired", "session_revoked"]),
    (403, &["account_suspended"]),
    (429, &["rate_limited"]),
];

fn api_key_header(req: &HttpRequest) -> Option<String> {
    req.headers().get("x-api-key")?.to_str().ok().map(|k| k.trim().to_string())
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))
}

fn session_revoked() -> ApiError {
    ApiError::unauthorized("session_revoked", "This session has ended; log in again.")
}

/// The signed-in person behind verified access-token claims: the session must
/// still be live and the account not suspended.
async fn session_user(conn: &mut AsyncPgConnection, claims: &Claims, now: DateTime<Utc>) -> Result<AuthUser, ApiError> {
    let (account, revoked_at, expires_at) =
        sessions::account_in_session(conn, claims.sub, claims.sid).await?.ok_or_else(session_revoked)?;
    if revoked_at.is_some() || expires_at <= now {
        return Err(session_revoked());
    }
    if account.suspended_at.is_some() {
        return Err(ApiError::forbidden("account_suspended", "This account is suspended."));
    }
    Ok(AuthUser { account, session_id: claims.sid })
}

/// Checks the token's signature and expiry before taking a connection.
async fn authenticate_token(
    pool: &DbPool,
    config: &Config,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AuthUser, ApiError> {
    let claims = token::verify_access_token(config, token, now)?;
    let mut conn = pool.get().await?;
    session_user(&mut conn, &claims, now).await
}

fn authentication_required() -> ApiError {
    ApiError::unauthorized("authentication_required", "Send `Authorization: Bearer <access token>`.")
}

fn api_key_not_accepted() -> ApiError {
    ApiError::unauthorized("api_key_not_accepted", "This endpoint needs a signed-in user, not an API key.")
}

/// The signed-in person a request's credentials name: `bearer`, the token of
/// its `Authorization: Bearer` header, and whether it sent `X-Api-Key` (an
/// API key is not a person). What [`AuthUser`]'s extractor checks, for
/// servers other than actix-web's.
pub async fn authenticate_person(
    state: &AppState,
    bearer: Option<String>,
    sent_key: bool,
) -> Result<AuthUser, ApiError> {
    if sent_key && bearer.is_none() {
        return Err(api_key_not_accepted());
    }
    let token = bearer.ok_or_else(authentication_required)?;
    if api_keys::looks_like_key(&token) {
        return Err(api_key_not_accepted());
    }
    authenticate_token(&state.pool, &state.config, &token, state.clock.now()).await
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = app_state(req);
        let token = crate::http::bearer_token(req);
        let sent_key = api_key_header(req).is_some();
        let req = req.clone();
        Box::pin(async move {
            let user = authenticate_person(&*state?, token, sent_key).await?;
            super::read_routing::mark_writer(&req, user.id().0);
            Ok(user)
        })
    }
}

/// A caller identified by an access token or an API key.
#[derive(Debug, Clone)]
pub enum Principal {
    User(AuthUser),
    ApiKey { key_id: ApiKeyId, user_id: UserId },
}

impl Principal {
    pub fn user_id(&self) -> UserId {
        match self {
            Self::User(user) => user.id(),
            Self::ApiKey { user_id, .. } => *user_id,
        }
    }
}

/// The key's owner, with the key's own quota counted (and put on the request
/// for the `RateLimit-*` headers).
async fn authenticate_api_key(
    pool: &DbPool,
    key: &str,
    req: &HttpRequest,
    now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    let mut conn = pool.get().await?;
    let owner = api_keys::authenticate(&mut conn, key, now)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_api_key", "The API key is unknown or revoked."))?;
    if owner.owner_suspended {
        return Err(ApiError::forbidden("account_suspended", "The key's account is suspended."));
    }
    let quota =
        crate::ratelimit::hit(&mut conn, &format!("api_key:{}", owner.key_id), owner.requests_per_minute as u32, now)
            .await?;
    // The middleware in `http` copies this onto the response as RateLimit-* headers.
    req.extensions_mut().insert(quota);
    if !quota.allowed {
        return Err(ApiError::TooManyRequests { retry_after_secs: quota.reset_secs });
    }
    Ok(Principal::ApiKey { key_id: owner.key_id, user_id: owner.user_id })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = app_state(req);
        let bearer = crate::http::bearer_token(req);
        let key = api_key_header(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state?;
            let now = state.clock.now();
            match (key, bearer) {
                (Some(key), _) => authenticate_api_key(&state.pool, &key, &req, now).await,
                (None, Some(bearer)) if api_keys::looks_like_key(&bearer) => {
                    authenticate_api_key(&state.pool, &bearer, &req, now).await
                }
                (None, Some(token)) => {
                    authenticate_token(&state.pool, &state.config, &token, now).await.map(Principal::User)
                }
                (None, None) => Err(ApiError::unauthorized(
                    "authentication_required",
                    "Send `X-Api-Key: <key>` or `Authorization: Bearer <access token>`.",
                )),
            }
        })
    }
}
