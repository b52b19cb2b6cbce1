//! Group commit of shares: one writer task per process takes the verified
//! shares and reject counts of every stratum connection and relay post, and
//! commits whatever arrived while its previous commit ran (up to
//! `RIGMARKET_SHARE_BATCH_MAX`) in one transaction ([`share_batch`]). Each
//! submitter waits on a oneshot for its own answer, given only after COMMIT: a
//! miner still hears "accepted" only once its share is durable, but thousands of
//! shares share one fsync instead of paying one each.
//!
//! The queue is bounded (`RIGMARKET_SHARE_QUEUE`): when the database falls
//! behind, submitters wait (and miners with them) instead of memory growing.
//! If a commit fails, every share of the batch is answered "unavailable": not
//! counted either way, as a single share was before.
//!
//! [`share_batch`]: super::share_batch

use tokio::sync::{mpsc, oneshot};

use super::share_batch::{self, NewShare, Recorded};
use crate::clock::Clock;
use crate::db::ids::ProofId;
use crate::db::DbPool;

enum Command {
    Share(NewShare, oneshot::Sender<Option<Recorded>>),
    Reject(ProofId, String, oneshot::Sender<()>),
    /// Answered once everything queued before it is committed (or given up).
    Flush(oneshot::Sender<()>),
}

/// The handle submitters hold; cheap to clone.
#[derive(Clone)]
pub struct ShareWriter {
    tx: mpsc::Sender<Command>,
}

impl ShareWriter {
    /// Starts this process's writer task (on the current Tokio runtime).
    pub fn start(pool: DbPool, clock: Clock, queue: usize, batch_max: usize) -> Self {
        let (tx, rx) = mpsc::channel(queue.max(1));
        tokio::spawn(run(rx, pool, clock, batch_max.max(1)));
        Self { tx }
    }

    /// Records a verified share; `None` when it could not be recorded (the
    /// database is unreachable, or the writer is gone).
    pub async fn record(&self, share: NewShare) -> Option<Recorded> {
        let (answer, answered) = oneshot::channel();
        self.tx.send(Command::Share(share, answer)).await.ok()?;
        answered.await.ok().flatten()
    }

    /// Counts a rejected share under its reason code, with the next batch.
    pub async fn count_reject(&self, proof_id: ProofId, reason: &str) {
        let (answer, answered) = oneshot::channel();
        if self.tx.send(Command::Reject(proof_id, reason.to_string(), answer)).await.is_ok() {
            let _ = answered.await;
        }
    }

    /// Waits until everything submitted before this call is committed.
    pub async fn flush(&self) {
        let (answer, answered) = oneshot::channel();
        if self.tx.send(Command::Flush(answer)).await.is_ok() {
            let _ = answered.await;
        }
    }
}

async fn run(mut rx: mpsc::Receiver<Command>, pool: DbPool, clock: Clock, batch_max: usize) {
    let mut commands = Vec::with_capacity(batch_max);
    while rx.recv_many(&mut commands, batch_max).await > 0 {
        commit(&pool, &clock, std::mem::take(&mut commands)).await;
    }
}

/// Commits one batch and answers every submitter in it.
async fn commit(pool: &DbPool, clock: &Clock, commands: Vec<Command>) {
    let mut shares = Vec::new();
    let mut share_answers = Vec::new();
    let mut rejects = Vec::new();
    let mut other_answers = Vec::new();
    for command in commands {
        match command {
            Command::Share(share, answer) => {
                shares.push(share);
                share_answers.push(answer);
            }
            Command::Reject(proof_id, reason, answer) => {
                rejects.push((proof_id, reason));
                other_answers.push(answer);
            }
            Command::Flush(answer) => other_answers.push(answer),
        }
    }
    if !shares.is_empty() || !rejects.is_empty() {
        let recorded = match pool.get().await {
            Ok(mut conn) => share_batch::record_batch(&mut conn, &shares, &rejects, clock.now()).await,
            Err(err) => Err(err.into()),
        };
        match recorded {
            Ok(recorded) => {
                for (answer, recorded) in share_answers.into_iter().zip(recorded) {
                    let _ = answer.send(Some(recorded));
                }
            }
            Err(err) => {
                tracing::warn!(
                    shares = shares.len(),
                    rejects = rejects.len(),
                    error = %format!("{err:#}"),
                    "could not record a batch of shares"
                );
                for answer in share_answers {
                    let _ = answer.send(None);
                }
            }
        }
    }
    for answer in other_answers {
        let _ = answer.send(());
    }
}
