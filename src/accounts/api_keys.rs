//! API keys for price-index consumers: created by a user, shown once, stored as a
//! digest, named, revocable, each with its own requests-per-minute quota.
//! Creating and revoking are audited in the same transaction.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::model::{ApiKeyView, CreatedApiKey};
use super::queries::api_keys::{self, NewApiKey};
use super::secret_token;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::ids::{ApiKeyId, UserId};
use crate::error::{ApiError, FieldError};

pub use super::queries::api_keys::KeyOwner;

pub const KEY_PREFIX: &str = "rmk_";
pub const DEFAULT_REQUESTS_PER_MINUTE: i32 = 60;
pub const MAX_REQUESTS_PER_MINUTE: i32 = 6000;
pub const MAX_ACTIVE_KEYS: i64 = 20;
const SHOWN_PREFIX_LEN: usize = 10;

pub fn looks_like_key(presented: &str) -> bool {
    presented.starts_with(KEY_PREFIX)
}

/// A checked request for a key: a trimmed name of 1 to 80 characters and a quota
/// within bounds.
#[derive(Debug)]
pub struct KeyRequest {
    name: String,
    requests_per_minute: i32,
}

impl KeyRequest {
    pub fn new(name: &str, requests_per_minute: Option<i32>) -> Result<Self, ApiError> {
        let name = name.trim().to_string();
        let requests_per_minute = requests_per_minute.unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
        let mut errors = Vec::new();
        if !(1..=80).contains(&name.chars().count()) {
            errors.push(FieldError::new("name", "must be 1 to 80 characters"));
        }
        if !(1..=MAX_REQUESTS_PER_MINUTE).contains(&requests_per_minute) {
            errors.push(FieldError::new(
                "requests_per_minute",
                format!("must be between 1 and {MAX_REQUESTS_PER_MINUTE}"),
            ));
        }
        if errors.is_empty() {
            Ok(Self { name, requests_per_minute })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// Creates a key for `user_id` unless they already have the most allowed.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    request: &KeyRequest,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CreatedApiKey, ApiError> {
    conn.transaction(async |conn| {
        if api_keys::count_active(conn, user_id).await? >= MAX_ACTIVE_KEYS {
            return Err(ApiError::conflict("too_many_api_keys", "Revoke an API key before creating another."));
        }
        let created = mint(conn, user_id, request, now).await?;
        let event = AuditEvent::new(AuditAction::ApiKeyCreated).actor(user_id).target("api_key", created.id).ip(ip);
        audit::record(conn, event, now).await?;
        Ok(created)
    })
    .await
}

async fn mint(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    request: &KeyRequest,
    now: DateTime<Utc>,
) -> QueryResult<CreatedApiKey> {
    let secret = secret_token::issue(KEY_PREFIX);
    let prefix: String = secret.plaintext.chars().take(SHOWN_PREFIX_LEN).collect();
    let key = NewApiKey {
        id: ApiKeyId::new(),
        user_id,
        name: &request.name,
        prefix: &prefix,
        digest: &secret.digest,
        requests_per_minute: request.requests_per_minute,
    };
    api_keys::insert(conn, &key, now).await?;
    Ok(CreatedApiKey {
        id: key.id,
        name: request.name.clone(),
        key: secret.plaintext,
        prefix,
        requests_per_minute: request.requests_per_minute,
        created_at: now,
    })
}

/// The user's live keys, newest first (without the keys themselves).
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    before: Option<(DateTime<Utc>, ApiKeyId)>,
    limit: i64,
) -> QueryResult<Vec<ApiKeyView>> {
    api_keys::list(conn, user_id, before, limit).await
}

/// Revokes one of the user's own live keys (404 otherwise).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    key_id: ApiKeyId,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    conn.transaction(async |conn| {
        if !api_keys::revoke(conn, user_id, key_id, now).await? {
            return Err(ApiError::not_found("api_key_not_found", "You have no active API key with this id."));
        }
        let event = AuditEvent::new(AuditAction::ApiKeyRevoked).actor(user_id).target("api_key", key_id).ip(ip);
        audit::record(conn, event, now).await?;
        Ok(())
    })
    .await
}

/// The live key a caller presented and its owner, recording its use.
pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    presented: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<KeyOwner>> {
    let Some(owner) = api_keys::live_key(conn, &secret_token::digest(presented)).await? else {
        return Ok(None);
    };
    api_keys::record_use(conn, owner.key_id, now).await?;
    Ok(Some(owner))
}
