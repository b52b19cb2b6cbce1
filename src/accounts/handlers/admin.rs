//! `/v1/admin/users`: finding accounts, suspending and reinstating them.

use actix_web::{get, post, web, HttpRequest};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::accounts::model::{AdminUserView, UserRow};
use crate::accounts::sessions;
use crate::accounts::AuthUser;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::schema::users;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::client_info;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::mail;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
    Unverified,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the email address, case-insensitive.
    email: Option<String>,
    #[param(inline)]
    status: Option<UserStatus>,
}

/// Accounts, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(UserQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<AdminUserView>)),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/users")]
async fn list_users(
    state: web::Data<AppState>,
    admin: AuthUser,
    query: web::Query<UserQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<AdminUserView>>> {
    admin.require_admin()?;
    let limit = page.limit()?;
    let before = page.cursor::<Uuid>()?;
    let mut select = users::table.select(UserRow::as_select()).order(users::id.desc()).limit(limit + 1).into_boxed();
    if let Some(email) = &query.email {
        let pattern = format!("%{}%", crate::db::escape_like(&email.trim().to_lowercase()));
        select = select.filter(users::email.like(pattern));
    }
    select = match query.status {
        Some(UserStatus::Suspended) => select.filter(users::suspended_at.is_not_null()),
        Some(UserStatus::Unverified) => select.filter(users::email_verified_at.is_null()),
        Some(UserStatus::Active) => {
            select.filter(users::suspended_at.is_null()).filter(users::email_verified_at.is_not_null())
        }
        None => select,
    };
    if let Some(before) = before {
        select = select.filter(users::id.lt(before));
    }
    let mut conn = state.pool.get().await?;
    let rows = select.load(&mut conn).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.id);
    Ok(web::Json(Page { items: rows.into_iter().map(Into::into).collect(), next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Listings with stolen photos"}))]
pub struct SuspendRequest {
    reason: String,
}

fn user_not_found() -> ApiError {
    ApiError::not_found("user_not_found", "No user has this id.")
}

/// Why a conditional update touched no row: the user is missing (404) or not in
/// the state the action needs (409 with `code`).
async fn wrong_state_or_missing(
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
    code: &'static str,
    detail: &'static str,
) -> ApiError {
    match users::table.find(id).select(users::id).first::<Uuid>(conn).await.optional() {
        Ok(Some(_)) => ApiError::conflict(code, detail),
        Ok(None) => user_not_found(),
        Err(err) => err.into(),
    }
}

/// Suspend an account: its sessions end, its listings are hidden and it can no
/// longer write anything (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = SuspendRequest,
    responses(
        (status = 200, body = AdminUserView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/users/{id}/suspend")]
async fn suspend(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<SuspendRequest>,
) -> ApiResult<web::Json<AdminUserView>> {
    admin.require_admin()?;
    let reason = body.into_inner().reason.trim().to_string();
    if !(1..=500).contains(&reason.chars().count()) {
        return Err(ApiError::validation("reason", "must be 1 to 500 characters"));
    }
    if *id == admin.id() {
        return Err(ApiError::conflict("cannot_suspend_self", "Admins cannot suspend their own account."));
    }
    let now = state.clock.now();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let row = diesel::update(users::table.find(*id).filter(users::suspended_at.is_null()))
                .set((users::suspended_at.eq(now), users::suspension_reason.eq(&reason), users::updated_at.eq(now)))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            let Some(row) = row else {
                return Err(wrong_state_or_missing(
                    conn,
                    *id,
                    "already_suspended",
                    "This account is already suspended.",
                )
                .await);
            };
            sessions::revoke_all(conn, row.id, "suspended", now).await?;
            let event = AuditEvent::new(AuditAction::UserSuspended)
                .actor(admin.id())
                .target_user(row.id)
                .ip(ip.as_deref())
                .details(serde_json::json!({ "reason": reason }));
            audit::record(conn, event, now).await?;
            mail::enqueue(conn, &row.email, &crate::accounts::emails::AccountSuspended { reason: reason.clone() }, now)
                .await?;
            Ok(row)
        })
        .await?;
    Ok(web::Json(row.into()))
}

/// Lift a suspension (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = AdminUserView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/users/{id}/reinstate")]
async fn reinstate(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<AdminUserView>> {
    admin.require_admin()?;
    let now = state.clock.now();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let row = diesel::update(users::table.find(*id).filter(users::suspended_at.is_not_null()))
                .set((
                    users::suspended_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                    users::suspension_reason.eq(None::<String>),
                    users::updated_at.eq(now),
                ))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            let Some(row) = row else {
                return Err(wrong_state_or_missing(conn, *id, "not_suspended", "This account is not suspended.").await);
            };
            let event =
                AuditEvent::new(AuditAction::UserReinstated).actor(admin.id()).target_user(row.id).ip(ip.as_deref());
            audit::record(conn, event, now).await?;
            Ok(row)
        })
        .await?;
    Ok(web::Json(row.into()))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users).service(suspend).service(reinstate);
}
