//! API keys for price-index consumers: created by a user, shown once, stored as a
//! digest, named, revocable, each with its own requests-per-minute quota.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{ApiKeyView, CreatedApiKey};
use super::secret_token;
use crate::db::schema::{api_keys, users};

pub const KEY_PREFIX: &str = "rmk_";
pub const DEFAULT_REQUESTS_PER_MINUTE: i32 = 60;
pub const MAX_REQUESTS_PER_MINUTE: i32 = 6000;
pub const MAX_ACTIVE_KEYS: i64 = 20;
const SHOWN_PREFIX_LEN: usize = 10;

pub fn looks_like_key(presented: &str) -> bool {
    presented.starts_with(KEY_PREFIX)
}

pub async fn count_active(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<i64> {
    api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .count()
        .get_result(conn)
        .await
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    name: &str,
    requests_per_minute: i32,
    now: DateTime<Utc>,
) -> QueryResult<CreatedApiKey> {
    let secret = secret_token::issue(KEY_PREFIX);
    let prefix: String = secret.plaintext.chars().take(SHOWN_PREFIX_LEN).collect();
    let id = Uuid::now_v7();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(id),
            api_keys::user_id.eq(user_id),
            api_keys::name.eq(name),
            api_keys::prefix.eq(&prefix),
            api_keys::key_hash.eq(&secret.digest),
            api_keys::requests_per_minute.eq(requests_per_minute),
            api_keys::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(CreatedApiKey {
        id,
        name: name.to_string(),
        key: secret.plaintext,
        prefix,
        requests_per_minute,
        created_at: now,
    })
}

pub async fn list(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Vec<ApiKeyView>> {
    api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .order(api_keys::created_at.desc())
        .select(ApiKeyView::as_select())
        .load(conn)
        .await
}

/// Revokes the user's own key; false when there is no such live key of theirs.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let revoked = diesel::update(
        api_keys::table.find(key_id).filter(api_keys::user_id.eq(user_id)).filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)
    .await?;
    Ok(revoked == 1)
}

/// A live key and its owner's state.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub key_id: Uuid,
    pub user_id: Uuid,
    pub requests_per_minute: i32,
    pub owner_suspended: bool,
}

pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    presented: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<KeyOwner>> {
    let found: Option<(Uuid, Uuid, i32, Option<DateTime<Utc>>)> = api_keys::table
        .inner_join(users::table)
        .filter(api_keys::key_hash.eq(secret_token::digest(presented)))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::id, api_keys::user_id, api_keys::requests_per_minute, users::suspended_at))
        .first(conn)
        .await
        .optional()?;
    let Some((key_id, user_id, requests_per_minute, suspended_at)) = found else {
        return Ok(None);
    };
    // Recorded at minute precision: one write per key per minute, not per request.
    diesel::update(
        api_keys::table
            .find(key_id)
            .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(now - chrono::Duration::minutes(1)))),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(conn)
    .await?;
    Ok(Some(KeyOwner { key_id, user_id, requests_per_minute, owner_suspended: suspended_at.is_some() }))
}
