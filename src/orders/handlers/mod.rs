mod admin;
mod btcpay_webhook;
mod conversation;
mod orders;
mod rejections;
mod transitions;

use actix_web::web;
use diesel_async::AsyncPgConnection;

use crate::error::ApiResult;
use crate::orders::model::{OrderRow, OrderView};
use crate::orders::{view, OrderContext};

/// Answers with the order as its parties see it.
async fn respond(
    orders: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: OrderRow,
) -> ApiResult<web::Json<OrderView>> {
    Ok(web::Json(view::render_one(orders, conn, order).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    orders::configure(cfg);
    transitions::configure(cfg);
    rejections::configure(cfg);
    conversation::configure(cfg);
    admin::configure(cfg);
    btcpay_webhook::configure(cfg);
}
