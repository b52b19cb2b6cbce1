//! rigmarket: a marketplace backend for secondhand ASIC mining rigs.
//!
//! The modules below are layered as `architecture` states (a kernel, then the
//! capabilities in order, then the composition root `app`); see
//! `docs/ARCHITECTURE.md`. `app::Application::build` wires one process together
//! and `run_until_stopped` serves HTTP, Stratum and the job workers until
//! SIGTERM/SIGINT, then shuts down in order.

pub mod accounts;
pub mod alerts;
pub mod app;
pub mod architecture;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod decimal;
pub mod demo;
pub mod error;
pub mod events;
pub mod geo;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod listings;
pub mod mail;
pub mod metrics;
pub mod notifications;
pub mod offers;
pub mod ops;
pub mod orders;
pub mod payments;
pub mod price_index;
pub mod proofs;
pub mod ratelimit;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod units;
pub mod validation;
pub mod webhooks;

pub use app::{prepare_database, shutdown_signal, Application, Instance, Roles};
pub use state::AppState;
