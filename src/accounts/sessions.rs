//! Sessions: a login creates a session, which issues short-lived access tokens and
//! one live refresh token at a time. Refreshing rotates the refresh token; showing
//! an already-rotated one means it leaked, so the whole session is revoked.

use chrono::{DateTime, Duration, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{TokenPair, UserRow};
use super::queries::{sessions, users};
use super::secret_token;
use super::token::{issue_access_token, ACCESS_TOKEN_TTL};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::config::Config;
use crate::db::ids::UserId;
use crate::error::ApiError;
pub use crate::http::ClientInfo;

pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
const REFRESH_PREFIX: &str = "rmr_";

async fn issue_refresh_token(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    let secret = secret_token::issue(REFRESH_PREFIX);
    sessions::insert_refresh_token(conn, &secret.digest, session_id, now, now + REFRESH_TOKEN_TTL).await?;
    Ok(secret.plaintext)
}

fn token_pair(
    config: &Config,
    user: &UserRow,
    session_id: Uuid,
    refresh: String,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    Ok(TokenPair {
        access_token: issue_access_token(config, user.id, session_id, &user.roles, now)?,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
    })
}

/// Opens a session for a user whose credentials were just checked; `config`
/// signs the access token.
pub async fn start(
    conn: &mut AsyncPgConnection,
    config: &Config,
    user: &UserRow,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let session_id = Uuid::now_v7();
    sessions::insert_session(conn, session_id, user.id, client, now, now + REFRESH_TOKEN_TTL).await?;
    let refresh = issue_refresh_token(conn, session_id, now).await?;
    token_pair(config, user, session_id, refresh, now)
}

fn invalid_refresh() -> ApiError {
    ApiError::unauthorized("invalid_refresh_token", "The refresh token is invalid, expired or revoked; log in again.")
}

/// Rotates a refresh token. The token row is locked, so two concurrent refreshes
/// with one token cannot both succeed: the second counts as reuse.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    config: &Config,
    presented: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let digest = secret_token::digest(presented);
    // A refusal is returned as the transaction's value so that the reuse
    // revocation it may have written still commits.
    conn.transaction(async |conn| rotate(conn, config, &digest, client, now).await).await?
}

/// The body of [`refresh`]: `Ok(Err(..))` refuses after committing what was written.
async fn rotate(
    conn: &mut AsyncPgConnection,
    config: &Config,
    digest: &[u8],
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Result<TokenPair, ApiError>, ApiError> {
    let Some(token) = sessions::lock_refresh_token(conn, digest).await? else {
        return Ok(Err(invalid_refresh()));
    };
    let session = sessions::lock_session(conn, token.session_id).await?;
    if session.revoked_at.is_some() {
        return Ok(Err(invalid_refresh()));
    }
    if token.replaced_at.is_some() {
        revoke_on_reuse(conn, token.session_id, session.user_id, client, now).await?;
        return Ok(Err(ApiError::unauthorized(
            "refresh_token_reused",
            "This refresh token was already used; the session has been revoked. Log in again.",
        )));
    }
    if token.expires_at <= now || session.expires_at <= now {
        return Ok(Err(invalid_refresh()));
    }
    let user = users::find(conn, session.user_id).await?.ok_or(diesel::result::Error::NotFound)?;
    if user.suspended_at.is_some() {
        return Ok(Err(ApiError::forbidden("account_suspended", "This account is suspended.")));
    }
    sessions::mark_rotated(conn, digest, token.session_id, now).await?;
    let next = issue_refresh_token(conn, token.session_id, now).await?;
    Ok(token_pair(config, &user, token.session_id, next, now))
}

/// A rotated token came back: it leaked, so its session ends.
async fn revoke_on_reuse(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    user_id: UserId,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    sessions::revoke(conn, session_id, "refresh_token_reuse", now).await?;
    let event = AuditEvent::new(AuditAction::RefreshReuseDetected)
        .actor(user_id)
        .target("session", session_id)
        .ip(client.ip.as_deref());
    audit::record(conn, event, now).await
}

/// Ends the session of a refresh token (its access tokens stop working too);
/// the first logout of a session is audited.
pub async fn logout(
    conn: &mut AsyncPgConnection,
    presented: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let digest = secret_token::digest(presented);
    conn.transaction(async |conn| {
        let (session_id, user_id) = sessions::session_of_refresh_token(conn, &digest)
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid_refresh_token", "The refresh token is unknown."))?;
        if sessions::revoke(conn, session_id, "logout", now).await? {
            let event = AuditEvent::new(AuditAction::Logout).actor(user_id).target("session", session_id).ip(ip);
            audit::record(conn, event, now).await?;
        }
        Ok::<_, ApiError>(())
    })
    .await
}
