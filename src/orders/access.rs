//! Who may see or act on an order: its buyer and seller (and admins, who act
//! as admins); everyone else is told it does not exist.

use diesel_async::AsyncPgConnection;

use super::model::OrderRow;
use super::queries::{self, Actor};
use super::state::ActorRole;
use crate::accounts::{AuthUser, ROLE_ADMIN};
use crate::db::ids::OrderId;
use crate::error::ApiError;

pub fn order_not_found() -> ApiError {
    ApiError::not_found("order_not_found", "No order with this id is visible to you.")
}

/// The party role of `user` in `order`, or 404 for outsiders (who must not learn
/// that the order exists). Admins act as admins.
pub fn role_of(order: &OrderRow, user: &AuthUser) -> Result<ActorRole, ApiError> {
    match order.party_role(user.id()) {
        Some(role) => Ok(role),
        None if user.has_role(ROLE_ADMIN) => Ok(ActorRole::Admin),
        None => Err(order_not_found()),
    }
}

/// Loads an order the caller may see (a party or an admin), or 404.
pub async fn find_for(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    user: &AuthUser,
) -> Result<(OrderRow, Actor), ApiError> {
    let order = queries::find(conn, id).await?.ok_or_else(order_not_found)?;
    let role = role_of(&order, user)?;
    Ok((order, Actor::user(role, user.id())))
}

/// Locks an order the caller may act on, for the rest of the transaction.
pub async fn lock_for(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    user: &AuthUser,
) -> Result<(OrderRow, Actor), ApiError> {
    let order = queries::lock(conn, id).await?.ok_or_else(order_not_found)?;
    let role = role_of(&order, user)?;
    Ok((order, Actor::user(role, user.id())))
}

/// Locks an order for an admin decision; admins never decide their own orders.
pub async fn lock_for_admin(conn: &mut AsyncPgConnection, id: OrderId, admin: &AuthUser) -> Result<OrderRow, ApiError> {
    admin.require_admin()?;
    let order = queries::lock(conn, id).await?.ok_or_else(order_not_found)?;
    if order.party_role(admin.id()).is_some() {
        return Err(ApiError::forbidden("own_order", "Admins cannot decide orders they are a party to."));
    }
    Ok(order)
}
