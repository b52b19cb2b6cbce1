//! Login throttling, shared by every instance through the `login_throttle` table:
//! consecutive failures per account email and per client IP. From the fifth (per
//! account) or twentieth (per IP) failure on, each failure doubles the wait
//! (1 s, 2 s, 4 s ... up to 15 minutes). The email key exists whether or not the
//! account does, so throttling reveals nothing.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::login_throttle;
use crate::ratelimit::{wait_secs, Quota};

/// Failures after which every further attempt waits.
pub const FREE_FAILURES_PER_ACCOUNT: i32 = 5;
pub const FREE_FAILURES_PER_IP: i32 = 20;
const MAX_BLOCK: Duration = Duration::minutes(15);
/// A failure streak older than this is forgotten.
const STREAK_MEMORY: Duration = Duration::hours(1);

/// How long a key is blocked after `failures` consecutive failures.
pub fn block_after(failures: i32, free: i32) -> Option<Duration> {
    let excess = failures - free + 1;
    if excess <= 0 {
        return None;
    }
    let seconds = 1_i64.checked_shl((excess - 1).min(20) as u32).unwrap_or(i64::MAX);
    Some(Duration::seconds(seconds).min(MAX_BLOCK))
}

#[derive(Debug, Clone)]
pub struct ThrottleKeys {
    keys: Vec<(String, i32)>,
}

impl ThrottleKeys {
    pub fn new(email: &str, ip: Option<&str>) -> Self {
        let mut keys = vec![(format!("account:{}", email.trim().to_lowercase()), FREE_FAILURES_PER_ACCOUNT)];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), FREE_FAILURES_PER_IP));
        }
        Self { keys }
    }

    fn account_key(&self) -> &str {
        &self.keys[0].0
    }
}

/// Seconds the caller must still wait, if any key is blocked.
pub async fn blocked_for(
    conn: &mut AsyncPgConnection,
    keys: &ThrottleKeys,
    now: DateTime<Utc>,
) -> QueryResult<Option<u64>> {
    let names: Vec<&str> = keys.keys.iter().map(|(k, _)| k.as_str()).collect();
    let until: Option<DateTime<Utc>> = login_throttle::table
        .filter(login_throttle::key.eq_any(names))
        .filter(login_throttle::blocked_until.gt(now))
        .select(diesel::dsl::max(login_throttle::blocked_until))
        .first::<Option<DateTime<Utc>>>(conn)
        .await?;
    Ok(until.map(|until| wait_secs(until - now)))
}

/// A key's live failure streak.
#[derive(Queryable)]
struct Streak {
    key: String,
    failures: i32,
    last_failure_at: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
}

/// Where the caller stands, for the `RateLimit-*` headers of a login answer:
/// the failures still free before waits start, on the key closest to its
/// allowance, and the seconds until that changes: the end of the current wait
/// while blocked, else until the failure streak is forgotten (0 without one).
pub async fn quota(conn: &mut AsyncPgConnection, keys: &ThrottleKeys, now: DateTime<Utc>) -> QueryResult<Quota> {
    let names: Vec<&str> = keys.keys.iter().map(|(k, _)| k.as_str()).collect();
    let rows: Vec<Streak> = login_throttle::table
        .filter(login_throttle::key.eq_any(names))
        .filter(login_throttle::last_failure_at.ge(now - STREAK_MEMORY))
        .select((
            login_throttle::key,
            login_throttle::failures,
            login_throttle::last_failure_at,
            login_throttle::blocked_until,
        ))
        .load(conn)
        .await?;
    let standing = keys.keys.iter().map(|(key, free)| {
        let row = rows.iter().find(|row| &row.key == key);
        let failures = row.map_or(0, |row| row.failures);
        let blocked_until = row.and_then(|row| row.blocked_until).filter(|until| *until > now);
        let reset = match (blocked_until, row) {
            (Some(until), _) => wait_secs(until - now),
            (None, Some(row)) => wait_secs(row.last_failure_at + STREAK_MEMORY - now),
            (None, None) => 0,
        };
        Quota {
            limit: *free as u32,
            remaining: (free - failures).max(0) as u32,
            reset_secs: reset,
            allowed: blocked_until.is_none(),
        }
    });
    Ok(standing
        .min_by_key(|quota| (quota.allowed, quota.remaining, std::cmp::Reverse(quota.reset_secs)))
        .expect("there is always an account key"))
}

pub async fn record_failure(conn: &mut AsyncPgConnection, keys: &ThrottleKeys, now: DateTime<Utc>) -> QueryResult<()> {
    for (key, free) in &keys.keys {
        // A stale streak starts over rather than adding to old failures.
        diesel::delete(login_throttle::table.find(key).filter(login_throttle::last_failure_at.lt(now - STREAK_MEMORY)))
            .execute(conn)
            .await?;
        let failures: i32 = diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::key.eq(key),
                login_throttle::failures.eq(1),
                login_throttle::last_failure_at.eq(now),
            ))
            .on_conflict(login_throttle::key)
            .do_update()
            .set((login_throttle::failures.eq(login_throttle::failures + 1), login_throttle::last_failure_at.eq(now)))
            .returning(login_throttle::failures)
            .get_result(conn)
            .await?;
        if let Some(block) = block_after(failures, *free) {
            diesel::update(login_throttle::table.find(key))
                .set(login_throttle::blocked_until.eq(now + block))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// A successful login clears the account's streak (not the IP's: one good
/// password must not let an attacker reset a spraying streak).
pub async fn record_success(conn: &mut AsyncPgConnection, keys: &ThrottleKeys) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(keys.account_key())).execute(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_allowance_and_double_up_to_a_cap() {
        assert_eq!(block_after(4, 5), None);
        assert_eq!(block_after(5, 5), Some(Duration::seconds(1)));
        assert_eq!(block_after(6, 5), Some(Duration::seconds(2)));
        assert_eq!(block_after(9, 5), Some(Duration::seconds(16)));
        assert_eq!(block_after(40, 5), Some(Duration::minutes(15)));
        assert_eq!(block_after(i32::MAX, 5), Some(Duration::minutes(15)));
    }

    #[test]
    fn a_wait_that_is_not_whole_seconds_is_announced_rounded_up() {
        // 2 s blocked, 0.5 s gone: waiting 1 s (rounded down) would be refused again.
        assert_eq!(wait_secs(Duration::seconds(2) - Duration::milliseconds(500)), 2);
    }
}
