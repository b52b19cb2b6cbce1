mod admin;
mod conversation;
mod orders;
mod transitions;
mod webhook;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    orders::configure(cfg);
    transitions::configure(cfg);
    conversation::configure(cfg);
    admin::configure(cfg);
    webhook::configure(cfg);
}
