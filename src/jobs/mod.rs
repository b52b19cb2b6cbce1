//! The PostgreSQL job queue and its worker.
//!
//! A job runs inside the transaction that claimed it, in a savepoint: its database
//! effects and the job's removal commit together (so a timer's effect happens once
//! even with N workers), and a failure rolls back only the job's own writes before
//! the retry is recorded. A crash releases the row lock and the job becomes due again.

pub mod periodic;
pub mod queue;

use std::time::Duration as StdDuration;

use chrono::Duration;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::watch;
use tracing::Instrument;

use crate::AppState;
pub use queue::{enqueue, Job};

pub const KIND_SEND_EMAIL: &str = "send_email";
pub const KIND_PRUNE_DEAD_JOBS: &str = "prune_dead_jobs";
pub const KIND_PRUNE_RATE_LIMITS: &str = "prune_rate_limits";
pub const KIND_LISTING_DEADLINES: &str = "listing_deadlines";
pub const KIND_REFRESH_REFERENCES: &str = "refresh_listing_references";
pub const KIND_FINALIZE_PROOF: &str = "finalize_hashrate_proof";
pub const KIND_EXPIRE_PROOF: &str = "expire_hashrate_proof";

/// How long dead jobs stay visible before the daily prune removes them.
const DEAD_JOB_RETENTION_DAYS: i64 = 30;
const IDLE_POLL: StdDuration = StdDuration::from_millis(500);

/// Runs one job's work. Each capability's job kinds are dispatched from here.
async fn dispatch(state: &AppState, conn: &mut AsyncPgConnection, job: &Job) -> anyhow::Result<()> {
    match job.kind.as_str() {
        KIND_SEND_EMAIL => crate::mail::run_send_job(state, job).await,
        KIND_PRUNE_DEAD_JOBS => prune_dead_jobs(state, conn).await,
        KIND_LISTING_DEADLINES => {
            let report = crate::listings::expiry::sweep(conn, state.clock.now()).await?;
            tracing::info!(reminded = report.reminded, expired = report.expired, "listing deadlines swept");
            Ok(())
        }
        KIND_REFRESH_REFERENCES => {
            let model = job.payload.get("rig_model_id").and_then(|v| v.as_str()).and_then(|v| v.parse().ok());
            crate::listings::queries::refresh_references(conn, model, state.clock.now()).await?;
            Ok(())
        }
        KIND_FINALIZE_PROOF => crate::proofs::records::finalize(conn, proof_id(job)?, state.clock.now()).await,
        KIND_EXPIRE_PROOF => {
            crate::proofs::records::expire_if_unused(conn, proof_id(job)?, state.clock.now()).await?;
            Ok(())
        }
        crate::orders::timers::KIND_ORDER_TIMER => crate::orders::timers::fire(state, conn, job).await,
        KIND_PRUNE_RATE_LIMITS => {
            crate::ratelimit::prune(conn, state.clock.now()).await?;
            Ok(())
        }
        other => anyhow::bail!("unknown job kind {other:?}"),
    }
}

fn proof_id(job: &Job) -> anyhow::Result<uuid::Uuid> {
    let id = job
        .payload
        .get("proof_id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow::anyhow!("payload without proof_id"))?;
    Ok(id.parse()?)
}

async fn prune_dead_jobs(state: &AppState, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    use crate::db::schema::jobs;
    use diesel::{ExpressionMethods, QueryDsl};
    let cutoff = state.clock.now() - Duration::days(DEAD_JOB_RETENTION_DAYS);
    let removed =
        diesel::delete(jobs::table.filter(jobs::status.eq(queue::STATUS_DEAD)).filter(jobs::updated_at.lt(cutoff)))
            .execute(conn)
            .await?;
    tracing::info!(jobs.removed = removed, "pruned dead jobs");
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Idle,
    Succeeded { job_id: i64 },
    Failed { job_id: i64, dead: bool },
}

/// Claims and runs at most one due job.
pub async fn run_next(state: &AppState) -> anyhow::Result<RunOutcome> {
    let mut conn = state.pool.get().await?;
    let now = state.clock.now();
    conn.transaction(async move |conn| {
            let Some(job) = queue::claim_next(conn, now).await? else {
                return Ok(RunOutcome::Idle);
            };
            let span = tracing::info_span!("job", job.id = job.id, job.kind = %job.kind, job.attempt = job.attempts + 1);
            let claimed = &job;
            let result = conn
                .transaction(async move |conn| { dispatch(state, conn, claimed).await })
                .instrument(span)
                .await;
            match result {
                Ok(()) => {
                    queue::complete(conn, job.id).await?;
                    state.metrics.jobs_finished.with_label_values(&[&job.kind, "ok"]).inc();
                    Ok(RunOutcome::Succeeded { job_id: job.id })
                }
                Err(err) => {
                    let dead = queue::record_failure(conn, &job, &format!("{err:#}"), state.clock.now()).await?;
                    let outcome = if dead { "dead" } else { "retry" };
                    state.metrics.jobs_finished.with_label_values(&[&job.kind, outcome]).inc();
                    tracing::warn!(job.id = job.id, job.kind = %job.kind, job.dead = dead, error = %format!("{err:#}"), "job failed");
                    Ok(RunOutcome::Failed { job_id: job.id, dead })
                }
            }
        })
    .await
}

/// Runs jobs until nothing is due (tests drive the queue with this after moving
/// the clock). Returns how many ran.
pub async fn drain(state: &AppState) -> anyhow::Result<usize> {
    let mut ran = 0;
    periodic::enqueue_due(&mut *state.pool.get().await?, state.clock.now()).await?;
    while run_next(state).await? != RunOutcome::Idle {
        ran += 1;
    }
    Ok(ran)
}

/// A worker loop: schedules periodic tasks and runs due jobs until `shutdown`
/// flips. A job that is running when shutdown is requested is finished first.
pub async fn run_worker(state: AppState, worker_index: usize, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(worker.index = worker_index, "job worker started");
    let mut consecutive_errors: u32 = 0;
    let mut last_scheduled: Option<std::time::Instant> = None;
    while !*shutdown.borrow() {
        // Periodic tasks have second-level precision at best: schedule them at
        // most once per poll interval, not before every job of a busy queue.
        let schedule = last_scheduled.is_none_or(|at| at.elapsed() >= IDLE_POLL);
        let tick = async {
            if schedule {
                let mut conn = state.pool.get().await?;
                periodic::enqueue_due(&mut conn, state.clock.now()).await?;
            }
            run_next(&state).await
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

/// Registers the periodic schedule; called once per process at start-up.
pub async fn register_periodic(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.pool.get().await?;
    periodic::register(&mut conn, &periodic::schedule(), state.clock.now()).await?;
    Ok(())
}
