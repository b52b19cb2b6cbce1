//! The listings' HTTP API: each handler extracts, checks the caller's role,
//! calls one use case and renders the answer.

mod flags;
mod listings;
mod moderation;
mod photos;
mod reports;
mod search;

pub use search::SearchRuns;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    search::configure(cfg);
    listings::configure(cfg);
    reports::configure(cfg);
    photos::configure(cfg);
    moderation::configure(cfg);
    flags::configure(cfg);
}
