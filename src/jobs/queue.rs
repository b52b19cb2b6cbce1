//! Queue primitives: enqueue inside the caller's transaction, claim with
//! `FOR UPDATE SKIP LOCKED`, record success or failure with backoff.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::schema::jobs;

pub const STATUS_QUEUED: &str = "queued";
pub const STATUS_DEAD: &str = "dead";
const DEFAULT_MAX_ATTEMPTS: i32 = 8;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = jobs)]
pub struct QueuedJob {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: String,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = jobs)]
struct NewJob<'a> {
    kind: &'a str,
    payload: serde_json::Value,
    run_at: DateTime<Utc>,
    max_attempts: i32,
}

/// Enqueues a job. Pass the connection of the transaction that causes the job, so
/// the job exists if and only if that transaction commits (the outbox pattern).
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    kind: &str,
    payload: &impl Serialize,
    run_at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let payload = serde_json::to_value(payload)?;
    let id = diesel::insert_into(jobs::table)
        .values(NewJob { kind, payload, run_at, max_attempts: DEFAULT_MAX_ATTEMPTS })
        .returning(jobs::id)
        .get_result(conn)
        .await?;
    Ok(id)
}

/// A job ready to insert (see [`super::Batch`]).
#[derive(Debug)]
pub(super) struct Enqueued {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
}

/// Enqueues `jobs` in one statement, in the caller's transaction.
pub(super) async fn enqueue_all(conn: &mut AsyncPgConnection, jobs: Vec<Enqueued>) -> anyhow::Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewJob> = jobs
        .into_iter()
        .map(|job| NewJob {
            kind: job.kind,
            payload: job.payload,
            run_at: job.run_at,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        })
        .collect();
    diesel::insert_into(jobs::table).values(&rows).execute(conn).await?;
    Ok(())
}

/// Locks the next due job for the rest of the caller's transaction. Other workers
/// skip it; if this process dies, PostgreSQL releases the lock and the job is due
/// again, so a claim can never be left stranded.
pub async fn claim_next(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Option<QueuedJob>> {
    jobs::table
        .filter(jobs::status.eq(STATUS_QUEUED))
        .filter(jobs::run_at.le(now))
        .order((jobs::run_at, jobs::id))
        .limit(1)
        .for_update()
        .skip_locked()
        .select(QueuedJob::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn complete(conn: &mut AsyncPgConnection, job_id: i64) -> QueryResult<()> {
    diesel::delete(jobs::table.find(job_id)).execute(conn).await?;
    Ok(())
}

/// Exponential backoff: 10 s, 20 s, 40 s ... capped at one hour, so a flaky SMTP
/// server is retried for hours before the job is declared dead.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 16) as u32 - 1;
    Duration::seconds((10_i64 << exponent).min(3600))
}

/// When a failed job runs again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Spread retries over the upper half of each [`backoff`] step ("equal
    /// jitter"): jobs that failed together (an SMTP outage) then do not all come
    /// back in the same second. Off only where a test needs exact schedules.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { jitter: true }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failure.
    pub fn delay(&self, attempts: i32) -> Duration {
        let full = backoff(attempts);
        if !self.jitter {
            return full;
        }
        let half = full.num_milliseconds() / 2;
        Duration::milliseconds(half + rand::random_range(0..=half))
    }
}

/// Records a failed attempt: schedules a retry, or marks the job dead once it has
/// used all its attempts. Dead jobs are kept (see `list_dead`).
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    job: &QueuedJob,
    error: &str,
    retry: RetryPolicy,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let attempts = job.attempts + 1;
    let dead = attempts >= job.max_attempts;
    diesel::update(jobs::table.find(job.id))
        .set((
            jobs::attempts.eq(attempts),
            jobs::last_error.eq(truncate(error, 2000)),
            jobs::status.eq(if dead { STATUS_DEAD } else { STATUS_QUEUED }),
            jobs::run_at.eq(if dead { now } else { now + retry.delay(attempts) }),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(dead)
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

pub async fn list_dead(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<QueuedJob>> {
    jobs::table
        .filter(jobs::status.eq(STATUS_DEAD))
        .order(jobs::updated_at.desc())
        .limit(limit)
        .select(QueuedJob::as_select())
        .load(conn)
        .await
}

/// Puts a dead job back in the queue with a fresh set of attempts.
pub async fn retry_dead(conn: &mut AsyncPgConnection, job_id: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    let updated = diesel::update(jobs::table.find(job_id).filter(jobs::status.eq(STATUS_DEAD)))
        .set((jobs::status.eq(STATUS_QUEUED), jobs::attempts.eq(0), jobs::run_at.eq(now), jobs::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueueDepth {
    pub due: i64,
    pub scheduled: i64,
    pub dead: i64,
}

pub async fn depth(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<QueueDepth> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        due: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        scheduled: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        dead: i64,
    }
    // One pass over the table for all three gauges.
    let counts: Counts = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE status = 'queued' AND run_at <= $1) AS due,
                count(*) FILTER (WHERE status = 'queued' AND run_at > $1) AS scheduled,
                count(*) FILTER (WHERE status = 'dead') AS dead
           FROM jobs",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .get_result(conn)
    .await?;
    Ok(QueueDepth { due: counts.due, scheduled: counts.scheduled, dead: counts.dead })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(5), Duration::seconds(160));
        assert_eq!(backoff(12), Duration::seconds(3600));
        assert_eq!(backoff(100), Duration::seconds(3600));
    }

    #[test]
    fn jittered_delays_stay_in_the_upper_half_of_each_step() {
        let policy = RetryPolicy { jitter: true };
        for attempts in 1..=14 {
            let full = backoff(attempts);
            let delays: Vec<Duration> = (0..200).map(|_| policy.delay(attempts)).collect();
            assert!(delays.iter().all(|d| *d >= full / 2 && *d <= full), "attempt {attempts}: {delays:?}");
            assert!(delays.iter().any(|d| *d != delays[0]), "attempt {attempts} is not spread: {delays:?}");
        }
        assert_eq!(RetryPolicy { jitter: false }.delay(3), Duration::seconds(40));
    }
}
