//! Rows of the webhook tables and the views the API answers with.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::ids::{EventId, UserId, WebhookDeliveryId, WebhookEndpointId};
use crate::db::schema::{webhook_deliveries, webhook_endpoints};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub user_id: UserId,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret_sealed: Vec<u8>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A delivery's state.
pub mod status {
    /// Waiting for its next attempt (or in one).
    pub const PENDING: &str = "pending";
    pub const SUCCEEDED: &str = "succeeded";
    /// No attempt left, or the endpoint was disabled.
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: Option<EventId>,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub duration_ms: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl DeliveryRow {
    /// The Standard Webhooks message id (`webhook-id`): the same on every
    /// attempt and redelivery, so receivers can de-duplicate.
    pub fn message_id(&self) -> String {
        format!("msg_{}", self.id.0.simple())
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a0c4-1111-7e42-9b15-6f4d8c3a2e10", "url": "https://erp.example.com/hooks/rigmarket",
    "description": "ERP", "event_types": ["order.paid", "order.shipped"], "enabled": true,
    "disabled_reason": null, "previous_secret_expires_at": null,
    "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z"
}))]
pub struct EndpointView {
    #[schema(value_type = Uuid)]
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why deliveries stopped (`gone`: the receiver answered 410; `failing`: three days of failures).
    pub disabled_reason: Option<String>,
    /// Until when the secret replaced by the last rotation still signs alongside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndpointView {
    pub fn of(row: &EndpointRow, now: DateTime<Utc>) -> Self {
        Self {
            id: row.id,
            url: row.url.clone(),
            description: row.description.clone(),
            event_types: row.event_types.clone(),
            enabled: row.enabled,
            disabled_reason: row.disabled_reason.clone(),
            previous_secret_expires_at: row.previous_secret_until.filter(|until| *until > now),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// An endpoint with its signing secret: answered once, at creation or rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// `whsec_` + base64 of 32 bytes; verify deliveries with it. Not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYq=")]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a0c4-2222-7e42-9b15-6f4d8c3a2e10", "message_id": "msg_0193a0c422227e429b156f4d8c3a2e10",
    "event_id": "0193a0c4-3333-7e42-9b15-6f4d8c3a2e10", "event_type": "order.paid", "status": "pending",
    "attempts": 1, "last_attempt_at": "2026-01-05T09:00:00Z", "response_status": 500,
    "response_body": "upstream unavailable", "duration_ms": 84, "last_error": null,
    "next_attempt_at": "2026-01-05T09:00:05Z", "created_at": "2026-01-05T09:00:00Z"
}))]
pub struct DeliveryView {
    #[schema(value_type = Uuid)]
    pub id: WebhookDeliveryId,
    /// The `webhook-id` header of every attempt.
    #[schema(example = "msg_0193a0c411117e429b156f4d8c3a2e10")]
    pub message_id: String,
    /// The domain event (`null` for a test message).
    #[schema(value_type = Option<Uuid>)]
    pub event_id: Option<EventId>,
    #[schema(example = "order.paid")]
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last answer (none when the connection failed).
    pub response_status: Option<i32>,
    /// The last answer's body, cut at 64 KB.
    pub response_body: Option<String>,
    pub duration_ms: Option<i32>,
    /// Why the last attempt failed without an answer (timeout, refused address ...).
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(row: DeliveryRow) -> Self {
        Self {
            message_id: row.message_id(),
            id: row.id,
            event_id: row.event_id,
            event_type: row.event_type,
            status: row.status,
            attempts: row.attempts,
            last_attempt_at: row.last_attempt_at,
            response_status: row.response_status,
            response_body: row.response_body,
            duration_ms: row.duration_ms,
            last_error: row.last_error,
            next_attempt_at: row.next_attempt_at,
            created_at: row.created_at,
        }
    }
}
