//! Changing a password: through an emailed reset link (request, then confirm)
//! or by its signed-in owner. Either way every session ends and the owner is
//! told by email, in the transaction that stores the new hash. Hashing happens
//! before that transaction opens.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::email_links::{self, link};
use super::model::{TokenPurpose, UserRow};
use super::password::{self, DummyHash};
use super::queries::{sessions, users};
use super::registration::normalize_email;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::ids::UserId;
use crate::error::ApiError;
use crate::mail;

/// Emails a reset link when the address has an account; answers the same either way.
pub async fn request_password_reset(
    conn: &mut AsyncPgConnection,
    web_url: &Url,
    email: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    conn.transaction(async |conn| {
        let Some(user) = users::find_by_email(conn, &normalize_email(email)).await? else {
            return Ok(());
        };
        let token = email_links::issue(conn, user.id, TokenPurpose::PasswordReset, now).await?;
        let template =
            super::emails::PasswordResetLink { link: link(web_url, super::pages::RESET_PASSWORD_PAGE, &token) };
        mail::enqueue(conn, &user.email, &template, now).await?;
        audit::record(conn, AuditEvent::new(AuditAction::PasswordResetRequested).target_user(user.id).ip(ip), now)
            .await?;
        Ok::<_, anyhow::Error>(())
    })
    .await?;
    Ok(())
}

/// Sets the password a reset link was sent for, and uses up the link.
pub async fn confirm_password_reset(
    conn: &mut AsyncPgConnection,
    token: &str,
    new_password: SecretString,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    // Check the token before paying for a hash, without consuming it yet.
    let user_id = email_links::peek(conn, token, TokenPurpose::PasswordReset, now).await?;
    let user = existing_user(conn, user_id).await?;
    password::require_policy("new_password", new_password.expose_secret(), &user.email)?;
    let new_hash = password::hash(new_password).await?;
    conn.transaction(async |conn| {
        email_links::consume(conn, token, TokenPurpose::PasswordReset, now).await?;
        set_password(conn, &user, &new_hash, AuditAction::PasswordReset, ip, now).await?;
        Ok::<_, ApiError>(())
    })
    .await
}

/// What a signed-in user sends to change their password.
pub struct PasswordChange {
    pub current: SecretString,
    pub new_password: SecretString,
}

pub async fn change_password(
    conn: &mut AsyncPgConnection,
    dummy: &DummyHash,
    user_id: UserId,
    change: PasswordChange,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let user = existing_user(conn, user_id).await?;
    password::require_policy("new_password", change.new_password.expose_secret(), &user.email)?;
    if !password::verify(change.current, user.password_hash.clone(), dummy.phc()).await? {
        return Err(ApiError::validation("current_password", "is not your current password"));
    }
    let new_hash = password::hash(change.new_password).await?;
    conn.transaction(async |conn| set_password(conn, &user, &new_hash, AuditAction::PasswordChanged, ip, now).await)
        .await?;
    Ok(())
}

/// The user, or `NotFound` (a 404) when the account is gone.
async fn existing_user(conn: &mut AsyncPgConnection, user_id: UserId) -> Result<UserRow, ApiError> {
    Ok(users::find(conn, user_id).await?.ok_or(diesel::result::Error::NotFound)?)
}

/// Stores the new hash, signs out every session and tells the owner by email.
async fn set_password(
    conn: &mut AsyncPgConnection,
    user: &UserRow,
    new_hash: &str,
    action: AuditAction,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    users::set_password_hash(conn, user.id, new_hash, now).await?;
    sessions::revoke_all(conn, user.id, "password_changed", now).await?;
    mail::enqueue(conn, &user.email, &super::emails::PasswordChanged, now).await?;
    audit::record(conn, AuditEvent::new(action).actor(user.id).target_user(user.id).ip(ip), now).await?;
    Ok(())
}
