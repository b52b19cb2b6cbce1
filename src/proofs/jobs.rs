//! The proofs' timers: a proof is decided when its window ends, and expires when
//! no rig connected by its deadline.

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::db::ids::ProofId;
use crate::jobs::{Job, JobRegistry};

/// Decide the proof whose window ended. Its handler is wired by the composition
/// root, which hands a delivery proof's shortfall to the orders.
#[derive(Debug, Serialize, Deserialize)]
pub struct FinalizeProof {
    pub proof_id: ProofId,
}

impl Job for FinalizeProof {
    const KIND: &'static str = "finalize_hashrate_proof";
}

/// Expire the proof if no rig connected by its deadline.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExpireProof {
    pub proof_id: ProofId,
}

impl Job for ExpireProof {
    const KIND: &'static str = "expire_hashrate_proof";
}

/// Registers the jobs the proofs handle on their own.
pub fn register_jobs(registry: &mut JobRegistry, clock: Clock) {
    registry.on(move |conn, job: ExpireProof| {
        let now = clock.now();
        Box::pin(async move {
            super::queries::expire_if_unused(conn, job.proof_id, now).await?;
            Ok(())
        })
    });
}
