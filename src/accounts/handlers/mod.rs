//! The accounts API: `/v1/auth/*` (auth), `/v1/me*` and public profiles (me),
//! `/v1/admin/users*` (admin) and `/v1/admin/audit-log` (audit).

mod admin;
mod audit;
mod auth;
mod me;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::configure(cfg);
    me::configure(cfg);
    admin::configure(cfg);
    audit::configure(cfg);
}
