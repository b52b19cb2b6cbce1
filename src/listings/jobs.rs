//! The listings' background work: the hourly hosting-deadline sweep, and the
//! job a listing leaving `active` raises for whoever must react to it.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::db::ids::ListingId;
use crate::jobs::{Job, JobRegistry, PeriodicJob, Tick};

/// A listing left `active` (withdrawn, taken down, sold out, expired at its
/// hosting deadline, held for review). Enqueued by the database trigger
/// `listings_left_active` (migration 000028) in the transaction of the change,
/// on every path that writes the status, so no path can forget it. The
/// listings only raise it; a capability above them handles it (offers void the
/// listing's open threads).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListingLeftActive {
    pub listing_id: ListingId,
}

impl Job for ListingLeftActive {
    /// Also written by the trigger: never rename.
    const KIND: &'static str = "listing_left_active";
}

/// Hourly: reminds sellers of hosting deadlines and expires listings past them.
#[derive(Debug, Serialize, Deserialize)]
pub struct SweepListingDeadlines(pub Tick);

impl Job for SweepListingDeadlines {
    const KIND: &'static str = "listing_deadlines";
}

impl PeriodicJob for SweepListingDeadlines {
    const EVERY: Duration = Duration::hours(1);
}

pub fn register_jobs(registry: &mut JobRegistry, clock: Clock) {
    registry.every(move |conn, _: SweepListingDeadlines| {
        let now = clock.now();
        Box::pin(async move {
            let report = super::expiry::sweep(conn, now).await?;
            tracing::info!(reminded = report.reminded, expired = report.expired, "listing deadlines swept");
            Ok(())
        })
    });
}
