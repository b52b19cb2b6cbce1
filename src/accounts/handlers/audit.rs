//! `/v1/admin/audit-log`: the audit log, for admins.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::accounts::AuthUser;
use crate::audit::{AuditEntry, AuditFilter};
use crate::db::ids::UserId;
use crate::error::ApiResult;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events by this user.
    #[param(value_type = Option<uuid::Uuid>)]
    actor_id: Option<UserId>,
    /// Only this action, e.g. `auth.login_failed`.
    action: Option<String>,
    /// Events at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
}

crate::http::problems::problems!(ListAuditLogProblems { 403: admin_required, 422: validation_failed });

/// The audit log, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<AuditEntry>)),
        ListAuditLogProblems,
    )
)]
#[get("/admin/audit-log")]
async fn list_audit_log(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<AuditQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    user.require_admin()?;
    let limit = page.limit()?;
    let before = page.cursor::<i64>()?;
    let query = query.into_inner();
    let filter = AuditFilter { actor: query.actor_id, action: query.action, from: query.from, to: query.to };
    let mut conn = state.pool.get().await?;
    let rows = crate::audit::list(&mut conn, &filter, before, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |entry| entry.id);
    Ok(web::Json(Page { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_log);
}
