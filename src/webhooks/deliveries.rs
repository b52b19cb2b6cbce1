//! Deliveries: one per (event, subscribed endpoint), made by the fan-out; each
//! attempt is a [`DeliverWebhook`] job, so attempts survive restarts and two
//! workers never make the same one (the queue's `SKIP LOCKED`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::endpoints;
use super::model::{status, DeliveryRow, EndpointRow};
use super::render::Renderers;
use crate::db::ids::{EventId, UserId, WebhookDeliveryId, WebhookEndpointId};
use crate::db::schema::webhook_deliveries;
use crate::error::ApiError;
use crate::events::DomainEvent;
use crate::jobs::{self, Job};

/// The next attempt of a delivery. `attempt` is the number of attempts made
/// when it was queued: a job whose delivery has moved on (a redelivery raced a
/// retry) finds a different count and does nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub delivery_id: WebhookDeliveryId,
    pub attempt: i32,
}

impl Job for DeliverWebhook {
    const KIND: &'static str = "deliver_webhook";
}

pub fn delivery_not_found() -> ApiError {
    ApiError::not_found("webhook_delivery_not_found", "No such delivery on this endpoint.")
}

/// The payload every attempt of one event sends.
pub fn payload(id: &str, kind: &str, created_at: DateTime<Utc>, data: serde_json::Value) -> String {
    json!({ "id": id, "type": kind, "created_at": created_at, "data": data }).to_string()
}

/// Turns events into deliveries for the endpoints of their parties that
/// subscribe to their type, queued to go out at once. Runs in the fan-out's
/// transaction, so an event is fanned out exactly once.
pub async fn fan_out(
    conn: &mut AsyncPgConnection,
    renderers: &Renderers,
    events: &[DomainEvent],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut made = 0;
    for event in events {
        let targets = endpoints::subscribed(conn, &event.parties, &event.kind).await?;
        if targets.is_empty() {
            continue;
        }
        let data = renderers.data(conn, event).await?;
        let body = payload(&event.id.to_string(), &event.kind, event.created_at, data);
        for endpoint in &targets {
            create(conn, endpoint, Some(event.id), &event.kind, &body, now).await?;
            made += 1;
        }
    }
    Ok(made)
}

async fn create(
    conn: &mut AsyncPgConnection,
    endpoint: &EndpointRow,
    event_id: Option<EventId>,
    event_type: &str,
    body: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DeliveryRow> {
    let row: DeliveryRow = diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(WebhookDeliveryId::new()),
            webhook_deliveries::endpoint_id.eq(endpoint.id),
            webhook_deliveries::event_id.eq(event_id),
            webhook_deliveries::event_type.eq(event_type),
            webhook_deliveries::body.eq(body),
            webhook_deliveries::status.eq(status::PENDING),
            webhook_deliveries::next_attempt_at.eq(Some(now)),
            webhook_deliveries::created_at.eq(now),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .await?;
    jobs::enqueue(conn, &DeliverWebhook { delivery_id: row.id, attempt: 0 }, now).await?;
    Ok(row)
}

/// A `webhook.test` message to the caller's endpoint, sent at once (also to a
/// disabled endpoint: checking a receiver before enabling it again is the point).
pub async fn send_test(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    endpoint_id: WebhookEndpointId,
    now: DateTime<Utc>,
) -> Result<DeliveryRow, ApiError> {
    let endpoint = endpoints::find_own(conn, user_id, endpoint_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let data = json!({ "endpoint_id": endpoint.id, "message": "A test delivery from rigmarket." });
    let body = payload(&id, "webhook.test", now, data);
    Ok(create(conn, &endpoint, None, "webhook.test", &body, now).await?)
}

/// Sends a delivery again at once, with the same `webhook-id` and body.
pub async fn redeliver(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    endpoint_id: WebhookEndpointId,
    delivery_id: WebhookDeliveryId,
    now: DateTime<Utc>,
) -> Result<DeliveryRow, ApiError> {
    endpoints::find_own(conn, user_id, endpoint_id).await?;
    let row: DeliveryRow = webhook_deliveries::table
        .find(delivery_id)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .for_update()
        .select(DeliveryRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(delivery_not_found)?;
    let updated: DeliveryRow = diesel::update(webhook_deliveries::table.find(row.id))
        .set((webhook_deliveries::status.eq(status::PENDING), webhook_deliveries::next_attempt_at.eq(Some(now))))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .await?;
    jobs::enqueue(conn, &DeliverWebhook { delivery_id: row.id, attempt: row.attempts }, now).await?;
    Ok(updated)
}

/// An endpoint's deliveries, newest first, after the `before` cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    endpoint_id: WebhookEndpointId,
    before: Option<(DateTime<Utc>, WebhookDeliveryId)>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            webhook_deliveries::created_at
                .lt(at)
                .or(webhook_deliveries::created_at.eq(at).and(webhook_deliveries::id.lt(id))),
        );
    }
    query.load(conn).await
}

/// Locks a delivery for its attempt.
pub async fn lock(conn: &mut AsyncPgConnection, id: WebhookDeliveryId) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table.find(id).for_update().select(DeliveryRow::as_select()).first(conn).await.optional()
}

/// What one attempt came to.
pub struct AttemptRecord {
    pub status: &'static str,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    row: &DeliveryRow,
    record: AttemptRecord,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(row.id))
        .set((
            webhook_deliveries::status.eq(record.status),
            webhook_deliveries::attempts.eq(row.attempts + 1),
            webhook_deliveries::last_attempt_at.eq(Some(now)),
            webhook_deliveries::response_status.eq(record.response_status),
            webhook_deliveries::response_body.eq(record.response_body),
            webhook_deliveries::duration_ms.eq(Some(record.duration_ms)),
            webhook_deliveries::last_error.eq(record.error),
            webhook_deliveries::next_attempt_at.eq(record.next_attempt_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks every pending delivery of a disabled endpoint failed (their queued
/// attempts then find nothing to do).
pub async fn fail_pending(conn: &mut AsyncPgConnection, endpoint_id: WebhookEndpointId) -> QueryResult<()> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::status.eq(status::PENDING)),
    )
    .set((webhook_deliveries::status.eq(status::FAILED), webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>)))
    .execute(conn)
    .await?;
    Ok(())
}
