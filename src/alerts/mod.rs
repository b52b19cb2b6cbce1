//! Saved searches and their alerts: a user keeps searches of the market (the
//! very filters of `GET /v1/listings`) and hears of new matches, price drops
//! and fire sales, instantly or in a daily digest, with a one-click
//! unsubscribe in every email.
//!
//! - [`rules`]: modes, triggers, thresholds, index buckets (pure, unit-tested).
//! - [`searches`]: the saved searches and their candidate look-up; [`model`]:
//!   rows and views.
//! - [`fire`]: one listing change matched against every search, each alert
//!   fired once (the `ListingMarketChange` job the listings enqueue);
//!   [`report`]: each fire's notification and email, in batches of jobs;
//!   [`digest`]: the daily digest job; [`emails`], [`unsubscribe`]: the email
//!   and its RFC 8058 one-click link.
//! - `handlers`: `/v1/me/saved-searches...`, `POST /v1/unsubscribe`.
//!
//! Reads (through `Config`): `RIGMARKET_PUBLIC_URL` (unsubscribe links),
//! `RIGMARKET_FIRE_SALE_THRESHOLD_PCT`.

pub mod digest;
pub mod emails;
pub mod fire;
mod handlers;
mod jobs;
pub mod model;
pub mod report;
pub mod rules;
pub mod searches;
pub mod unsubscribe;

pub use digest::SendAlertDigests;
pub use handlers::configure;
pub use jobs::register_jobs;
pub use report::AlertSettings;
