mod admin;
mod conversation;
mod orders;
mod transitions;
mod webhook;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::flow;
use super::model::OrderRow;
use super::queries::{self, Actor};
use crate::accounts::AuthUser;
use crate::error::ApiError;

/// Loads an order the caller may see (a party or an admin), or 404.
async fn find_for(conn: &mut AsyncPgConnection, id: Uuid, user: &AuthUser) -> Result<(OrderRow, Actor), ApiError> {
    let order = queries::find(conn, id).await?.ok_or_else(super::order_not_found)?;
    let role = flow::role_of(&order, user)?;
    Ok((order, Actor::user(role, user.id())))
}

/// Locks an order the caller may act on, for the rest of the transaction.
async fn lock_for(conn: &mut AsyncPgConnection, id: Uuid, user: &AuthUser) -> Result<(OrderRow, Actor), ApiError> {
    let order = queries::lock(conn, id).await?.ok_or_else(super::order_not_found)?;
    let role = flow::role_of(&order, user)?;
    Ok((order, Actor::user(role, user.id())))
}

/// Locks an order for an admin decision; admins never decide their own orders.
async fn lock_for_admin(conn: &mut AsyncPgConnection, id: Uuid, admin: &AuthUser) -> Result<OrderRow, ApiError> {
    admin.require_admin()?;
    let order = queries::lock(conn, id).await?.ok_or_else(super::order_not_found)?;
    if order.party_role(admin.id()).is_some() {
        return Err(ApiError::forbidden("own_order", "Admins cannot decide orders they are a party to."));
    }
    Ok(order)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    orders::configure(cfg);
    transitions::configure(cfg);
    conversation::configure(cfg);
    admin::configure(cfg);
    webhook::configure(cfg);
}
