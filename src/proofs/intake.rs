//! Taking one share, whichever way it came (a stratum connection or a relay's
//! HTTP post): verify it, then record it or count its reject reason through the
//! process's [`ShareWriter`] (group commit). One path, so both routes apply
//! exactly the same rules.

use chrono::{DateTime, Utc};

use super::model::ShareOutcome;
use super::share::{verify_share, Difficulty, Job, ShareReject, Submission, NTIME_MAX_AHEAD_SECS};
use super::share_batch::{NewShare, Recorded};
use super::share_writer::ShareWriter;
use crate::db::ids::ProofId;

/// Whom a share is credited to.
#[derive(Debug, Clone)]
pub struct Credit {
    pub proof_id: ProofId,
    pub worker: String,
    pub difficulty: Difficulty,
}

#[derive(Debug)]
pub enum Intake {
    /// Committed; the proof's window ends at `window_ends_at`.
    Accepted {
        window_ends_at: Option<DateTime<Utc>>,
    },
    Rejected(ShareReject),
    /// The proof no longer takes shares.
    Closed,
    /// The database could not be reached; the share was not counted either way.
    Unavailable,
}

/// Verifies a share against `job` and records the outcome.
pub async fn take_share(
    writer: &ShareWriter,
    credit: &Credit,
    job: &Job,
    extranonce1: &[u8],
    extranonce2_size: usize,
    submission: &Submission,
    version_mask: u32,
) -> Intake {
    let checked = verify_share(
        job,
        extranonce1,
        extranonce2_size,
        submission,
        version_mask,
        credit.difficulty,
        NTIME_MAX_AHEAD_SECS,
    );
    match checked {
        Ok(share) => {
            let header_hash = bitcoin::hashes::Hash::as_byte_array(&share.hash).to_vec();
            let share = NewShare { proof_id: credit.proof_id, worker: credit.worker.clone(), header_hash };
            match writer.record(share).await {
                Some(Recorded { outcome: ShareOutcome::Accepted, window_ends_at }) => {
                    Intake::Accepted { window_ends_at }
                }
                // Counted by the batch that found it.
                Some(Recorded { outcome: ShareOutcome::Duplicate, .. }) => Intake::Rejected(ShareReject::Duplicate),
                Some(Recorded { outcome: ShareOutcome::Closed, .. }) => Intake::Closed,
                None => Intake::Unavailable,
            }
        }
        Err(reason) => reject(writer, credit.proof_id, reason).await,
    }
}

/// Counts a reject under its reason code (in the writer's next batch) and returns it.
pub async fn reject(writer: &ShareWriter, proof_id: ProofId, reason: ShareReject) -> Intake {
    writer.count_reject(proof_id, reason.code()).await;
    Intake::Rejected(reason)
}
