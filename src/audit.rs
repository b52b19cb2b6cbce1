//! The append-only audit log of security-relevant events (logins, role changes,
//! suspensions, key creation ...). Events are written in the transaction of the
//! change they describe; the database refuses UPDATE, DELETE and TRUNCATE.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::ids::UserId;
use crate::db::schema::audit_log;

/// What happened; the string form is stored and filterable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Register,
    EmailVerified,
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    RefreshReuseDetected,
    Logout,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    UserSuspended,
    UserReinstated,
    RoleGranted,
    ApiKeyCreated,
    ApiKeyRevoked,
    SerialReportedStolen,
    SerialReportRevoked,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "user.register",
            Self::EmailVerified => "user.email_verified",
            Self::LoginSucceeded => "auth.login_succeeded",
            Self::LoginFailed => "auth.login_failed",
            Self::LoginThrottled => "auth.login_throttled",
            Self::RefreshReuseDetected => "auth.refresh_reuse_detected",
            Self::Logout => "auth.logout",
            Self::PasswordResetRequested => "auth.password_reset_requested",
            Self::PasswordReset => "auth.password_reset",
            Self::PasswordChanged => "auth.password_changed",
            Self::UserSuspended => "admin.user_suspended",
            Self::UserReinstated => "admin.user_reinstated",
            Self::RoleGranted => "admin.role_granted",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::SerialReportedStolen => "admin.serial_reported_stolen",
            Self::SerialReportRevoked => "admin.serial_report_revoked",
        }
    }
}

/// One event to record. `actor` is who acted (None for anonymous attempts).
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: AuditAction,
    pub actor: Option<UserId>,
    pub target: Option<(&'static str, String)>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(action: AuditAction) -> Self {
        Self { action, actor: None, target: None, ip: None, details: serde_json::json!({}) }
    }
    pub fn actor(mut self, actor: UserId) -> Self {
        self.actor = Some(actor);
        self
    }
    pub fn target_user(mut self, user: UserId) -> Self {
        self.target = Some(("user", user.to_string()));
        self
    }
    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }
    pub fn ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(str::to_string);
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

pub async fn record(conn: &mut AsyncPgConnection, event: AuditEvent, now: DateTime<Utc>) -> QueryResult<()> {
    let (target_type, target_id) = event.target.map_or((None, None), |(kind, id)| (Some(kind), Some(id)));
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::occurred_at.eq(now),
            audit_log::actor_id.eq(event.actor),
            audit_log::action.eq(event.action.as_str()),
            audit_log::target_type.eq(target_type),
            audit_log::target_id.eq(target_id),
            audit_log::ip.eq(event.ip),
            audit_log::details.eq(event.details),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = audit_log)]
#[schema(example = json!({
    "id": 48213, "occurred_at": "2026-05-11T07:41:09Z", "actor_id": null, "action": "auth.login_failed",
    "target_type": null, "target_id": null, "ip": "203.0.113.45", "details": {"email": "seller@example.com"}
}))]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub actor_id: Option<UserId>,
    #[schema(example = "auth.login_failed")]
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Newest first; `before` is the id cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut query =
        audit_log::table.select(AuditEntry::as_select()).order(audit_log::id.desc()).limit(limit).into_boxed();
    if let Some(actor) = filter.actor {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::occurred_at.lt(to));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    query.load(conn).await
}
