//! The JSON of the inbox and of the email preferences.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::events::inbox::Notification;
use crate::events::EVENT_KINDS;

/// One inbox entry: a domain event seen by one of its parties.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 4211,
    "type": "order.paid",
    "subject_id": "0193f2a4-7c1a-7e42-9b15-6f4d8c3a2e10",
    "data": {"order_id": "0193f2a4-7c1a-7e42-9b15-6f4d8c3a2e10", "status": "paid"},
    "created_at": "2026-12-07T10:00:00Z",
    "read_at": null
}))]
pub struct NotificationView {
    /// Increases with every notification of the user: the SSE event id and
    /// what `POST /v1/me/notifications/read` takes.
    pub id: i64,
    /// An event type from `GET /v1/webhook-event-types`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The order, proof or listing it is about.
    pub subject_id: Uuid,
    /// The event's facts (ids, old and new status, a reason).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationView {
    fn from(row: Notification) -> Self {
        Self {
            id: row.seq,
            kind: row.kind,
            subject_id: row.subject_id,
            data: row.data,
            created_at: row.created_at,
            read_at: row.read_at,
        }
    }
}

/// A page of the inbox, with how many entries are unread in all.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "NDIxMQ")]
    pub next_cursor: Option<String>,
    /// Unread entries in the whole inbox (not only this page).
    #[schema(example = 3)]
    pub unread_count: i64,
}

/// Whether one event type emails the user.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailSetting {
    #[serde(rename = "type")]
    #[schema(example = "order.message_posted")]
    pub kind: &'static str,
    /// Sent by email (it lands in the inbox either way).
    pub email: bool,
    /// `false` for the emails that are always sent (the recipient may have to act).
    pub can_mute: bool,
}

/// The caller's email preferences, one entry per event type.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"email": [
    {"type": "order.paid", "email": true, "can_mute": false},
    {"type": "order.shipped", "email": false, "can_mute": true},
    {"type": "order.message_posted", "email": true, "can_mute": true}
]}))]
pub struct NotificationSettingsView {
    pub email: Vec<EmailSetting>,
}

impl NotificationSettingsView {
    pub fn of(muted: &[String]) -> Self {
        let email = EVENT_KINDS
            .iter()
            .map(|(kind, name, _)| EmailSetting {
                kind: name,
                email: !muted.iter().any(|m| m == name),
                can_mute: super::settings::can_mute(*kind),
            })
            .collect();
        Self { email }
    }
}
