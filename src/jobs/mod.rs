//! The PostgreSQL job queue: typed background jobs, timers and periodic tasks.
//!
//! A job is a struct that implements [`Job`]: its `KIND` names it in the
//! `jobs` table and its fields are the JSON payload. Whoever causes a job
//! enqueues it with [`enqueue`] inside the transaction of the cause (the outbox
//! pattern); whoever can run it registers a handler in the [`JobRegistry`] the
//! composition root builds. A capability may thus record a job (an event) that
//! a capability above it handles, without importing it.
//!
//! The [`JobRunner`] claims a due job with `FOR UPDATE SKIP LOCKED` and runs it
//! inside the claiming transaction, in a savepoint: its database effects and the
//! job's removal commit together (so a timer's effect happens once even with N
//! workers), and a failure rolls back only the job's own writes before the retry
//! is recorded. A crash releases the row lock and the job becomes due again.

pub mod periodic;
pub mod queue;
mod registry;
mod runner;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use periodic::Tick;
pub use queue::{QueuedJob, RetryPolicy};
pub use registry::{JobFuture, JobRegistry};
pub use runner::{JobRunner, PruneDeadJobs, RunOutcome};

/// A kind of background job; its value is the payload.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// The name stored in `jobs.kind`. Never rename one that may be queued.
    const KIND: &'static str;
}

/// A job that also runs on a fixed period. Its payload must accept a [`Tick`]
/// (the registry checks this at start-up), which says which period a run is for.
pub trait PeriodicJob: Job {
    const EVERY: chrono::Duration;
}

/// Enqueues `job` to run at `run_at`, in the caller's transaction.
pub async fn enqueue<J: Job>(conn: &mut AsyncPgConnection, job: &J, run_at: DateTime<Utc>) -> anyhow::Result<i64> {
    queue::enqueue(conn, J::KIND, job, run_at).await
}

/// The payload of jobs that need nothing but their kind.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct NoPayload {}
