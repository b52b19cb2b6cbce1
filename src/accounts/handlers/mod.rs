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
