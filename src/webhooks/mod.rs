//! Outbound webhooks for integrators: a user registers endpoints and the event
//! types they want; every domain event (`crate::events`) of which the user is a
//! party becomes one delivery per subscribed endpoint, signed per the Standard
//! Webhooks spec and retried for about three days through the job queue.
//!
//! - [`secrets`], [`signature`], [`schedule`], [`address`]: the rules, pure and
//!   unit-tested (secret sealing, `webhook-signature`, the retry schedule, SSRF).
//! - [`endpoints`], [`deliveries`]: the use cases and their queries;
//!   [`deliveries::fan_out`] turns events into deliveries (the composition root
//!   calls it from the events' fan-out job) and [`render`] renders their `data`.
//! - [`attempt`] runs one delivery attempt ([`sender`] makes the request).
//! - `handlers`: `/v1/me/webhooks...` and `/v1/webhook-event-types`.
//!
//! Reads (through `Config`): `RIGMARKET_WEBHOOK_SECRET_KEY` (seals the signing
//! secrets at rest), `RIGMARKET_WEBHOOK_ALLOW_PRIVATE` (lifts the https and
//! public-address rules), `RIGMARKET_JOB_RETRY_JITTER`,
//! `RIGMARKET_WORKER_CONCURRENCY`.

pub mod address;
pub mod attempt;
pub mod deliveries;
mod emails;
pub mod endpoints;
mod handlers;
pub mod model;
pub mod render;
pub mod schedule;
pub mod secrets;
pub mod sender;
pub mod signature;

pub use attempt::Deliverer;
pub use deliveries::{fan_out, DeliverWebhook};
pub use handlers::configure;
pub use render::Renderers;
