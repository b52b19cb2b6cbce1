//! Taking one share, whichever way it came (a stratum connection or a relay's
//! HTTP post): verify it, record it or count its reject reason. One path, so
//! both routes apply exactly the same rules.

use super::lifecycle;
use super::model::ShareOutcome;
use super::queries;
use super::share::{verify_share, Difficulty, Job, ShareReject, Submission, NTIME_MAX_AHEAD_SECS};
use crate::db::ids::ProofId;
use crate::state::AppState;

/// Whom a share is credited to.
#[derive(Debug, Clone)]
pub struct Credit {
    pub proof_id: ProofId,
    pub worker: String,
    pub difficulty: Difficulty,
}

#[derive(Debug)]
pub enum Intake {
    Accepted,
    Rejected(ShareReject),
    /// The proof no longer takes shares.
    Closed,
    /// The database could not be reached; the share was not counted either way.
    Unavailable,
}

/// Verifies a share against `job` and records the outcome.
pub async fn take_share(
    state: &AppState,
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
            let hash = bitcoin::hashes::Hash::as_byte_array(&share.hash).to_vec();
            let recorded = match state.pool.get().await {
                Ok(mut conn) => {
                    lifecycle::record_share(&mut conn, credit.proof_id, &credit.worker, &hash, state.clock.now()).await
                }
                Err(err) => Err(err.into()),
            };
            match recorded {
                Ok(ShareOutcome::Accepted) => Intake::Accepted,
                Ok(ShareOutcome::Duplicate) => reject(state, credit.proof_id, ShareReject::Duplicate).await,
                Ok(ShareOutcome::Closed) => Intake::Closed,
                Err(err) => {
                    tracing::warn!(proof.id = %credit.proof_id, error = %format!("{err:#}"), "could not record a share");
                    Intake::Unavailable
                }
            }
        }
        Err(reason) => reject(state, credit.proof_id, reason).await,
    }
}

/// Counts a reject under its reason code and returns it.
pub async fn reject(state: &AppState, proof_id: ProofId, reason: ShareReject) -> Intake {
    if let Ok(mut conn) = state.pool.get().await {
        if let Err(err) = queries::record_reject(&mut conn, proof_id, reason.code()).await {
            tracing::warn!(proof.id = %proof_id, error = %err, "could not count a rejected share");
        }
    }
    Intake::Rejected(reason)
}
