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
#[utoipa::path(tag = "health", responses(
        (status = 200, body = HealthStatus),
    ))]
#[get("/health/live")]
async fn live() -> web::Json<HealthStatus> {
    web::Json(HealthStatus { status: "ok" })
}

/// What a readiness probe and an operator want to know: this build's version
/// and the schema's migration state against the migrations it embeds.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "status": "ok",
    "version": "0.1.0",
    "migrations": {"applied": 7, "latest": "20261206000011", "embedded": 7, "pending": []}
}))]
pub struct Readiness {
    pub status: &'static str,
    /// The running build (`CARGO_PKG_VERSION`).
    pub version: &'static str,
    pub migrations: MigrationsStatus,
}

#[derive(Serialize, ToSchema)]
pub struct MigrationsStatus {
    /// How many migrations the database has applied (by this build or a newer one).
    pub applied: usize,
    /// The newest applied migration's version, e.g. `20261206000011`.
    pub latest: Option<String>,
    /// How many migrations this build embeds.
    pub embedded: usize,
    /// Migrations of this build the database has not applied (empty when the
    /// schema is up to date; `serve` and `migrate` apply them).
    pub pending: Vec<String>,
}

/// The service can serve traffic: the database answers.
///
/// Also says this build's version and the schema's migration state.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready; the version and the schema's migration state", body = Readiness),
    )
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<Readiness>> {
    let mut conn = state.pool.get().await?;
    probes::database_answers(&mut conn).await?;
    let migrations = probes::migrations(&mut conn).await?;
    Ok(web::Json(Readiness {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        migrations: MigrationsStatus {
            applied: migrations.applied.len(),
            latest: migrations.latest().map(str::to_string),
            embedded: migrations.embedded.len(),
            pending: migrations.pending(),
        },
    }))
}

/// Prometheus text exposition.
#[utoipa::path(tag = "health", responses(
        (status = 200, content_type = "text/plain", body = String),
    ))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    probes::refresh_gauges(&state.metrics, &state.pool, state.clock.now()).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}
