//! SQL on `api_keys` (and the owner's standing, read with the key).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::accounts::model::ApiKeyView;
use crate::db::ids::{ApiKeyId, UserId};
use crate::db::schema::{api_keys, users};

pub async fn count_active(conn: &mut AsyncPgConnection, user_id: UserId) -> QueryResult<i64> {
    api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// A key to store: only its digest and a shown prefix, never the key itself.
pub struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub digest: &'a [u8],
    pub requests_per_minute: i32,
}

pub async fn insert(conn: &mut AsyncPgConnection, key: &NewApiKey<'_>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(key.id),
            api_keys::user_id.eq(key.user_id),
            api_keys::name.eq(key.name),
            api_keys::prefix.eq(key.prefix),
            api_keys::key_hash.eq(key.digest),
            api_keys::requests_per_minute.eq(key.requests_per_minute),
            api_keys::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The user's live keys newest first, from before the key keyed `before`
/// (`created_at`, `id`), at most `limit`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    before: Option<(DateTime<Utc>, ApiKeyId)>,
    limit: i64,
) -> QueryResult<Vec<ApiKeyView>> {
    let mut query =
        api_keys::table.filter(api_keys::user_id.eq(user_id)).filter(api_keys::revoked_at.is_null()).into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(api_keys::created_at.lt(at).or(api_keys::created_at.eq(at).and(api_keys::id.lt(id))));
    }
    query
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .limit(limit)
        .select(ApiKeyView::as_select())
        .load(conn)
        .await
}

/// Revokes the user's own key; false when there is no such live key of theirs.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    key_id: ApiKeyId,
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
    pub key_id: ApiKeyId,
    pub user_id: UserId,
    pub requests_per_minute: i32,
    pub owner_suspended: bool,
}

/// The live key with this digest and its owner.
pub async fn live_key(conn: &mut AsyncPgConnection, digest: &[u8]) -> QueryResult<Option<KeyOwner>> {
    let found: Option<(ApiKeyId, UserId, i32, Option<DateTime<Utc>>)> = api_keys::table
        .inner_join(users::table)
        .filter(api_keys::key_hash.eq(digest))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::id, api_keys::user_id, api_keys::requests_per_minute, users::suspended_at))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(key_id, user_id, requests_per_minute, suspended_at)| KeyOwner {
        key_id,
        user_id,
        requests_per_minute,
        owner_suspended: suspended_at.is_some(),
    }))
}

/// Records a use at minute precision: one write per key per minute, not per request.
pub async fn record_use(conn: &mut AsyncPgConnection, key_id: ApiKeyId, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        api_keys::table
            .find(key_id)
            .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(now - chrono::Duration::minutes(1)))),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(conn)
    .await?;
    Ok(())
}
