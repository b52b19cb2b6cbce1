//! An open version's expiry as a job, enqueued in the transaction that opened
//! the version; what it does when it fires is in `timers.rs`.

use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::ThreadRow;
use crate::jobs::{self, Job};

/// Expires version `n` of a thread at its `expires_at`.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfferExpiry {
    pub thread_id: Uuid,
    pub n: i32,
}

impl Job for OfferExpiry {
    const KIND: &'static str = "offer_expiry";
}

pub async fn schedule_expiry(conn: &mut AsyncPgConnection, thread: &ThreadRow) -> anyhow::Result<()> {
    jobs::enqueue(conn, &OfferExpiry { thread_id: thread.id, n: thread.latest_n }, thread.expires_at).await?;
    Ok(())
}
