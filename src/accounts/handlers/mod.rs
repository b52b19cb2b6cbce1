mod admin;
mod audit;
mod auth;
mod me;

use actix_web::HttpRequest;

use crate::accounts::sessions::ClientInfo;
use crate::state::AppState;

/// The caller's IP (the socket peer, or `X-Forwarded-For`'s first hop when the
/// service runs behind a trusted proxy) and user agent.
pub(crate) fn client_info(req: &HttpRequest, state: &AppState) -> ClientInfo {
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for")?.to_str().ok()?.split(',').next().map(|ip| ip.trim().to_string()))
        .flatten();
    ClientInfo {
        ip: forwarded.or_else(|| req.peer_addr().map(|addr| addr.ip().to_string())),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|ua| ua.to_str().ok())
            .map(str::to_string),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::configure(cfg);
    me::configure(cfg);
    admin::configure(cfg);
    audit::configure(cfg);
}
