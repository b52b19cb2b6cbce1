//! Admins suspending and reinstating accounts. A suspension ends the account's
//! sessions and tells its owner why; both moves are audited in their transaction.
//! (Listings hide a suspended seller's lots by asking `directory`.)

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::model::UserRow;
use super::queries::{sessions, users};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::ids::UserId;
use crate::error::ApiError;
use crate::mail;

/// A checked suspension: a trimmed reason of 1 to 500 characters, for an account
/// other than the admin's own.
#[derive(Debug)]
pub struct Suspension {
    admin_id: UserId,
    user_id: UserId,
    reason: String,
}

impl Suspension {
    pub fn new(admin_id: UserId, user_id: UserId, reason: &str) -> Result<Self, ApiError> {
        let reason = reason.trim().to_string();
        if !(1..=500).contains(&reason.chars().count()) {
            return Err(ApiError::validation("reason", "must be 1 to 500 characters"));
        }
        if user_id == admin_id {
            return Err(ApiError::conflict("cannot_suspend_self", "Admins cannot suspend their own account."));
        }
        Ok(Self { admin_id, user_id, reason })
    }
}

fn user_not_found() -> ApiError {
    ApiError::not_found("user_not_found", "No user has this id.")
}

/// Why a conditional update touched no row: the user is missing (404) or not in
/// the state the action needs (409 with `code`).
async fn wrong_state_or_missing(
    conn: &mut AsyncPgConnection,
    id: UserId,
    code: &'static str,
    detail: &'static str,
) -> ApiError {
    match users::exists(conn, id).await {
        Ok(true) => ApiError::conflict(code, detail),
        Ok(false) => user_not_found(),
        Err(err) => err.into(),
    }
}

pub async fn suspend(
    conn: &mut AsyncPgConnection,
    suspension: &Suspension,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserRow, ApiError> {
    let Suspension { admin_id, user_id, reason } = suspension;
    conn.transaction(async |conn| {
        let Some(row) = users::suspend(conn, *user_id, reason, now).await? else {
            return Err(wrong_state_or_missing(
                conn,
                *user_id,
                "already_suspended",
                "This account is already suspended.",
            )
            .await);
        };
        sessions::revoke_all(conn, row.id, "suspended", now).await?;
        let event = AuditEvent::new(AuditAction::UserSuspended)
            .actor(*admin_id)
            .target_user(row.id)
            .ip(ip)
            .details(serde_json::json!({ "reason": reason }));
        audit::record(conn, event, now).await?;
        mail::enqueue(conn, &row.email, &super::emails::AccountSuspended { reason: reason.clone() }, now).await?;
        Ok(row)
    })
    .await
}

pub async fn reinstate(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    user_id: UserId,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserRow, ApiError> {
    conn.transaction(async |conn| {
        let Some(row) = users::reinstate(conn, user_id, now).await? else {
            return Err(wrong_state_or_missing(conn, user_id, "not_suspended", "This account is not suspended.").await);
        };
        let event = AuditEvent::new(AuditAction::UserReinstated).actor(admin_id).target_user(row.id).ip(ip);
        audit::record(conn, event, now).await?;
        Ok(row)
    })
    .await
}
