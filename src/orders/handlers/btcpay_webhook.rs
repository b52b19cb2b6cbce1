//! `POST /v1/payments/btcpay/webhook`: BTCPay Server's signed deliveries. The raw
//! body is read as bytes, because the signature covers exactly those bytes.

use actix_web::{post, web, HttpRequest};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::orders::btcpay_events::{self, WebhookOutcome};
use crate::orders::OrderContext;
use crate::payments::btcpay::SIGNATURE_HEADER;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"outcome": "paid"}))]
pub struct WebhookAnswer {
    pub outcome: WebhookOutcome,
}

crate::http::problems::problems!(BtcpayWebhookProblems {
    400: malformed_webhook,
    401: invalid_signature,
    404: btcpay_not_configured,
});

/// BTCPay Server webhook (Greenfield `InvoiceSettled`, `InvoiceExpired`,
/// `InvoiceInvalid`; other types are acknowledged and ignored). Authenticated by
/// `BTCPay-Sig: sha256=<HMAC-SHA256 of the raw body>`; de-duplicated by delivery id.
#[utoipa::path(
    tag = "payments",
    params(("BTCPay-Sig" = String, Header, description = "sha256=<hex HMAC of the body with the webhook secret>")),
    request_body(content = Object, description = "A Greenfield webhook delivery", content_type = "application/json"),
    responses(
        (status = 200, body = WebhookAnswer),
        BtcpayWebhookProblems,
    )
)]
#[post("/payments/btcpay/webhook")]
async fn btcpay_webhook(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<web::Json<WebhookAnswer>> {
    let signature = req.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let outcome = btcpay_events::handle_webhook(&state.pool, &state.clock, &orders, &body, signature).await?;
    Ok(web::Json(WebhookAnswer { outcome }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(btcpay_webhook);
}
