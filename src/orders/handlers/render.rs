//! What the order handlers answer, and the shape every party's move shares.

use std::future::Future;

use actix_web::web;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::accounts::AuthUser;
use crate::db::ids::OrderId;
use crate::error::{ApiError, ApiResult};
use crate::orders::access::lock_for;
use crate::orders::model::{OrderRow, OrderView};
use crate::orders::queries::Actor;
use crate::orders::{view, OrderContext};
use crate::state::AppState;

/// Answers with the order as its parties see it.
pub(super) async fn respond(
    orders: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: OrderRow,
) -> ApiResult<web::Json<OrderView>> {
    Ok(web::Json(view::render_one(orders, conn, order).await?))
}

/// One move on a locked order, as an async closure whose future is `Send`
/// (which `transaction` requires and `AsyncFnOnce` cannot state on stable
/// Rust; diesel-async's own `AsyncFunc` does the same for one argument).
pub(super) trait Step<'r>:
    FnOnce(&'r mut AsyncPgConnection, &'r OrderRow, Actor, DateTime<Utc>) -> <Self as Step<'r>>::Fut
{
    type Fut: Future<Output = Result<OrderRow, ApiError>> + Send;
}

impl<'r, F, Fut> Step<'r> for F
where
    F: FnOnce(&'r mut AsyncPgConnection, &'r OrderRow, Actor, DateTime<Utc>) -> Fut,
    Fut: Future<Output = Result<OrderRow, ApiError>> + Send,
{
    type Fut = Fut;
}

/// A party's move on an order: in one transaction, lock the order for the
/// caller (404 unless a party; their role is the actor), run `step` on it at
/// the clock's now, then answer with the order the step returns as its
/// parties see it.
pub(super) async fn party_move<S>(
    state: &AppState,
    orders: &OrderContext,
    user: &AuthUser,
    id: OrderId,
    step: S,
) -> ApiResult<web::Json<OrderView>>
where
    // The first bound lets the compiler read an async closure's arguments as
    // borrowed for any lifetime; the second adds that its future is `Send`.
    S: AsyncFnOnce(&mut AsyncPgConnection, &OrderRow, Actor, DateTime<Utc>) -> Result<OrderRow, ApiError>
        + for<'r> Step<'r>
        + Send,
{
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let order = conn
        .transaction(async |conn| {
            let (order, actor) = lock_for(conn, id, user).await?;
            step(conn, &order, actor, now).await
        })
        .await?;
    respond(orders, &mut conn, order).await
}
