//! The rig model catalog (manufacturers, models, efficiency tiers) and reference
//! prices, the yardstick for every listing's discount.

pub mod csv_import;
pub mod discount;
pub mod events;
mod handlers;
pub mod model;
pub mod queries;
pub mod seed;
pub mod tiers;

pub use handlers::configure;
