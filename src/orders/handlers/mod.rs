mod admin;
mod btcpay_webhook;
mod conversation;
mod orders;
mod rejections;
mod render;
mod transitions;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    orders::configure(cfg);
    transitions::configure(cfg);
    rejections::configure(cfg);
    conversation::configure(cfg);
    admin::configure(cfg);
    btcpay_webhook::configure(cfg);
}
