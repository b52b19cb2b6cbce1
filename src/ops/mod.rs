//! Operations: liveness, readiness and the metrics endpoint for orchestrators
//! and scrapers.

use actix_web::{get, web, HttpResponse};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up (does not touch the database).
#[utoipa::path(tag = "health", responses((status = 200, body = HealthStatus)))]
#[get("/health/live")]
async fn live() -> web::Json<HealthStatus> {
    web::Json(HealthStatus { status: "ok" })
}

/// The service can serve traffic: the database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, body = HealthStatus),
        (status = 503, description = "The database is unreachable", body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<HealthStatus>> {
    let mut conn = state.pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(web::Json(HealthStatus { status: "ok" }))
}

/// Prometheus text exposition.
#[utoipa::path(tag = "health", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.status();
    state.metrics.set_pool(pool.size, pool.available, pool.waiting);
    // Queue depth is skipped (not failed) when the database is unreachable, so
    // the scrape itself still shows the outage through the pool gauges.
    if let Ok(mut conn) = state.pool.get().await {
        if let Ok(depth) = crate::jobs::queue::depth(&mut conn, state.clock.now()).await {
            state.metrics.set_queue_depth(depth.due, depth.scheduled, depth.dead);
        }
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}
