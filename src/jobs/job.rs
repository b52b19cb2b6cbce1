//! What a job is: a payload type with a kind, enqueued in the caller's transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::queue;

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

/// Jobs of one cause, enqueued together in one statement (a transition's
/// emails and timers), in the caller's transaction.
#[derive(Debug, Default)]
pub struct Batch {
    jobs: Vec<queue::Enqueued>,
}

impl Batch {
    pub fn add<J: Job>(&mut self, job: &J, run_at: DateTime<Utc>) -> anyhow::Result<()> {
        self.jobs.push(queue::Enqueued { kind: J::KIND, payload: serde_json::to_value(job)?, run_at });
        Ok(())
    }

    pub async fn enqueue(self, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
        queue::enqueue_all(conn, self.jobs).await
    }
}
