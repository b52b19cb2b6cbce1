//! Registration and email verification: an account is created with a password
//! and confirmed through a link sent to its address.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::email_links::{self, link};
use super::model::{NewUser, RegisteredView, TokenPurpose};
use super::password;
use super::queries::users;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::ids::UserId;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::mail;
use crate::validation::Problems;

pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A deliberately modest check: one `@`, a dot in the domain, no spaces. The
/// verification email is the real test.
pub fn check_email(problems: &mut Problems, field: &str, email: &str) {
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if !valid {
        problems.add(field, "must be an email address");
    }
}

pub fn check_display_name(problems: &mut Problems, field: &str, name: &str) {
    problems.text(field, name.trim(), 1, 80);
}

/// A registration as submitted.
pub struct Registration {
    pub email: String,
    pub password: SecretString,
    pub display_name: String,
}

/// Registers an account and emails a verification link. An address that already
/// has an account gets the same answer (with an id that leads nowhere) and a
/// warning email, and the password is hashed either way so timing matches.
/// Takes the pool because the hash is computed before a connection is held.
pub async fn register(
    pool: &DbPool,
    web_url: &Url,
    input: Registration,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RegisteredView, ApiError> {
    let email = normalize_email(&input.email);
    let mut problems = Problems::default();
    check_email(&mut problems, "email", &email);
    check_display_name(&mut problems, "display_name", &input.display_name);
    password::check_policy(&mut problems, "password", input.password.expose_secret(), &email);
    problems.into_result()?;
    let display_name = input.display_name.trim().to_string();
    let hash = password::hash(input.password).await?;
    let user = NewUser { id: UserId::new(), email: &email, password_hash: &hash, display_name: &display_name };
    let mut conn = pool.get().await?;
    conn.transaction(async |conn| welcome_or_warn(conn, web_url, &user, ip, now).await).await?;
    Ok(RegisteredView { id: user.id, email, display_name, email_verified: false })
}

/// Writes a new account with its verification email, or, when the address is
/// taken, only warns its owner.
async fn welcome_or_warn(
    conn: &mut AsyncPgConnection,
    web_url: &Url,
    user: &NewUser<'_>,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if !users::insert_unless_taken(conn, user, now).await? {
        mail::enqueue(conn, user.email, &super::emails::RegistrationAttempted, now).await?;
        return Ok(());
    }
    let token = email_links::issue(conn, user.id, TokenPurpose::VerifyEmail, now).await?;
    let template = super::emails::VerifyEmail {
        display_name: user.display_name.to_string(),
        link: link(web_url, super::pages::VERIFY_EMAIL_PAGE, &token),
    };
    mail::enqueue(conn, user.email, &template, now).await?;
    audit::record(conn, AuditEvent::new(AuditAction::Register).actor(user.id).target_user(user.id).ip(ip), now).await?;
    Ok(())
}

pub async fn verify_email(conn: &mut AsyncPgConnection, token: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    conn.transaction(async |conn| {
        let user_id = email_links::consume(conn, token, TokenPurpose::VerifyEmail, now).await?;
        users::mark_email_verified(conn, user_id, now).await?;
        audit::record(conn, AuditEvent::new(AuditAction::EmailVerified).actor(user_id).target_user(user_id), now)
            .await?;
        Ok::<_, ApiError>(())
    })
    .await
}

/// Sends a fresh verification link if the address belongs to an unverified
/// account; answers the same either way.
pub async fn resend_verification(
    conn: &mut AsyncPgConnection,
    web_url: &Url,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    conn.transaction(async |conn| {
        let Some(user) = users::find_by_email(conn, &normalize_email(email)).await? else {
            return Ok(());
        };
        if user.email_verified_at.is_none() {
            let token = email_links::issue(conn, user.id, TokenPurpose::VerifyEmail, now).await?;
            let template = super::emails::VerifyEmail {
                display_name: user.display_name,
                link: link(web_url, super::pages::VERIFY_EMAIL_PAGE, &token),
            };
            mail::enqueue(conn, &user.email, &template, now).await?;
        }
        Ok::<_, anyhow::Error>(())
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_loosely_and_normalised() {
        assert_eq!(normalize_email("  Miner@Example.COM "), "miner@example.com");
        let accepts = |email: &str| {
            let mut problems = Problems::default();
            check_email(&mut problems, "email", email);
            problems.is_empty()
        };
        for good in ["a@b.co", "first.last+tag@sub.example.kz"] {
            assert!(accepts(good), "{good}");
        }
        for bad in ["", "plain", "@b.co", "a@b", "a@.b", "a b@c.de", "a@b.c.", "a@b@c.de"] {
            assert!(!accepts(bad), "{bad}");
        }
    }
}
