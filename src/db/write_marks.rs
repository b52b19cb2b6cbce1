//! Where each caller's last write is in the primary's WAL, kept in the
//! primary's `caller_write_lsns` (UNLOGGED: never replicated, not
//! crash-safe, and neither matters for a hint that only ever sends a read to
//! the primary) so that every instance sees every instance's writes.
//!
//! Positions are `pg_lsn` minus `0/0` as a `bigint`. The mark is the primary's
//! WAL write position read after the caller's transactions committed, so it is
//! at or past their commit records (with `synchronous_commit` on, a commit is
//! written before it returns).

use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = BigInt)]
    lsn: i64,
}

/// Notes that `user` has just written.
pub async fn record_write(conn: &mut AsyncPgConnection, user: Uuid) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO caller_write_lsns (user_id, lsn) \
         VALUES ($1, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint) \
         ON CONFLICT (user_id) DO UPDATE \
         SET lsn = GREATEST(caller_write_lsns.lsn, EXCLUDED.lsn), written_at = now()",
    )
    .bind::<SqlUuid, _>(user)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The position a replica must have replayed before it may answer `user`.
pub async fn last_write_lsn(conn: &mut AsyncPgConnection, user: Uuid) -> diesel::QueryResult<Option<i64>> {
    use diesel::OptionalExtension;
    diesel::sql_query("SELECT lsn FROM caller_write_lsns WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .get_result::<Lsn>(conn)
        .await
        .optional()
        .map(|row| row.map(|row| row.lsn))
}

/// The primary's WAL write position now.
pub async fn primary_lsn(conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
    diesel::sql_query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn")
        .get_result::<Lsn>(conn)
        .await
        .map(|row| row.lsn)
}
