//! Sessions: a login creates a session, which issues short-lived access tokens and
//! one live refresh token at a time. Refreshing rotates the refresh token; showing
//! an already-rotated one means it leaked, so the whole session is revoked.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{TokenPair, UserRow};
use super::secret_token;
use crate::accounts::token::{issue_access_token, ACCESS_TOKEN_TTL};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::config::Config;
use crate::db::schema::{refresh_tokens, sessions, users};
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
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(&secret.digest),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(now + REFRESH_TOKEN_TTL),
        ))
        .execute(conn)
        .await?;
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

/// Opens a session for a user whose credentials were just checked.
pub async fn start(
    conn: &mut AsyncPgConnection,
    config: &Config,
    user: &UserRow,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let session_id = Uuid::now_v7();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id),
            sessions::user_id.eq(user.id),
            sessions::created_at.eq(now),
            sessions::last_refreshed_at.eq(now),
            sessions::expires_at.eq(now + REFRESH_TOKEN_TTL),
            sessions::ip.eq(&client.ip),
            sessions::user_agent.eq(client.user_agent.as_deref().map(|ua| ua.chars().take(300).collect::<String>())),
        ))
        .execute(conn)
        .await?;
    let refresh = issue_refresh_token(conn, session_id, now).await?;
    token_pair(config, user, session_id, refresh, now)
}

#[derive(Queryable)]
struct PresentedToken {
    session_id: Uuid,
    expires_at: DateTime<Utc>,
    replaced_at: Option<DateTime<Utc>>,
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
    let outcome: Result<TokenPair, ApiError> = conn
        .transaction(async move |conn| {
            let Some(token) = refresh_tokens::table
                .find(&digest)
                .select((refresh_tokens::session_id, refresh_tokens::expires_at, refresh_tokens::replaced_at))
                .for_update()
                .first::<PresentedToken>(conn)
                .await
                .optional()?
            else {
                return Ok(Err(invalid_refresh()));
            };
            let (session_user, revoked_at, session_expires): (Uuid, Option<DateTime<Utc>>, DateTime<Utc>) =
                sessions::table
                    .find(token.session_id)
                    .select((sessions::user_id, sessions::revoked_at, sessions::expires_at))
                    .for_update()
                    .first(conn)
                    .await?;
            if revoked_at.is_some() {
                return Ok(Err(invalid_refresh()));
            }
            if token.replaced_at.is_some() {
                revoke(conn, token.session_id, "refresh_token_reuse", now).await?;
                let event = AuditEvent::new(AuditAction::RefreshReuseDetected)
                    .actor(session_user)
                    .target("session", token.session_id)
                    .ip(client.ip.as_deref());
                audit::record(conn, event, now).await?;
                return Ok(Err(ApiError::unauthorized(
                    "refresh_token_reused",
                    "This refresh token was already used; the session has been revoked. Log in again.",
                )));
            }
            if token.expires_at <= now || session_expires <= now {
                return Ok(Err(invalid_refresh()));
            }
            let user: UserRow = users::table.find(session_user).select(UserRow::as_select()).first(conn).await?;
            if user.suspended_at.is_some() {
                return Ok(Err(ApiError::forbidden("account_suspended", "This account is suspended.")));
            }
            diesel::update(refresh_tokens::table.find(&digest))
                .set(refresh_tokens::replaced_at.eq(now))
                .execute(conn)
                .await?;
            diesel::update(sessions::table.find(token.session_id))
                .set(sessions::last_refreshed_at.eq(now))
                .execute(conn)
                .await?;
            let next = issue_refresh_token(conn, token.session_id, now).await?;
            Ok::<_, ApiError>(token_pair(config, &user, token.session_id, next, now))
        })
        .await?;
    outcome
}

pub async fn revoke(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let revoked = diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await?;
    Ok(revoked == 1)
}

/// Revokes every live session of a user (password change or reset, suspension).
pub async fn revoke_all(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await
}

/// The session a refresh token belongs to, if the token is known.
pub async fn session_of_refresh_token(
    conn: &mut AsyncPgConnection,
    presented: &str,
) -> QueryResult<Option<(Uuid, Uuid)>> {
    refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(secret_token::digest(presented)))
        .select((sessions::id, sessions::user_id))
        .first(conn)
        .await
        .optional()
}
