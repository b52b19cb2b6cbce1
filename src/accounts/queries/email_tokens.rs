//! SQL on `email_tokens`: the digests of emailed single-use tokens.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::accounts::model::TokenPurpose;
use crate::db::ids::UserId;
use crate::db::schema::email_tokens;

/// Marks the user's unused tokens for `purpose` used: a new link supersedes them.
pub async fn supersede_unused(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
    user_id: UserId,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(digest),
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::created_at.eq(now),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A stored token as its consumer checks it.
#[derive(Debug, Queryable)]
pub struct StoredEmailToken {
    pub user_id: UserId,
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// The token with this digest, locked for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, digest: &[u8]) -> QueryResult<Option<StoredEmailToken>> {
    email_tokens::table
        .find(digest)
        .select((email_tokens::user_id, email_tokens::purpose, email_tokens::expires_at, email_tokens::used_at))
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn mark_used(conn: &mut AsyncPgConnection, digest: &[u8], now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(email_tokens::table.find(digest)).set(email_tokens::used_at.eq(now)).execute(conn).await?;
    Ok(())
}

/// The user of an unused, unexpired token for `purpose`, without locking or using it.
pub async fn live_token_user(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> QueryResult<Option<UserId>> {
    email_tokens::table
        .find(digest)
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(email_tokens::user_id)
        .first(conn)
        .await
        .optional()
}
