//! Logging in: throttle check, password check (same work and same answer for an
//! unknown email as for a wrong password), then a new session.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::SecretString;

use super::model::TokenPair;
use super::password::{self, DummyHash};
use super::queries::users;
use super::registration::normalize_email;
use super::sessions::{self, ClientInfo};
use super::throttle::{self, ThrottleKeys};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::config::Config;
use crate::error::ApiError;

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "The email or the password is wrong.")
}

/// What a login form sends.
pub struct Credentials {
    pub email: String,
    pub password: SecretString,
}

/// Checks the credentials and opens a session; `config` signs its access token.
/// The connection is held, outside any transaction, while the hash is verified.
pub async fn login(
    conn: &mut AsyncPgConnection,
    config: &Config,
    dummy: &DummyHash,
    credentials: Credentials,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let email = normalize_email(&credentials.email);
    let keys = ThrottleKeys::new(&email, client.ip.as_deref());
    if let Some(wait) = throttle::blocked_for(conn, &keys, now).await? {
        let event = AuditEvent::new(AuditAction::LoginThrottled)
            .ip(client.ip.as_deref())
            .details(serde_json::json!({ "email": email }));
        audit::record(conn, event, now).await?;
        return Err(ApiError::TooManyRequests { retry_after_secs: wait });
    }
    let user = users::find_by_email(conn, &email).await?;
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(credentials.password, stored_hash, dummy.phc()).await?;
    let Some(user) = user.filter(|_| matches) else {
        record_failure(conn, &keys, &email, client, now).await?;
        return Err(invalid_credentials());
    };
    if user.suspended_at.is_some() {
        return Err(ApiError::forbidden("account_suspended", "This account is suspended."));
    }
    conn.transaction(async |conn| {
        throttle::record_success(conn, &keys).await?;
        let tokens = sessions::start(conn, config, &user, client, now).await?;
        let event =
            AuditEvent::new(AuditAction::LoginSucceeded).actor(user.id).target_user(user.id).ip(client.ip.as_deref());
        audit::record(conn, event, now).await?;
        Ok::<_, ApiError>(tokens)
    })
    .await
}

/// The throttling standing of whoever logs in as `email` from `client`, for
/// the `RateLimit-*` headers of the answer.
pub async fn throttle_quota(
    conn: &mut AsyncPgConnection,
    email: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> diesel::QueryResult<crate::ratelimit::Quota> {
    let keys = ThrottleKeys::new(&normalize_email(email), client.ip.as_deref());
    throttle::quota(conn, &keys, now).await
}

/// Counts the failure towards throttling and audits it, together.
async fn record_failure(
    conn: &mut AsyncPgConnection,
    keys: &ThrottleKeys,
    email: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    conn.transaction(async |conn| {
        throttle::record_failure(conn, keys, now).await?;
        let event = AuditEvent::new(AuditAction::LoginFailed)
            .ip(client.ip.as_deref())
            .details(serde_json::json!({ "email": email }));
        audit::record(conn, event, now).await
    })
    .await
}
