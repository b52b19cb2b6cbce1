//! Running jobs: one at a time per worker, each in the transaction that claimed it.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::Instrument;

use super::job::{Job, PeriodicJob};
use super::periodic::{self, Tick};
use super::queue::{self, RetryPolicy};
use super::registry::JobRegistry;
use crate::clock::Clock;
use crate::db::schema::jobs;
use crate::db::DbPool;
use crate::metrics::Metrics;

/// How long dead jobs stay visible before the daily prune removes them.
const DEAD_JOB_RETENTION_DAYS: i64 = 30;
const IDLE_POLL: StdDuration = StdDuration::from_millis(500);

#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Idle,
    Succeeded { job_id: i64 },
    Failed { job_id: i64, dead: bool },
}

/// Claims due jobs and runs them through the registry. Cheap to clone; every
/// worker of a process shares one.
#[derive(Clone)]
pub struct JobRunner {
    registry: Arc<JobRegistry>,
    pool: DbPool,
    clock: Clock,
    metrics: Metrics,
    retry: RetryPolicy,
}

impl JobRunner {
    pub fn new(registry: JobRegistry, pool: DbPool, clock: Clock, metrics: Metrics, retry: RetryPolicy) -> Self {
        Self { registry: Arc::new(registry), pool, clock, metrics, retry }
    }

    pub fn registry(&self) -> &JobRegistry {
        &self.registry
    }

    /// Claims and runs at most one due job.
    pub async fn run_next(&self) -> anyhow::Result<RunOutcome> {
        let mut conn = self.pool.get().await?;
        let now = self.clock.now();
        conn.transaction(async move |conn| {
            let Some(job) = queue::claim_next(conn, now).await? else {
                return Ok(RunOutcome::Idle);
            };
            let span = tracing::info_span!("job", job.id = job.id, job.kind = %job.kind, job.attempt = job.attempts + 1);
            let result = conn.transaction(async |conn| self.dispatch(conn, &job).await).instrument(span).await;
            match result {
                Ok(()) => {
                    queue::complete(conn, job.id).await?;
                    self.metrics.jobs_finished.with_label_values(&[&job.kind, "ok"]).inc();
                    Ok(RunOutcome::Succeeded { job_id: job.id })
                }
                Err(err) => {
                    let error = format!("{err:#}");
                    let dead = queue::record_failure(conn, &job, &error, self.retry, self.clock.now()).await?;
                    let outcome = if dead { "dead" } else { "retry" };
                    self.metrics.jobs_finished.with_label_values(&[&job.kind, outcome]).inc();
                    tracing::warn!(job.id = job.id, job.kind = %job.kind, job.dead = dead, error = %error, "job failed");
                    Ok(RunOutcome::Failed { job_id: job.id, dead })
                }
            }
        })
        .await
    }

    async fn dispatch(&self, conn: &mut AsyncPgConnection, job: &queue::QueuedJob) -> anyhow::Result<()> {
        match self.registry.handler(&job.kind) {
            Some(handler) => handler(conn, job.payload.clone()).await,
            None => anyhow::bail!("unknown job kind {:?}", job.kind),
        }
    }

    /// Runs jobs until nothing is due (tests drive the queue with this after
    /// moving the clock). Returns how many ran.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut ran = 0;
        periodic::enqueue_due(&mut *self.pool.get().await?, self.clock.now()).await?;
        while self.run_next().await? != RunOutcome::Idle {
            ran += 1;
        }
        Ok(ran)
    }

    /// Registers the periodic schedule; called once per process at start-up.
    pub async fn register_periodic(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().await?;
        periodic::register(&mut conn, &self.registry.periodic_tasks(), self.clock.now()).await?;
        Ok(())
    }

    /// Enqueues the periodic tasks whose time has come (what a worker does on each poll).
    pub async fn enqueue_due(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get().await?;
        periodic::enqueue_due(&mut conn, self.clock.now()).await
    }

    /// A worker loop: schedules periodic tasks and runs due jobs until `shutdown`
    /// flips. A job that is running when shutdown is requested is finished first.
    pub async fn run_worker(self, worker_index: usize, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker.index = worker_index, "job worker started");
        let mut consecutive_errors: u32 = 0;
        let mut last_scheduled: Option<std::time::Instant> = None;
        while !*shutdown.borrow() {
            // Periodic tasks have second-level precision at best: schedule them at
            // most once per poll interval, not before every job of a busy queue.
            let schedule = last_scheduled.is_none_or(|at| at.elapsed() >= IDLE_POLL);
            let tick = async {
                if schedule {
                    self.enqueue_due().await?;
                }
                self.run_next().await
            };
            let outcome = tick.await;
            if schedule && outcome.is_ok() {
                last_scheduled = Some(std::time::Instant::now());
            }
            let pause = match outcome {
                Ok(RunOutcome::Idle) => {
                    consecutive_errors = 0;
                    IDLE_POLL
                }
                Ok(_) => {
                    consecutive_errors = 0;
                    continue;
                }
                Err(err) => {
                    consecutive_errors += 1;
                    tracing::warn!(worker.index = worker_index, error = %format!("{err:#}"), "job worker could not reach the queue");
                    IDLE_POLL * consecutive_errors.min(10)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(worker.index = worker_index, "job worker stopped");
    }
}

/// Daily: removes dead jobs older than the retention.
#[derive(Debug, Serialize, Deserialize)]
pub struct PruneDeadJobs(pub Tick);

impl Job for PruneDeadJobs {
    const KIND: &'static str = "prune_dead_jobs";
}

impl PeriodicJob for PruneDeadJobs {
    const EVERY: Duration = Duration::hours(24);
}

impl PruneDeadJobs {
    pub fn register(registry: &mut JobRegistry, clock: Clock) {
        registry.every(move |conn, _: PruneDeadJobs| {
            let now = clock.now();
            Box::pin(prune_dead_jobs(conn, now))
        });
    }
}

async fn prune_dead_jobs(conn: &mut AsyncPgConnection, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let cutoff = now - Duration::days(DEAD_JOB_RETENTION_DAYS);
    let removed =
        diesel::delete(jobs::table.filter(jobs::status.eq(queue::STATUS_DEAD)).filter(jobs::updated_at.lt(cutoff)))
            .execute(conn)
            .await?;
    tracing::info!(jobs.removed = removed, "pruned dead jobs");
    Ok(())
}
