//! Units: a lot's rigs registered one by one by serial (MAC, hashboard and PSU
//! serials, per-unit condition), and the serial registry (one open lot per
//! serial, duplicate and resold serials flagged for moderation, serials
//! reported stolen). A lot with units is sold by serial.
//!
//! - [`rules`]: normalisation and checks of a unit and of a batch, pure.
//! - [`register`], [`registry`]: the use cases, one transaction each.
//! - [`allocation`], [`acceptance`]: units in orders (reserved, shipped, accepted or
//!   rejected one by one, returned or written off).
//! - [`csv`]: unit rows from a CSV file (the CLI import).
//! - [`queries`]: the SQL on `units` and `serial_reports`; [`model`]: rows and
//!   JSON shapes; `handlers`: the HTTP API.

pub mod acceptance;
pub mod allocation;
pub mod csv;
mod handlers;
pub mod model;
pub mod queries;
pub mod register;
pub mod registry;
pub mod rules;

pub use handlers::configure;
