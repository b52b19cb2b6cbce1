//! The rig model catalog (manufacturers, models, efficiency tiers) and reference
//! prices, the yardstick for every listing's discount.
//!
//! - [`tiers`], [`discount`]: efficiency bands and discount math, pure.
//! - [`models`], [`references`]: the use cases behind the API; [`seed`] and
//!   [`csv_import`]: the shipped data and CSV imports.
//! - [`queries`]: the SQL, which other capabilities also read the catalog through;
//!   [`events`]: what the catalog tells the capabilities that copy from it.
//! - `handlers`: the HTTP API.

pub mod csv_import;
pub mod discount;
pub mod events;
mod handlers;
pub mod model;
pub mod models;
pub mod queries;
pub mod references;
pub mod seed;
pub mod tiers;

pub use handlers::configure;
