//! The job registry of a process: each capability's own jobs, plus the events
//! one capability records for another to act on, wired here so that neither
//! imports the other.

use crate::catalog::events::ReferencesChanged;
use crate::jobs::{JobRegistry, JobRunner, PruneDeadJobs, RetryPolicy};
use crate::orders::OrderContext;
use crate::proofs::FinalizeProof;
use crate::state::AppState;

pub fn runner(state: &AppState, orders: &OrderContext) -> JobRunner {
    let mut registry = JobRegistry::new();
    PruneDeadJobs::register(&mut registry, state.clock.clone());
    crate::ratelimit::register_jobs(&mut registry, state.clock.clone());
    crate::mail::register_jobs(&mut registry, state.mailer.clone());
    crate::listings::register_jobs(&mut registry, state.clock.clone());
    crate::proofs::register_jobs(&mut registry, state.clock.clone());
    crate::orders::register_jobs(&mut registry, orders.clone(), state.clock.clone());
    crate::offers::register_jobs(&mut registry, state.clock.clone());
    wire_events(&mut registry, state);
    let retry = RetryPolicy { jitter: state.config.job_retry_jitter };
    JobRunner::new(registry, state.pool.clone(), state.clock.clone(), state.metrics.clone(), retry)
}

/// Where a lower capability's event becomes a higher one's work.
fn wire_events(registry: &mut JobRegistry, state: &AppState) {
    // Catalog -> listings: listings copy reference prices; refresh the copies.
    let clock = state.clock.clone();
    registry.every(move |conn, changed: ReferencesChanged| {
        let now = clock.now();
        Box::pin(async move {
            crate::listings::refresh_references(conn, changed.rig_model_id, now).await?;
            Ok(())
        })
    });
    // Proofs -> orders: a delivery proof that fell short is dispute evidence,
    // recorded in the verdict's own transaction (the inspection timer waits for it).
    let clock = state.clock.clone();
    registry.on(move |conn, job: FinalizeProof| {
        let now = clock.now();
        Box::pin(async move {
            if let Some(shortfall) = crate::proofs::finalize(conn, job.proof_id, now).await? {
                crate::orders::record_shortfall(conn, &shortfall, now)
                    .await
                    .map_err(|err| anyhow::anyhow!("recording the delivery shortfall: {err}"))?;
            }
            Ok(())
        })
    });
}
