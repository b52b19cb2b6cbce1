//! Listings: lots of one rig model with condition reports, photos in object
//! storage, moderation, flags, search, and the discount against the model's
//! reference price that marks fire sales.
//!
//! - [`lifecycle`], [`input`], [`photo_check`]: the rules, pure and unit-tested.
//! - [`access`]: who may see or change a listing.
//! - [`editing`], [`moderation`], [`flags`], [`photos`], [`condition_reports`],
//!   [`search`], [`stock`], [`expiry`]: the use cases, one transaction each.
//! - [`market`]: the jobs that tell saved searches of a publication or a
//!   price drop; [`search_match`]: one listing checked against many searches'
//!   filters (the same [`search::Filters`] the search applies in SQL).
//! - [`queries`], [`follow_queries`], [`photo_queries`], [`report_queries`],
//!   [`flag_queries`]: the SQL, by table and meaning.
//! - [`view`]: listing pages as clients see them; `handlers`: the HTTP API.
//!
//! Reads (through `Config`): `RIGMARKET_FIRE_SALE_THRESHOLD_PCT`.

pub mod access;
pub mod condition_reports;
mod decorations;
pub mod editing;
mod emails;
pub mod expiry;
pub mod flag_queries;
pub mod flags;
pub mod follow_queries;
mod handlers;
pub mod history;
pub mod input;
mod jobs;
pub mod lifecycle;
pub mod market;
pub mod model;
pub mod moderation;
pub mod offer_settings;
pub mod photo_check;
pub mod photo_queries;
pub mod photos;
pub mod queries;
pub mod report_queries;
pub mod search;
pub mod search_match;
pub mod serials;
pub mod stock;
pub mod view;

pub(crate) use access::{find_visible, listing_not_found};
pub use decorations::{LatestProof, LatestProofs, ProofSummary};
pub use follow_queries::{
    record_hashrate_verification, record_settled_price, refresh_references, FollowCatalog, HashrateVerification,
};
pub use handlers::{configure, SearchRuns};
pub use jobs::{register_jobs, ListingLeftActive, SweepListingDeadlines};
pub use market::{ListingMarketChange, MarketChange};
pub use queries::titles;
pub use view::ListingRenderer;
