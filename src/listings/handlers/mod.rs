//! The listings' HTTP API.

mod flags;
mod listings;
mod moderation;
mod photos;
mod reports;
mod search;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    search::configure(cfg);
    listings::configure(cfg);
    reports::configure(cfg);
    photos::configure(cfg);
    moderation::configure(cfg);
    flags::configure(cfg);
}
