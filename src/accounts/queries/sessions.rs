//! SQL on `sessions` and `refresh_tokens`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::accounts::model::AccountStatus;
use crate::db::ids::UserId;
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::http::ClientInfo;

pub async fn insert_session(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    user_id: UserId,
    client: &ClientInfo,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::last_refreshed_at.eq(now),
            sessions::expires_at.eq(expires_at),
            sessions::ip.eq(&client.ip),
            sessions::user_agent.eq(client.user_agent.as_deref().map(|ua| ua.chars().take(300).collect::<String>())),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_refresh_token(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
    session_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(digest),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A refresh token as presented for rotation.
#[derive(Debug, Queryable)]
pub struct StoredRefreshToken {
    pub session_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub replaced_at: Option<DateTime<Utc>>,
}

/// The refresh token with this digest, locked for the rest of the transaction.
pub async fn lock_refresh_token(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
) -> QueryResult<Option<StoredRefreshToken>> {
    refresh_tokens::table
        .find(digest)
        .select((refresh_tokens::session_id, refresh_tokens::expires_at, refresh_tokens::replaced_at))
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// A session's owner and lifetime.
#[derive(Debug, Queryable)]
pub struct SessionState {
    pub user_id: UserId,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// The session, locked for the rest of the transaction.
pub async fn lock_session(conn: &mut AsyncPgConnection, session_id: Uuid) -> QueryResult<SessionState> {
    sessions::table
        .find(session_id)
        .select((sessions::user_id, sessions::revoked_at, sessions::expires_at))
        .for_update()
        .first(conn)
        .await
}

/// Records that the token was rotated and the session refreshed.
pub async fn mark_rotated(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
    session_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(digest)).set(refresh_tokens::replaced_at.eq(now)).execute(conn).await?;
    diesel::update(sessions::table.find(session_id)).set(sessions::last_refreshed_at.eq(now)).execute(conn).await?;
    Ok(())
}

/// Revokes a live session; false when it was already revoked.
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

/// Revokes every live session of a user.
pub async fn revoke_all(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await
}

/// The session (its id and user) a refresh token digest belongs to.
pub async fn session_of_refresh_token(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
) -> QueryResult<Option<(Uuid, UserId)>> {
    refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(digest))
        .select((sessions::id, sessions::user_id))
        .first(conn)
        .await
        .optional()
}

/// The account behind an access token's session, with the session's lifetime.
pub async fn account_in_session(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    session_id: Uuid,
) -> QueryResult<Option<(AccountStatus, Option<DateTime<Utc>>, DateTime<Utc>)>> {
    users::table
        .inner_join(sessions::table)
        .filter(users::id.eq(user_id))
        .filter(sessions::id.eq(session_id))
        .select((AccountStatus::as_select(), sessions::revoked_at, sessions::expires_at))
        .first(conn)
        .await
        .optional()
}
