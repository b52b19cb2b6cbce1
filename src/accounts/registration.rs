//! Registration, email verification and password recovery: the flows that go
//! through the user's mailbox with single-use, expiring tokens.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::model::{RegisteredView, UserRow};
use super::password::DummyHash;
use super::{password, secret_token, sessions};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::schema::{email_tokens, users};
use crate::error::ApiError;
use crate::mail;
use crate::state::AppState;

pub const VERIFY_EMAIL_TTL: Duration = Duration::hours(24);
pub const PASSWORD_RESET_TTL: Duration = Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    PasswordReset,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }
}

pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A deliberately modest check: one `@`, a dot in the domain, no spaces. The
/// verification email is the real test.
pub fn check_email(field: &str, email: &str) -> Result<(), ApiError> {
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(())
    } else {
        Err(ApiError::validation(field, "must be an email address"))
    }
}

pub fn check_display_name(field: &str, name: &str) -> Result<(), ApiError> {
    let length = name.trim().chars().count();
    if (1..=80).contains(&length) {
        Ok(())
    } else {
        Err(ApiError::validation(field, "must be 1 to 80 characters"))
    }
}

fn link(state: &AppState, path: &str, token: &str) -> String {
    let mut url = state.config.public_url.clone();
    url.set_path(path);
    url.query_pairs_mut().append_pair("token", token);
    url.to_string()
}

async fn issue_email_token(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    purpose: TokenPurpose,
    ttl: Duration,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    // A new link supersedes older unused ones.
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)
    .await?;
    let secret = secret_token::issue("");
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(&secret.digest),
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::created_at.eq(now),
            email_tokens::expires_at.eq(now + ttl),
        ))
        .execute(conn)
        .await?;
    Ok(secret.plaintext)
}

/// Marks a token used and returns its user, or fails if it is unknown, used,
/// expired or for another purpose. The row lock makes "use once" hold under races.
async fn consume_email_token(
    conn: &mut AsyncPgConnection,
    token: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    let invalid = || ApiError::unprocessable("invalid_token", "This link is invalid, already used or expired.");
    let digest = secret_token::digest(token);
    let (user_id, stored_purpose, expires_at, used_at): (Uuid, String, DateTime<Utc>, Option<DateTime<Utc>>) =
        email_tokens::table
            .find(&digest)
            .select((email_tokens::user_id, email_tokens::purpose, email_tokens::expires_at, email_tokens::used_at))
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or_else(invalid)?;
    if stored_purpose != purpose.as_str() || used_at.is_some() || expires_at <= now {
        return Err(invalid());
    }
    diesel::update(email_tokens::table.find(&digest)).set(email_tokens::used_at.eq(now)).execute(conn).await?;
    Ok(user_id)
}

pub struct Registration {
    pub email: String,
    pub password: SecretString,
    pub display_name: String,
}

/// Registers an account and emails a verification link. An address that already
/// has an account gets the same answer (with an id that leads nowhere) and a
/// warning email, and the password is hashed either way so timing matches.
pub async fn register(state: &AppState, input: Registration, ip: Option<&str>) -> Result<RegisteredView, ApiError> {
    let email = normalize_email(&input.email);
    let display_name = input.display_name.trim().to_string();
    let hash = password::hash(input.password).await?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let view = conn
        .transaction(async |conn| {
            let id = Uuid::now_v7();
            let inserted = diesel::insert_into(users::table)
                .values((
                    users::id.eq(id),
                    users::email.eq(&email),
                    users::password_hash.eq(&hash),
                    users::display_name.eq(&display_name),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .on_conflict(users::email)
                .do_nothing()
                .execute(conn)
                .await?;
            if inserted == 1 {
                let token = issue_email_token(conn, id, TokenPurpose::VerifyEmail, VERIFY_EMAIL_TTL, now).await?;
                let template = super::emails::VerifyEmail {
                    display_name: display_name.clone(),
                    link: link(state, "/verify-email", &token),
                };
                mail::enqueue(conn, &email, &template, now).await?;
                audit::record(conn, AuditEvent::new(AuditAction::Register).actor(id).target_user(id).ip(ip), now)
                    .await?;
            } else {
                mail::enqueue(conn, &email, &super::emails::RegistrationAttempted, now).await?;
            }
            Ok::<_, anyhow::Error>(RegisteredView {
                id,
                email: email.clone(),
                display_name: display_name.clone(),
                email_verified: false,
            })
        })
        .await?;
    Ok(view)
}

pub async fn verify_email(state: &AppState, token: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| {
        let user_id = consume_email_token(conn, token, TokenPurpose::VerifyEmail, now).await?;
        diesel::update(users::table.find(user_id).filter(users::email_verified_at.is_null()))
            .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
        audit::record(conn, AuditEvent::new(AuditAction::EmailVerified).actor(user_id).target_user(user_id), now)
            .await?;
        Ok::<_, ApiError>(())
    })
    .await
}

async fn find_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Sends a fresh verification link if the address belongs to an unverified
/// account; answers the same either way.
pub async fn resend_verification(state: &AppState, email: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| {
        if let Some(user) = find_by_email(conn, email).await? {
            if user.email_verified_at.is_none() {
                let token = issue_email_token(conn, user.id, TokenPurpose::VerifyEmail, VERIFY_EMAIL_TTL, now).await?;
                let template = super::emails::VerifyEmail {
                    display_name: user.display_name,
                    link: link(state, "/verify-email", &token),
                };
                mail::enqueue(conn, &user.email, &template, now).await?;
            }
        }
        Ok::<_, anyhow::Error>(())
    })
    .await?;
    Ok(())
}

