//! Hashrate proofs: a rig mines Stratum V1 shares on a challenge the server issues,
//! every share is verified, and the measured hashrate is stated with an exact 95 %
//! interval.
//!
//! - [`share`]: share verification (header rebuild, exact share targets, reject
//!   reasons with stable codes and Stratum error numbers).
//! - [`estimate`]: the verdict statistics (estimate, Garwood interval, choice of
//!   share difficulty).
//!
//! - [`stratum`]: the Stratum V1 listener rigs mine against.
//! - [`model`], [`queries`], [`lifecycle`]: proofs in PostgreSQL, from issue to verdict.
//! - [`share_writer`], [`share_batch`]: group commit of accepted shares and reject counts.
//! - [`by_unit`]: proofs of lots sold by serial, with a verdict per unit.
//!
//! `share` and `estimate` are pure: no I/O, no clock.

pub mod by_unit;
mod emails;
pub mod estimate;
mod handlers;
pub mod history;
pub mod intake;
mod jobs;
pub mod lifecycle;
pub mod model;
pub mod queries;
mod relay;
pub mod share;
pub mod share_batch;
pub mod share_writer;
pub mod stratum;

pub use handlers::{proof_duration, ticket, view as render_proof, ProofTicket};
pub use jobs::{register_jobs, ExpireProof, FinalizeProof};
pub use lifecycle::finalize;
pub use model::DeliveryShortfall;
pub use queries::ListingProofs;
pub use share_writer::ShareWriter;

/// Routes of the proofs API.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    handlers::configure(cfg);
    relay::configure(cfg);
}
