//! The rig model catalog (manufacturers, models, efficiency tiers) and reference
//! prices, the yardstick for every listing's discount.
//!
//! - [`tiers`], [`discount`]: efficiency bands and discount math, pure.
//! - [`models`], [`references`]: the use cases behind the API; [`seed`] and
//!   [`csv_import`]: the shipped data and CSV imports.
//! - [`queries`]: the SQL, which other capabilities also read the catalog through;
//!   [`events`]: what the catalog tells the capabilities that copy from it.
//! - `handlers`: the HTTP API; [`page_cache`]: its rendered pages, reused while
//!   the catalog's version stays the same.

pub mod csv_import;
pub mod discount;
pub mod events;
mod handlers;
pub mod model;
pub mod models;
pub mod page_cache;
pub mod queries;
pub mod references;
pub mod seed;
pub mod tiers;

pub use handlers::configure;