pub async fn request_password_reset(state: &AppState, email: &str, ip: Option<&str>) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| {
        if let Some(user) = find_by_email(conn, email).await? {
            let token = issue_email_token(conn, user.id, TokenPurpose::PasswordReset, PASSWORD_RESET_TTL, now).await?;
            mail::enqueue(
                conn,
                &user.email,
                &super::emails::PasswordResetLink { link: link(state, "/reset-password", &token) },
                now,
            )
            .await?;
            audit::record(conn, AuditEvent::new(AuditAction::PasswordResetRequested).target_user(user.id).ip(ip), now)
                .await?;
        }
        Ok::<_, anyhow::Error>(())
    })
    .await?;
    Ok(())
}

/// Sets a new password (reset or change), signs out every session and tells the
/// owner by email, in one transaction.
async fn set_password(
    conn: &mut AsyncPgConnection,
    user: &UserRow,
    new_hash: &str,
    action: AuditAction,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    diesel::update(users::table.find(user.id))
        .set((users::password_hash.eq(new_hash), users::password_changed_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    sessions::revoke_all(conn, user.id, "password_changed", now).await?;
    mail::enqueue(conn, &user.email, &super::emails::PasswordChanged, now).await?;
    audit::record(conn, AuditEvent::new(action).actor(user.id).target_user(user.id).ip(ip), now).await?;
    Ok(())
}

pub async fn confirm_password_reset(
    state: &AppState,
    token: &str,
    new_password: SecretString,
    ip: Option<&str>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    // Check the token before paying for a hash, without consuming it yet.
    let digest = secret_token::digest(token);
    let user_id: Option<Uuid> = email_tokens::table
        .find(&digest)
        .filter(email_tokens::purpose.eq(TokenPurpose::PasswordReset.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(email_tokens::user_id)
        .first(&mut conn)
        .await
        .optional()?;
    let user_id = user_id
        .ok_or_else(|| ApiError::unprocessable("invalid_token", "This link is invalid, already used or expired."))?;
    let user: UserRow = users::table.find(user_id).select(UserRow::as_select()).first(&mut conn).await?;
    password::check_policy("new_password", new_password.expose_secret(), &user.email)?;
    let new_hash = password::hash(new_password).await?;
    conn.transaction(async |conn| {
        consume_email_token(conn, token, TokenPurpose::PasswordReset, now).await?;
        set_password(conn, &user, &new_hash, AuditAction::PasswordReset, ip, now).await?;
        Ok::<_, ApiError>(())
    })
    .await
}

pub async fn change_password(
    state: &AppState,
    dummy: &DummyHash,
    user_id: Uuid,
    current: SecretString,
    new_password: SecretString,
    ip: Option<&str>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let user: UserRow = users::table.find(user_id).select(UserRow::as_select()).first(&mut conn).await?;
    password::check_policy("new_password", new_password.expose_secret(), &user.email)?;
    if !password::verify(current, user.password_hash.clone(), dummy.phc()).await? {
        return Err(ApiError::validation("current_password", "is not your current password"));
    }
    let new_hash = password::hash(new_password).await?;
    conn.transaction(async |conn| set_password(conn, &user, &new_hash, AuditAction::PasswordChanged, ip, now).await)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_loosely_and_normalised() {
        assert_eq!(normalize_email("  Miner@Example.COM "), "miner@example.com");
        for good in ["a@b.co", "first.last+tag@sub.example.kz"] {
            assert!(check_email("email", good).is_ok(), "{good}");
        }
        for bad in ["", "plain", "@b.co", "a@b", "a@.b", "a b@c.de", "a@b.c.", "a@b@c.de"] {
            assert!(check_email("email", bad).is_err(), "{bad}");
        }
    }
}
