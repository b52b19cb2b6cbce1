//! The notifications inbox: every party of an event gets one `notifications`
//! row, written by [`super::record`] in the event's own transaction. The rows
//! live here, beside the outbox, because they must be written where the event
//! is; the `notifications` capability serves them (inbox, settings, live stream)
//! through this module's functions.
//!
//! Each insert also sends `pg_notify('rigmarket_notifications', '<user>:<seq>')`
//! in the same transaction: PostgreSQL delivers it at commit (never for a
//! rollback), so every instance's listener learns of the row and no payload
//! carries the event itself.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::ids::{EventId, UserId};
use crate::db::schema::notifications;

/// The LISTEN/NOTIFY channel; payload `<user uuid>:<seq>`.
pub const CHANNEL: &str = "rigmarket_notifications";

/// One inbox entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub seq: i64,
    pub user_id: Uuid,
    pub event_id: EventId,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub subject_id: Uuid,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Inserts the event (`domain_events`), one inbox row per party, and the
/// notification for each, in one statement; called by `record` only, in its
/// transaction. `parties` come sorted and deduplicated.
pub(super) async fn write_event(
    conn: &AsyncPgConnection,
    event_id: EventId,
    kind: &str,
    subject_id: Uuid,
    parties: &[Uuid],
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    // One user's entries get their seq in commit order: each inserting
    // transaction holds the user's lock until it commits, so a live stream
    // that read up to seq N never sees an N-1 commit later (and a client
    // resuming after N loses nothing). Parties come sorted, so two events'
    // locks are always taken in the same order. The locks are taken before any
    // entry draws its seq: `locked` is counted in full by the condition of the
    // insert's source, which PostgreSQL evaluates once, before the first row.
    let mut conn = conn;
    diesel::sql_query(
        "WITH event AS (
             INSERT INTO domain_events (id, type, subject_id, parties, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)),
         locked AS MATERIALIZED (
             SELECT pg_advisory_xact_lock(hashtextextended($7 || party::text, 0)) FROM unnest($4::uuid[]) AS party),
         added AS (
             INSERT INTO notifications (user_id, event_id, type, subject_id, data, created_at)
             SELECT party, $1, $2, $3, $5, $6 FROM unnest($4::uuid[]) AS party
             WHERE (SELECT count(*) FROM locked) = cardinality($4::uuid[])
             RETURNING user_id, seq)
         SELECT pg_notify($7, user_id::text || ':' || seq::text) FROM added",
    )
    .bind::<SqlUuid, _>(event_id.0)
    .bind::<Text, _>(kind)
    .bind::<SqlUuid, _>(subject_id)
    .bind::<Array<SqlUuid>, _>(parties)
    .bind::<Jsonb, _>(data)
    .bind::<Timestamptz, _>(now)
    .bind::<Text, _>(CHANNEL)
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// The user's entries older than `before` (a seq), newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user.0))
        .order(notifications::seq.desc())
        .limit(limit)
        .select(Notification::as_select())
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notifications::seq.lt(before));
    }
    query.load(conn).await
}

pub async fn unread_count(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// Which entries to mark read.
#[derive(Debug, Clone)]
pub enum ReadSelection {
    Ids(Vec<i64>),
    /// Every entry up to and including this seq.
    UpTo(i64),
}

/// Marks the user's selected unread entries read; returns how many changed.
/// Ids of other users' entries are ignored (they are not the caller's to see).
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    user: UserId,
    selection: &ReadSelection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mine = notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null())
        .into_boxed();
    let target = match selection {
        ReadSelection::Ids(ids) => mine.filter(notifications::seq.eq_any(ids.clone())),
        ReadSelection::UpTo(seq) => mine.filter(notifications::seq.le(*seq)),
    };
    let seqs: Vec<i64> = target.select(notifications::seq).load(conn).await?;
    diesel::update(notifications::table.filter(notifications::seq.eq_any(&seqs)))
        .set(notifications::read_at.eq(now))
        .execute(conn)
        .await
}

/// The user's entries after `seq`, oldest first (what a resuming stream missed).
pub async fn after(conn: &mut AsyncPgConnection, user: UserId, seq: i64, limit: i64) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::seq.gt(seq))
        .order(notifications::seq.asc())
        .limit(limit)
        .select(Notification::as_select())
        .load(conn)
        .await
}

/// One of the user's entries, if it exists (a stream's `Last-Event-ID` must be one).
pub async fn find_own(conn: &mut AsyncPgConnection, user: UserId, seq: i64) -> QueryResult<Option<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::seq.eq(seq))
        .select(Notification::as_select())
        .first(conn)
        .await
        .optional()
}
