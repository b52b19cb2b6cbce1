//! Roles an account can hold, and granting the admin role (which only the
//! operator can do, through `rigmarket admin grant`).

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::model::AccountStatus;
use super::queries::users;
use super::registration::normalize_email;
use crate::audit::{self, AuditAction, AuditEvent};

pub const ROLE_ADMIN: &str = "admin";
pub const ROLE_INSPECTOR: &str = "inspector";

/// Gives `email`'s account the admin role, records it in the audit log and tells
/// the owner. Returns the account, or `None` when no account has that email.
pub async fn grant_admin(
    conn: &mut AsyncPgConnection,
    email: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<AccountStatus>> {
    let email = normalize_email(email);
    conn.transaction(async move |conn| {
        let Some(account) = users::lock_account_by_email(conn, &email).await? else {
            return Ok(None);
        };
        if account.roles.iter().any(|r| r == ROLE_ADMIN) {
            return Ok(Some(account));
        }
        let mut roles = account.roles.clone();
        roles.push(ROLE_ADMIN.to_string());
        let updated = users::set_roles(conn, account.id, &roles, now).await?;
        let event = AuditEvent::new(AuditAction::RoleGranted)
            .target_user(updated.id)
            .details(serde_json::json!({ "role": ROLE_ADMIN, "via": "cli" }));
        audit::record(conn, event, now).await?;
        let template = super::emails::AdminRoleGranted { display_name: updated.display_name.clone() };
        crate::mail::enqueue(conn, &updated.email, &template, now).await?;
        Ok(Some(updated))
    })
    .await
}
