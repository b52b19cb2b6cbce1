//! The listings' background work: the hourly hosting-deadline sweep.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::jobs::{Job, JobRegistry, PeriodicJob, Tick};

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
