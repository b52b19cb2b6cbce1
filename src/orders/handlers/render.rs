//! What the order handlers answer.

use actix_web::web;
use diesel_async::AsyncPgConnection;

use crate::error::ApiResult;
use crate::orders::model::{OrderRow, OrderView};
use crate::orders::{view, OrderContext};

/// Answers with the order as its parties see it.
pub(super) async fn respond(
    orders: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: OrderRow,
) -> ApiResult<web::Json<OrderView>> {
    Ok(web::Json(view::render_one(orders, conn, order).await?))
}
