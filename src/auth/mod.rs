//! Who is calling: JWT access tokens (HS256 only) and the `AuthUser` extractor
//! that loads the caller's current roles and status from the database on every
//! request, so a role change or suspension takes effect immediately.

pub mod token;

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::users;
use crate::error::ApiError;
use crate::AppState;

pub const ROLE_ADMIN: &str = "admin";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AccountStatus {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
}

/// An authenticated, non-suspended caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub account: AccountStatus,
}

impl AuthUser {
    pub fn id(&self) -> Uuid {
        self.account.id
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.account.roles.iter().any(|r| r == role)
    }

    /// The explicit role check handlers call before privileged work.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.has_role(ROLE_ADMIN) {
            Ok(())
        } else {
            Err(ApiError::forbidden("admin_required", "This action requires the admin role."))
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

pub async fn load_account(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<AccountStatus>> {
    users::table.find(id).select(AccountStatus::as_select()).first(conn).await.optional()
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("authentication_required", "Send `Authorization: Bearer <access token>`.")
            })?;
            let claims = token::verify_access_token(&state.config, &token, state.clock.now())?;
            let mut conn = state.pool.get().await?;
            let account = load_account(&mut conn, claims.sub)
                .await?
                .ok_or_else(|| ApiError::unauthorized("invalid_token", "The token's account no longer exists."))?;
            if account.suspended_at.is_some() {
                return Err(ApiError::forbidden("account_suspended", "This account is suspended."));
            }
            Ok(AuthUser { account })
        })
    }
}

/// Gives `email`'s account the admin role (`rigmarket admin grant`). Returns the
/// account, or `None` when no account has that email.
pub async fn grant_admin(
    conn: &mut AsyncPgConnection,
    email: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<AccountStatus>> {
    use diesel_async::AsyncConnection;
    let email = email.trim().to_lowercase();
    conn.transaction(async move |conn| {
        let Some(account) = users::table
            .filter(users::email.eq(&email))
            .select(AccountStatus::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
        else {
            return Ok(None);
        };
        if account.roles.iter().any(|r| r == ROLE_ADMIN) {
            return Ok(Some(account));
        }
        let mut roles = account.roles.clone();
        roles.push(ROLE_ADMIN.to_string());
        let updated = diesel::update(users::table.find(account.id))
            .set((users::roles.eq(&roles), users::updated_at.eq(now)))
            .returning(AccountStatus::as_returning())
            .get_result(conn)
            .await?;
        crate::mail::enqueue(
            conn,
            &updated.email,
            &crate::mail::templates::AdminRoleGranted { display_name: updated.display_name.clone() },
            now,
        )
        .await?;
        Ok(Some(updated))
    })
    .await
}
