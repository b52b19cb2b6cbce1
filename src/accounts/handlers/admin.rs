//! `/v1/admin/users`: finding accounts, suspending and reinstating them.

use actix_web::{get, post, web, HttpRequest};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::accounts::model::{AdminUserView, UserStatus};
use crate::accounts::queries::users::{self, UserFilter};
use crate::accounts::suspension::{self, Suspension};
use crate::accounts::AuthUser;
use crate::db::ids::UserId;
use crate::error::ApiResult;
use crate::http::client_info;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the email address, case-insensitive.
    email: Option<String>,
    #[param(inline)]
    status: Option<UserStatus>,
}

crate::http::problems::problems!(ListUsersProblems { 403: admin_required });

/// Accounts, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(UserQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<AdminUserView>)),
        ListUsersProblems,
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
    let (limit, before) = (page.limit()?, page.cursor::<UserId>()?);
    let UserQuery { email, status } = query.into_inner();
    let mut conn = state.pool.get().await?;
    let rows = users::list(&mut conn, &UserFilter { email, status }, before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.id);
    Ok(web::Json(Page { items: rows.into_iter().map(Into::into).collect(), next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Listings with stolen photos"}))]
pub struct SuspendRequest {
    reason: String,
}

crate::http::problems::problems!(SuspendProblems {
    403: admin_required,
    404: user_not_found,
    409: already_suspended | cannot_suspend_self,
    422: validation_failed,
});

/// Suspend an account: its sessions end, its listings are hidden and it can no
/// longer write anything (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = SuspendRequest,
    responses(
        (status = 200, body = AdminUserView),
        SuspendProblems,
    )
)]
#[post("/admin/users/{id}/suspend")]
async fn suspend(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    id: web::Path<UserId>,
    body: web::Json<SuspendRequest>,
) -> ApiResult<web::Json<AdminUserView>> {
    admin.require_admin()?;
    let suspension = Suspension::new(admin.id(), *id, &body.reason)?;
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    let row = suspension::suspend(&mut conn, &suspension, ip.as_deref(), state.clock.now()).await?;
    Ok(web::Json(row.into()))
}

crate::http::problems::problems!(ReinstateProblems { 403: admin_required, 404: user_not_found, 409: not_suspended });

/// Lift a suspension (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = AdminUserView),
        ReinstateProblems,
    )
)]
#[post("/admin/users/{id}/reinstate")]
async fn reinstate(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    id: web::Path<UserId>,
) -> ApiResult<web::Json<AdminUserView>> {
    admin.require_admin()?;
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    let row = suspension::reinstate(&mut conn, admin.id(), *id, ip.as_deref(), state.clock.now()).await?;
    Ok(web::Json(row.into()))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users).service(suspend).service(reinstate);
}
