//! Stream tickets: browsers' EventSource cannot send `Authorization`, so a
//! signed-in client first asks for a ticket (`POST /v1/me/event-stream-tickets`)
//! and opens `GET /v1/me/events?ticket=...`. A ticket is 256 random bits,
//! stored as a SHA-256 digest, valid for [`TICKET_TTL`] and for one stream:
//! redeeming marks it used in the same statement that checks it.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::accounts::secret_token;
use crate::db::ids::UserId;
use crate::db::schema::event_stream_tickets;
use crate::error::{ApiError, ApiResult};

/// How long a ticket may wait to be used.
pub const TICKET_TTL: Duration = Duration::seconds(60);
const PREFIX: &str = "rmt_";

/// A new ticket for `user`, shown once; the user's expired ones are cleared.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> QueryResult<(String, DateTime<Utc>)> {
    diesel::delete(
        event_stream_tickets::table
            .filter(event_stream_tickets::user_id.eq(user.0))
            .filter(event_stream_tickets::expires_at.lt(now)),
    )
    .execute(conn)
    .await?;
    let secret = secret_token::issue(PREFIX);
    let expires_at = now + TICKET_TTL;
    diesel::insert_into(event_stream_tickets::table)
        .values((
            event_stream_tickets::ticket_digest.eq(&secret.digest),
            event_stream_tickets::user_id.eq(user.0),
            event_stream_tickets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok((secret.plaintext, expires_at))
}

pub fn invalid_ticket() -> ApiError {
    ApiError::unauthorized(
        "invalid_stream_ticket",
        "The stream ticket is unknown, expired or already used; ask for a new one.",
    )
}

/// The ticket's user, once: a second use, an expired or unknown ticket is refused.
pub async fn redeem(conn: &mut AsyncPgConnection, ticket: &str, now: DateTime<Utc>) -> ApiResult<UserId> {
    if !ticket.starts_with(PREFIX) || ticket.len() > 100 {
        return Err(invalid_ticket());
    }
    let user: Option<uuid::Uuid> = diesel::update(
        event_stream_tickets::table
            .filter(event_stream_tickets::ticket_digest.eq(secret_token::digest(ticket)))
            .filter(event_stream_tickets::used_at.is_null())
            .filter(event_stream_tickets::expires_at.gt(now)),
    )
    .set(event_stream_tickets::used_at.eq(now))
    .returning(event_stream_tickets::user_id)
    .get_result(conn)
    .await
    .optional()?;
    let user = UserId(user.ok_or_else(invalid_ticket)?);
    if crate::accounts::is_suspended(conn, user).await? {
        return Err(ApiError::forbidden("account_suspended", "This account is suspended."));
    }
    Ok(user)
}
