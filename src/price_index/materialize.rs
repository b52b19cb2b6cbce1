//! Folding pending observations into the materialized buckets.
//!
//! An observation's insert only records which buckets went stale (a row in
//! `price_index_pending`); the view `price_index_buckets` computes those few
//! buckets live, so every read is exact whether or not this job has run. The job
//! keeps the live part small: every second it recomputes each stale bucket once
//! and stores it, however many observations it took. Migration
//! `2026-12-07-000030_price_index_pending` has the SQL and why readers stay exact.

use chrono::Duration;
use diesel::sql_types::{Integer, Nullable};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::jobs::{Job, JobRegistry, PeriodicJob, Tick};

/// Pending observations folded per run: a run recomputes at most ten buckets per
/// observation, and a full batch queues the next run at once.
pub const BATCH: i32 = 5_000;

/// Every second: materializes the buckets of pending observations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MaterializeBuckets(pub Tick);

impl Job for MaterializeBuckets {
    const KIND: &'static str = "price_index_materialize";
}

impl PeriodicJob for MaterializeBuckets {
    const EVERY: Duration = Duration::seconds(1);
}

/// What one call of [`materialize`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Materialized {
    /// Took this many pending observations (0: nothing was pending).
    Took(i32),
    /// Another transaction is materializing; it will take what is pending.
    Busy,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Nullable<Integer>)]
    taken: Option<i32>,
}

/// Folds up to `batch` pending observations into the materialized buckets, in the
/// caller's transaction (which must be READ COMMITTED, the default: the fold's
/// snapshot has to be newer than the previous fold's commit). Readers see the
/// same answers before and after.
pub async fn materialize(conn: &mut AsyncPgConnection, batch: i32) -> diesel::QueryResult<Materialized> {
    let row: Taken = diesel::sql_query("SELECT price_index_materialize($1) AS taken")
        .bind::<Integer, _>(batch)
        .get_result(conn)
        .await?;
    Ok(row.taken.map_or(Materialized::Busy, Materialized::Took))
}

pub fn register_jobs(registry: &mut JobRegistry, clock: Clock) {
    registry.every(move |conn, _: MaterializeBuckets| {
        let now = clock.now();
        Box::pin(async move {
            if materialize(conn, BATCH).await? == Materialized::Took(BATCH) {
                // A backlog: go on at once rather than at the next period. Reads
                // stay exact meanwhile, but each computes more buckets live.
                tracing::warn!(batch = BATCH, "price index folds are behind; folding the next batch at once");
                crate::jobs::enqueue(conn, &MaterializeBuckets::default(), now).await?;
            }
            Ok(())
        })
    });
}
