//! The job registry of a process: each capability's own jobs, plus the events
//! one capability records for another to act on, wired here so that neither
//! imports the other.

use crate::catalog::events::ReferencesChanged;
use crate::events::FanOutEvents;
use crate::jobs::{JobRegistry, JobRunner, PruneDeadJobs, RetryPolicy};
use crate::listings::ListingRenderer;
use crate::orders::OrderContext;
use crate::proofs::FinalizeProof;
use crate::state::AppState;
use crate::webhooks::{DeliverWebhook, Deliverer, Renderers};

/// Events taken per fan-out run (a full batch queues the next run at once).
const FAN_OUT_BATCH: i64 = 500;

pub fn runner(state: &AppState, orders: &OrderContext, listings: &ListingRenderer) -> JobRunner {
    let mut registry = JobRegistry::new();
    PruneDeadJobs::register(&mut registry, state.clock.clone());
    crate::ratelimit::register_jobs(&mut registry, state.clock.clone());
    crate::mail::register_jobs(&mut registry, state.mailer.clone());
    crate::listings::register_jobs(&mut registry, state.clock.clone());
    crate::proofs::register_jobs(&mut registry, state.clock.clone());
    crate::orders::register_jobs(&mut registry, orders.clone(), state.clock.clone());
    crate::offers::register_jobs(&mut registry, state.clock.clone());
    crate::alerts::register_jobs(&mut registry, state);
    crate::price_index::register_jobs(&mut registry, state.clock.clone());
    wire_events(&mut registry, state);
    let renderers = Renderers { orders: orders.clone(), listings: listings.clone() };
    wire_webhooks(&mut registry, state, renderers);
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

/// Events -> webhooks: the fan-out hands every event to its consumers in one
/// transaction (a notifications inbox would be called here too), then the
/// delivery attempts run as their own jobs.
fn wire_webhooks(registry: &mut JobRegistry, state: &AppState, renderers: Renderers) {
    let clock = state.clock.clone();
    registry.every(move |conn, _: FanOutEvents| {
        let now = clock.now();
        let renderers = renderers.clone();
        Box::pin(async move {
            let events = crate::events::claim_waiting(conn, FAN_OUT_BATCH).await?;
            if events.is_empty() {
                return Ok(());
            }
            crate::webhooks::fan_out(conn, &renderers, &events, now).await?;
            let ids: Vec<_> = events.iter().map(|e| e.id).collect();
            crate::events::mark_fanned_out(conn, &ids, now).await?;
            if events.len() as i64 == FAN_OUT_BATCH {
                // A backlog: go on at once rather than at the next period.
                crate::jobs::enqueue(conn, &FanOutEvents::default(), now).await?;
            }
            Ok(())
        })
    });
    let config = &state.config;
    let deliverer = Deliverer {
        sealer: crate::webhooks::secrets::Sealer::from_config(config),
        allow_private: config.webhooks.allow_private,
        jitter: config.job_retry_jitter,
        // One request at a time per endpoint: a receiver that hangs holds one worker.
        slots: 1,
    };
    let clock = state.clock.clone();
    registry.on(move |conn, job: DeliverWebhook| {
        let now = clock.now();
        let deliverer = deliverer.clone();
        Box::pin(async move { crate::webhooks::attempt::run(conn, &deliverer, job, now).await })
    });
}
