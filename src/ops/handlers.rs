//! `/health/live`, `/health/ready` and `/metrics`.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::probes;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready).service(metrics);
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
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
    probes::database_answers(&mut conn).await?;
    Ok(web::Json(HealthStatus { status: "ok" }))
}

/// Prometheus text exposition.
#[utoipa::path(tag = "health", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    probes::refresh_gauges(&state.metrics, &state.pool, state.clock.now()).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}
