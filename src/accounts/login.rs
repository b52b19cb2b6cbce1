//! Logging in: throttle check, password check (same work and same answer for an
//! unknown email as for a wrong password), then a new session.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use secrecy::SecretString;

use super::model::{TokenPair, UserRow};
use super::password::DummyHash;
use super::registration::normalize_email;
use super::sessions::{self, ClientInfo};
use super::{password, throttle};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::schema::users;
use crate::error::ApiError;
use crate::state::AppState;

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "The email or the password is wrong.")
}

pub async fn login(
    state: &AppState,
    dummy: &DummyHash,
    email: &str,
    password: SecretString,
    client: &ClientInfo,
) -> Result<TokenPair, ApiError> {
    let now = state.clock.now();
    let email = normalize_email(email);
    let keys = throttle::ThrottleKeys::new(&email, client.ip.as_deref());
    let mut conn = state.pool.get().await?;
    if let Some(wait) = throttle::blocked_for(&mut conn, &keys, now).await? {
        let event = AuditEvent::new(AuditAction::LoginThrottled)
            .ip(client.ip.as_deref())
            .details(serde_json::json!({ "email": email }));
        audit::record(&mut conn, event, now).await?;
        return Err(ApiError::TooManyRequests { retry_after_secs: wait });
    }
    let user: Option<UserRow> =
        users::table.filter(users::email.eq(&email)).select(UserRow::as_select()).first(&mut conn).await.optional()?;
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(password, stored_hash, dummy.phc()).await?;
    let Some(user) = user.filter(|_| matches) else {
        conn.transaction(async |conn| {
            throttle::record_failure(conn, &keys, now).await?;
            let event = AuditEvent::new(AuditAction::LoginFailed)
                .ip(client.ip.as_deref())
                .details(serde_json::json!({ "email": email }));
            audit::record(conn, event, now).await
        })
        .await?;
        return Err(invalid_credentials());
    };
    if user.suspended_at.is_some() {
        return Err(ApiError::forbidden("account_suspended", "This account is suspended."));
    }
    conn.transaction(async |conn| {
        throttle::record_success(conn, &keys).await?;
        let tokens = sessions::start(conn, &state.config, &user, client, now).await?;
        let event =
            AuditEvent::new(AuditAction::LoginSucceeded).actor(user.id).target_user(user.id).ip(client.ip.as_deref());
        audit::record(conn, event, now).await?;
        Ok::<_, ApiError>(tokens)
    })
    .await
}
