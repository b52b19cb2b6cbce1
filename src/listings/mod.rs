//! Listings: lots of one rig model with condition reports, photos in object
//! storage, moderation, flags, search, and the discount against the model's
//! reference price that marks fire sales.

pub mod access;
mod emails;

mod decorations;
pub mod editing;
pub mod expiry;
pub mod flag_queries;
pub mod flags;
pub mod follow_queries;
mod handlers;
pub mod input;
mod jobs;
pub mod lifecycle;
pub mod model;
pub mod moderation;
pub mod photo_check;
pub mod photo_queries;
pub mod photos;
pub mod queries;
pub mod search;
pub mod stock;
pub mod view;

pub(crate) use access::{find_visible, listing_not_found};
pub use decorations::{LatestProof, LatestProofs, ProofSummary};
pub use follow_queries::{
    record_hashrate_verification, record_settled_price, refresh_references, FollowCatalog, HashrateVerification,
};
pub use handlers::configure;
pub use jobs::{register_jobs, SweepListingDeadlines};
pub use view::ListingRenderer;
