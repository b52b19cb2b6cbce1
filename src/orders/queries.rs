//! Order queries; each takes a connection so callers compose them in one
//! transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::{NewOrder, OrderChanges, OrderEvent, OrderRow};
use super::state::{ActorRole, OrderStatus};
use crate::db::ids::{OrderId, UserId};
use crate::db::schema::{order_events, orders};

pub async fn find(conn: &mut AsyncPgConnection, id: OrderId) -> QueryResult<Option<OrderRow>> {
    orders::table.find(id).select(OrderRow::as_select()).first(conn).await.optional()
}

/// Locks the order for the rest of the transaction. Every transition, timer,
/// webhook and admin action goes through this lock, so two of them can never
/// both act on the same status.
pub async fn lock(conn: &mut AsyncPgConnection, id: OrderId) -> QueryResult<Option<OrderRow>> {
    orders::table.find(id).select(OrderRow::as_select()).for_update().first(conn).await.optional()
}

pub async fn lock_by_invoice(conn: &mut AsyncPgConnection, invoice_id: &str) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::btcpay_invoice_id.eq(invoice_id))
        .select(OrderRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Who did what, for the append-only history.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub role: ActorRole,
    pub user_id: Option<UserId>,
}

impl Actor {
    pub fn system() -> Self {
        Self { role: ActorRole::System, user_id: None }
    }
    pub fn btcpay() -> Self {
        Self { role: ActorRole::Btcpay, user_id: None }
    }
    pub fn user(role: ActorRole, user_id: UserId) -> Self {
        Self { role, user_id: Some(user_id) }
    }
}

pub struct NewEvent<'a> {
    pub order_id: OrderId,
    pub actor: Actor,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub reason: &'a str,
    pub details: serde_json::Value,
}

pub async fn append_event(conn: &mut AsyncPgConnection, event: NewEvent<'_>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(order_events::table)
        .values((
            order_events::order_id.eq(event.order_id),
            order_events::actor_id.eq(event.actor.user_id),
            order_events::actor_role.eq(event.actor.role.as_str()),
            order_events::from_status.eq(event.from.map(OrderStatus::as_str)),
            order_events::to_status.eq(event.to.as_str()),
            order_events::reason.eq(event.reason),
            order_events::details.eq(event.details),
            order_events::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The order's events in the order they happened, from after the event `after`
/// (an event id: they grow with time), at most `limit`.
pub async fn events(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<OrderEvent>> {
    order_events::table
        .filter(order_events::order_id.eq(order_id))
        .filter(order_events::id.gt(after.unwrap_or(i64::MIN)))
        .order(order_events::id.asc())
        .limit(limit)
        .select(OrderEvent::as_select())
        .load(conn)
        .await
}

/// Which orders a list shows.
#[derive(Debug, Clone, Copy)]
pub enum OrderScope {
    Buyer(UserId),
    Seller(UserId),
    /// Either side.
    Party(UserId),
    /// Every order (admins).
    All,
}

/// Newest first, paged by id (UUID v7 ids grow with time).
pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: OrderScope,
    status: Option<OrderStatus>,
    before: Option<OrderId>,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    let mut query = orders::table.order(orders::id.desc()).limit(limit).select(OrderRow::as_select()).into_boxed();
    query = match scope {
        OrderScope::Buyer(user) => query.filter(orders::buyer_id.eq(user)),
        OrderScope::Seller(user) => query.filter(orders::seller_id.eq(user)),
        OrderScope::Party(user) => query.filter(orders::buyer_id.eq(user).or(orders::seller_id.eq(user))),
        OrderScope::All => query,
    };
    if let Some(status) = status {
        query = query.filter(orders::status.eq(status.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(orders::id.lt(before));
    }
    query.load(conn).await
}

/// Whether an order carries this BTCPay invoice.
pub async fn has_invoice(conn: &mut AsyncPgConnection, invoice_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(orders::table.filter(orders::btcpay_invoice_id.eq(invoice_id))))
        .get_result(conn)
        .await
}

/// Moves an order to `to` with the columns the transition sets.
pub async fn update_status(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    to: OrderStatus,
    changes: OrderChanges,
    now: DateTime<Utc>,
) -> QueryResult<OrderRow> {
    diesel::update(orders::table.find(order_id))
        .set((orders::status.eq(to.as_str()), orders::updated_at.eq(now), changes))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
}

/// Attaches a BTCPay invoice to an order that has none yet; `None` when it had one.
pub async fn store_invoice(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    invoice_id: &str,
    checkout_link: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<OrderRow>> {
    diesel::update(orders::table.find(order_id).filter(orders::btcpay_invoice_id.is_null()))
        .set((
            orders::btcpay_invoice_id.eq(invoice_id),
            orders::btcpay_checkout_url.eq(checkout_link),
            orders::updated_at.eq(now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn insert(conn: &mut AsyncPgConnection, order: &NewOrder<'_>) -> QueryResult<OrderRow> {
    diesel::insert_into(orders::table).values(order).returning(OrderRow::as_returning()).get_result(conn).await
}
