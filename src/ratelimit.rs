//! Request quotas shared by every instance: fixed one-minute windows counted in
//! PostgreSQL with one upsert per request (`hits = hits + 1 RETURNING hits`), so
//! two instances behind a load balancer enforce one limit together.

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::rate_limit_windows;

pub const WINDOW: Duration = Duration::minutes(1);

/// The outcome of counting one request, also sent as `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
    pub allowed: bool,
}

/// Counts a request against `bucket` (e.g. `api_key:<id>`) and says whether it
/// fits in `limit` per minute.
pub async fn hit(conn: &mut AsyncPgConnection, bucket: &str, limit: u32, now: DateTime<Utc>) -> QueryResult<Quota> {
    let window_start = now.duration_trunc(WINDOW).unwrap_or(now);
    let hits: i32 = diesel::insert_into(rate_limit_windows::table)
        .values((
            rate_limit_windows::bucket.eq(bucket),
            rate_limit_windows::window_start.eq(window_start),
            rate_limit_windows::hits.eq(1),
        ))
        .on_conflict((rate_limit_windows::bucket, rate_limit_windows::window_start))
        .do_update()
        .set(rate_limit_windows::hits.eq(rate_limit_windows::hits + excluded(rate_limit_windows::hits)))
        .returning(rate_limit_windows::hits)
        .get_result(conn)
        .await?;
    Ok(quota(limit, hits.max(0) as u32, window_start + WINDOW - now))
}

pub fn quota(limit: u32, hits: u32, until_reset: Duration) -> Quota {
    Quota { limit, remaining: limit.saturating_sub(hits), reset_secs: wait_secs(until_reset), allowed: hits <= limit }
}

/// `wait` in whole seconds for `Retry-After` and `RateLimit-Reset`: rounded up,
/// so a client that waits as told is not refused again, and never 0 (a refused
/// client must wait).
pub fn wait_secs(wait: Duration) -> u64 {
    let whole = wait.num_seconds();
    let partial = wait - Duration::seconds(whole) > Duration::zero();
    (whole + i64::from(partial)).max(1) as u64
}

/// Forgets windows older than an hour (a periodic job).
/// Hourly: drops windows that can no longer count.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PruneRateLimits(pub crate::jobs::Tick);

impl crate::jobs::Job for PruneRateLimits {
    const KIND: &'static str = "prune_rate_limits";
}

impl crate::jobs::PeriodicJob for PruneRateLimits {
    const EVERY: Duration = Duration::hours(1);
}

pub fn register_jobs(registry: &mut crate::jobs::JobRegistry, clock: crate::clock::Clock) {
    registry.every(move |conn, _: PruneRateLimits| {
        let now = clock.now();
        Box::pin(async move {
            prune(conn, now).await?;
            Ok(())
        })
    });
}

pub async fn prune(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(rate_limit_windows::table.filter(rate_limit_windows::window_start.lt(now - Duration::hours(1))))
        .execute(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_counts_down_and_refuses_past_the_limit() {
        let q = quota(3, 3, Duration::seconds(20));
        assert!(q.allowed);
        assert_eq!((q.remaining, q.reset_secs), (0, 20));
        let over = quota(3, 4, Duration::milliseconds(300));
        assert!(!over.allowed);
        assert_eq!(over.reset_secs, 1, "never tells a client to retry after 0 s");
        let late = quota(3, 4, Duration::milliseconds(59_700));
        assert_eq!(late.reset_secs, 60, "59.7 s to wait is 60, not 59");
    }

    #[test]
    fn waits_round_up_to_whole_seconds_and_never_to_zero() {
        for (millis, secs) in
            [(1, 1), (999, 1), (1000, 1), (1001, 2), (1500, 2), (2000, 2), (59_999, 60), (900_000, 900)]
        {
            assert_eq!(wait_secs(Duration::milliseconds(millis)), secs, "{millis} ms");
        }
        assert_eq!(wait_secs(Duration::nanoseconds(1)), 1);
        assert_eq!(wait_secs(Duration::zero()), 1);
        assert_eq!(wait_secs(Duration::seconds(-3)), 1);
    }
}
