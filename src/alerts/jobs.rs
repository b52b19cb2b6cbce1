//! The alerts' background work, registered by the composition root.

use super::digest::{self, SendAlertDigests};
use super::fire;
use super::report::{self, AlertSettings, ReportAlerts};
use crate::jobs::JobRegistry;
use crate::listings::ListingMarketChange;
use crate::state::AppState;

/// The alert jobs: matching each listing change, reporting its fires in
/// batches, and the daily digests.
pub fn register_jobs(registry: &mut JobRegistry, state: &AppState) {
    let settings = AlertSettings {
        public_url: state.config.public_url.clone(),
        fire_sale_threshold_bps: state.config.fire_sale_threshold_bps,
    };
    let clock = state.clock.clone();
    let on_change = settings.clone();
    registry.on(move |conn, job: ListingMarketChange| {
        let now = clock.now();
        let settings = on_change.clone();
        Box::pin(async move {
            fire::on_market_change(conn, &settings, &job, now).await?;
            Ok(())
        })
    });
    let clock = state.clock.clone();
    let on_report = settings.clone();
    registry.on(move |conn, job: ReportAlerts| {
        let now = clock.now();
        let settings = on_report.clone();
        Box::pin(async move {
            report::report_batch(conn, &settings, &job, now).await?;
            Ok(())
        })
    });
    let clock = state.clock.clone();
    registry.every(move |conn, _: SendAlertDigests| {
        let now = clock.now();
        let settings = settings.clone();
        Box::pin(async move {
            let sent = digest::send_due(conn, &settings, now).await?;
            if sent > 0 {
                tracing::info!(digests = sent, "alert digests sent");
            }
            Ok(())
        })
    });
}
