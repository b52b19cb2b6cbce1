//! The links emailed to a user's mailbox (verify the address, reset the
//! password): each carries a single-use token that expires, stored only as a
//! digest. A new link supersedes the older unused ones of the same purpose.

use chrono::{DateTime, Duration, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use url::Url;

use super::model::TokenPurpose;
use super::queries::email_tokens;
use super::secret_token;
use crate::db::ids::UserId;
use crate::error::ApiError;

pub const VERIFY_EMAIL_TTL: Duration = Duration::hours(24);
pub const PASSWORD_RESET_TTL: Duration = Duration::hours(1);

fn ttl(purpose: TokenPurpose) -> Duration {
    match purpose {
        TokenPurpose::VerifyEmail => VERIFY_EMAIL_TTL,
        TokenPurpose::PasswordReset => PASSWORD_RESET_TTL,
    }
}

/// `base` with `path` appended to its own path (a web app may live under a
/// prefix) and the token as `?token=`.
pub fn link(base: &Url, path: &str, token: &str) -> String {
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url.set_query(None);
    url.query_pairs_mut().append_pair("token", token);
    url.to_string()
}

fn invalid_token() -> ApiError {
    ApiError::unprocessable("invalid_token", "This link is invalid, already used or expired.")
}

/// A fresh token for `purpose`; the plaintext goes into the link, never the database.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    email_tokens::supersede_unused(conn, user_id, purpose, now).await?;
    let secret = secret_token::issue("");
    email_tokens::insert(conn, &secret.digest, user_id, purpose, now, now + ttl(purpose)).await?;
    Ok(secret.plaintext)
}

/// Marks a token used and returns its user, or fails if it is unknown, used,
/// expired or for another purpose. The row lock makes "use once" hold under races.
pub async fn consume(
    conn: &mut AsyncPgConnection,
    token: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<UserId, ApiError> {
    let digest = secret_token::digest(token);
    let stored = email_tokens::lock(conn, &digest).await?.ok_or_else(invalid_token)?;
    if stored.purpose != purpose.as_str() || stored.used_at.is_some() || stored.expires_at <= now {
        return Err(invalid_token());
    }
    email_tokens::mark_used(conn, &digest, now).await?;
    Ok(stored.user_id)
}

/// The user of a token that [`consume`] would accept now, without using it.
pub async fn peek(
    conn: &mut AsyncPgConnection,
    token: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<UserId, ApiError> {
    let digest = secret_token::digest(token);
    email_tokens::live_token_user(conn, &digest, purpose, now).await?.ok_or_else(invalid_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_base_path_and_carry_the_token() {
        let app = Url::parse("https://app.example.com/market/").unwrap();
        assert_eq!(link(&app, "/verify-email", "a+b/c"), "https://app.example.com/market/verify-email?token=a%2Bb%2Fc");
        let service = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(link(&service, "/reset-password", "t"), "http://127.0.0.1:8080/reset-password?token=t");
    }
}
