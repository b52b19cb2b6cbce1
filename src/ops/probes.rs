//! What the operations endpoints measure: whether the database answers, and the
//! gauges (pool, job queue) refreshed before each scrape.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbPool;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// A trivial query; any failure is an outage (503), whatever the cause.
pub async fn database_answers(conn: &mut AsyncPgConnection) -> Result<(), ApiError> {
    diesel::sql_query("SELECT 1").execute(conn).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(())
}

/// The schema's migrations against this build's; like the probe above, a
/// failure is an outage.
pub async fn migrations(conn: &mut AsyncPgConnection) -> Result<crate::db::MigrationState, ApiError> {
    crate::db::migration_state(conn).await.map_err(|e| ApiError::Unavailable(e.to_string()))
}

/// Sets the pool gauges and, when the database answers, the queue depth. Takes
/// the pool because the pool's own state is measured, and an outage must not
/// fail the scrape: the queue depth is then skipped, so the scrape still shows
/// the outage through the pool gauges.
pub async fn refresh_gauges(metrics: &Metrics, pool: &DbPool, now: DateTime<Utc>) {
    let status = pool.status();
    metrics.set_pool(status.size, status.available, status.waiting);
    if let Ok(mut conn) = pool.get().await {
        if let Ok(depth) = crate::jobs::queue::depth(&mut conn, now).await {
            metrics.set_queue_depth(depth.due, depth.scheduled, depth.dead);
        }
    }
}
