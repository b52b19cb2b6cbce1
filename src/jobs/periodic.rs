//! Periodic tasks scheduled through the `periodic_tasks` table instead of an
//! in-process cron: the worker that advances a task's `next_run_at` enqueues its
//! run in the same transaction, so with N workers each period fires exactly once.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use serde::{Deserialize, Serialize};

use super::queue;
use crate::db::schema::periodic_tasks;

#[derive(Debug, Clone)]
pub struct PeriodicTask {
    /// Also the job kind it enqueues.
    pub name: &'static str,
    pub every: Duration,
}

/// The payload of a periodic job: the slot of the schedule a run is for (none
/// for a run someone queued by hand).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Tick {
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
}

/// Registers the tasks (first run one period from now) and updates intervals that
/// changed in code. Idempotent; safe to call from every worker at start-up.
pub async fn register(conn: &mut AsyncPgConnection, tasks: &[PeriodicTask], now: DateTime<Utc>) -> QueryResult<()> {
    for task in tasks {
        diesel::insert_into(periodic_tasks::table)
            .values((
                periodic_tasks::name.eq(task.name),
                periodic_tasks::interval_secs.eq(task.every.num_seconds() as i32),
                periodic_tasks::next_run_at.eq(now + task.every),
            ))
            .on_conflict(periodic_tasks::name)
            .do_update()
            .set(periodic_tasks::interval_secs.eq(excluded(periodic_tasks::interval_secs)))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Enqueues every task whose time has come and returns their names. Concurrent
/// callers serialise on the task's row; the loser sees `next_run_at` already moved
/// and enqueues nothing.
pub async fn enqueue_due(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
    conn.transaction(async move |conn| {
        let due: Vec<(String, i32, DateTime<Utc>)> =
            diesel::update(periodic_tasks::table.filter(periodic_tasks::next_run_at.le(now)))
                .set(periodic_tasks::last_run_at.eq(now))
                .returning((periodic_tasks::name, periodic_tasks::interval_secs, periodic_tasks::next_run_at))
                .get_results(conn)
                .await?;
        for (name, interval_secs, was_due_at) in &due {
            let next = next_run_after(*was_due_at, Duration::seconds(i64::from(*interval_secs)), now);
            diesel::update(periodic_tasks::table.find(name))
                .set(periodic_tasks::next_run_at.eq(next))
                .execute(conn)
                .await?;
            queue::enqueue(conn, name, &Tick { due_at: Some(*was_due_at) }, now).await?;
        }
        Ok(due.into_iter().map(|(name, ..)| name).collect())
    })
    .await
}

/// The first slot on the task's grid strictly after `now`. Periods missed while no
/// worker ran are skipped (one catch-up run, not a burst).
pub fn next_run_after(due_at: DateTime<Utc>, every: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = every.num_seconds().max(1);
    let behind = (now - due_at).num_seconds().max(0);
    due_at + Duration::seconds((behind / step + 1) * step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_run_stays_on_the_grid_and_skips_missed_periods() {
        let due = at("2026-01-01T00:00:00Z");
        let hour = Duration::hours(1);
        assert_eq!(next_run_after(due, hour, due), at("2026-01-01T01:00:00Z"));
        assert_eq!(next_run_after(due, hour, at("2026-01-01T00:59:59Z")), at("2026-01-01T01:00:00Z"));
        assert_eq!(next_run_after(due, hour, at("2026-01-01T05:30:00Z")), at("2026-01-01T06:00:00Z"));
    }
}
