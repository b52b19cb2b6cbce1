//! `Idempotency-Key` for POSTs that create orders or move money.
//!
//! The caller's transaction first takes a transaction-scoped advisory lock on
//! (user, key): a second request with the same key while the first runs cannot
//! get it and is answered 409 at once. Holding the lock, a stored answer is
//! replayed (same body) or refused (different body, 422). Otherwise the work is
//! done and its answer stored in the same transaction, so the key exists exactly
//! when the work committed: a crash leaves neither, and the retry does the work.

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::ids::{OrderId, UserId};
use crate::db::schema::idempotency_keys;
use crate::error::ApiError;

/// What an operation taking an `Idempotency-Key` can answer because of it.
pub const IDEMPOTENCY_PROBLEMS: crate::http::problems::Declared<'static> =
    &[(400, &["idempotency_key_required"]), (409, &["idempotency_key_in_use"]), (422, &["idempotency_key_reused"])];

pub const HEADER: &str = "idempotency-key";
/// Marks an answer that is the stored answer of an earlier request.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
const MAX_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header, required.
pub fn key_from(req: &HttpRequest) -> Result<String, ApiError> {
    let raw = req.headers().get(HEADER).ok_or_else(|| {
        ApiError::bad_request("idempotency_key_required", "Send an `Idempotency-Key` header (a UUID works well).")
    })?;
    let key = raw.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!("`Idempotency-Key` must be 1 to {MAX_KEY_LEN} visible ASCII characters."),
        ));
    }
    Ok(key.to_string())
}

/// A request's fingerprint: the route and its parsed body.
pub fn request_hash(route: &str, body: &impl Serialize) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(body).unwrap_or_default());
    hasher.finalize().to_vec()
}

/// A stored answer to replay.
pub struct Replay {
    pub status: u16,
    pub body: serde_json::Value,
}

/// One use of a key: who sent it, the key, and the request's fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct KeyUse<'a> {
    pub user: UserId,
    pub key: &'a str,
    pub request_hash: &'a [u8],
}

fn lock_key(user: Uuid, key: &str) -> i64 {
    let digest = Sha256::new().chain_update(user.as_bytes()).chain_update(key.as_bytes()).finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Claims `key` for this transaction. `Ok(Some)` is an answer to replay;
/// `Ok(None)` means do the work and call [`store`] before committing.
pub async fn claim(conn: &mut AsyncPgConnection, key: KeyUse<'_>) -> Result<Option<Replay>, ApiError> {
    let KeyUse { user, key, request_hash } = key;
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = Bool)]
        locked: bool,
    }
    let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
        .bind::<BigInt, _>(lock_key(user.0, key))
        .get_result(conn)
        .await?;
    if !locked.locked {
        return Err(ApiError::conflict(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        ));
    }
    let stored: Option<(Vec<u8>, i32, serde_json::Value)> = idempotency_keys::table
        .find((user, key))
        .select((idempotency_keys::request_hash, idempotency_keys::response_status, idempotency_keys::response_body))
        .first(conn)
        .await
        .optional()?;
    match stored {
        None => Ok(None),
        Some((hash, status, body)) if hash == request_hash => Ok(Some(Replay { status: status as u16, body })),
        Some(_) => Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request; use a new key.",
        )),
    }
}

/// Stores the answer for `key` (in the transaction that did the work). Takes a
/// shared connection so the caller may send it pipelined with its last write.
pub async fn store(
    mut conn: &AsyncPgConnection,
    key: KeyUse<'_>,
    status: u16,
    body: &serde_json::Value,
    order_id: Option<OrderId>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let KeyUse { user, key, request_hash } = key;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::response_status.eq(i32::from(status)),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::order_id.eq(order_id),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Replaces the stored answer of the placement that created `order_id` (its
/// BTCPay invoice arrived after the first answer was stored).
pub async fn refresh_answer(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    body: &serde_json::Value,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.filter(idempotency_keys::order_id.eq(order_id)))
        .set(idempotency_keys::response_body.eq(body))
        .execute(conn)
        .await?;
    Ok(())
}
