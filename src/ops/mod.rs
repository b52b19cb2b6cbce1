//! Operations: liveness, readiness and the metrics endpoint for orchestrators
//! and scrapers.
//!
//! - [`probes`]: the database check and the gauges refreshed per scrape.
//! - `handlers`: the HTTP endpoints.

mod handlers;
pub mod probes;

pub use handlers::{configure, HealthStatus, MigrationsStatus, Readiness};
