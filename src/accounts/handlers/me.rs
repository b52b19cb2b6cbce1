//! `/v1/me`, `/v1/me/*` and public profiles.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::model::{ApiKeyView, CreatedApiKey, MeView, PublicProfile, UserRow};
use crate::accounts::password::DummyHash;
use crate::accounts::ReputationSource;
use crate::accounts::{api_keys, registration};
use crate::accounts::{AuthUser, Principal};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::schema::users;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::client_info;
use crate::state::AppState;

async fn load_user(state: &AppState, id: Uuid) -> ApiResult<UserRow> {
    let mut conn = state.pool.get().await?;
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("user_not_found", "No user has this id."))
}

/// The caller's account (access token or API key).
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, body = MeView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
async fn get_me(state: web::Data<AppState>, caller: Principal) -> ApiResult<web::Json<MeView>> {
    Ok(web::Json(load_user(&state, caller.user_id()).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Altai Hosting", "country": "KZ", "company": "Altai Hosting LLP"}))]
pub struct UpdateMe {
    display_name: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `KZ`; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    country: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    company: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    payout_details: Option<Option<String>>,
}

fn check_optional_text(errors: &mut Vec<FieldError>, field: &str, value: &Option<Option<String>>, max: usize) {
    if let Some(Some(text)) = value {
        if text.chars().count() > max {
            errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        }
    }
}

/// Update the caller's profile.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, body = MeView),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
async fn update_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<UpdateMe>,
) -> ApiResult<web::Json<MeView>> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    if let Some(name) = &body.display_name {
        if let Err(ApiError::Validation(mut e)) = registration::check_display_name("display_name", name) {
            errors.append(&mut e);
        }
    }
    let country = body.country.map(|c| c.map(|c| c.trim().to_ascii_uppercase()));
    if let Some(Some(code)) = &country {
        if !crate::geo::is_country_code(code) {
            errors.push(FieldError::new("country", "must be an ISO 3166-1 alpha-2 code such as KZ"));
        }
    }
    check_optional_text(&mut errors, "company", &body.company, 120);
    check_optional_text(&mut errors, "payout_details", &body.payout_details, 2000);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = diesel::update(users::table.find(user.id()))
        .set((
            body.display_name.map(|n| users::display_name.eq(n.trim().to_string())),
            country.map(|c| users::country.eq(c)),
            body.company.map(|c| users::company.eq(c)),
            body.payout_details.map(|p| users::payout_details.eq(p)),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(&mut conn)
        .await?;
    Ok(web::Json(row.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "a brand new passphrase"}))]
pub struct ChangePassword {
    #[schema(value_type = String)]
    current_password: SecretString,
    #[schema(value_type = String, min_length = 10, max_length = 128)]
    new_password: SecretString,
}

/// Change the password; every session (this one too) is signed out.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; log in again"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    dummy: web::Data<DummyHash>,
    req: HttpRequest,
    user: AuthUser,
    body: web::Json<ChangePassword>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let client = client_info(&req, state.config.trust_forwarded_for);
    registration::change_password(
        &state,
        &dummy,
        user.id(),
        body.current_password,
        body.new_password,
        client.ip.as_deref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Anyone's public profile.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = PublicProfile),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
async fn public_profile(
    state: web::Data<AppState>,
    reputations: web::Data<ReputationSource>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<PublicProfile>> {
    let user = load_user(&state, *id).await?;
    let mut conn = state.pool.get().await?;
    let reputation = reputations.of_seller(&mut conn, user.id).await?;
    Ok(web::Json(PublicProfile {
        id: user.id,
        display_name: user.display_name,
        country: user.country,
        member_since: user.created_at,
        reputation,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "research desk", "requests_per_minute": 120}))]
pub struct CreateApiKey {
    name: String,
    /// Quota for this key (default 60, at most 6000).
    requests_per_minute: Option<i32>,
}

/// Create an API key. The key is shown only in this answer.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = CreateApiKey,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 409, description = "Too many active keys", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/api-keys")]
async fn create_api_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    body: web::Json<CreateApiKey>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let body = body.into_inner();
    let name = body.name.trim().to_string();
    let rpm = body.requests_per_minute.unwrap_or(api_keys::DEFAULT_REQUESTS_PER_MINUTE);
    let mut errors = Vec::new();
    if !(1..=80).contains(&name.chars().count()) {
        errors.push(FieldError::new("name", "must be 1 to 80 characters"));
    }
    if !(1..=api_keys::MAX_REQUESTS_PER_MINUTE).contains(&rpm) {
        errors.push(FieldError::new(
            "requests_per_minute",
            format!("must be between 1 and {}", api_keys::MAX_REQUESTS_PER_MINUTE),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    let created = conn
        .transaction(async |conn| {
            if api_keys::count_active(conn, user.id()).await? >= api_keys::MAX_ACTIVE_KEYS {
                return Err(ApiError::conflict("too_many_api_keys", "Revoke an API key before creating another."));
            }
            let created = api_keys::create(conn, user.id(), &name, rpm, now).await?;
            let event = AuditEvent::new(AuditAction::ApiKeyCreated)
                .actor(user.id())
                .target("api_key", created.id)
                .ip(ip.as_deref());
            audit::record(conn, event, now).await?;
            Ok(created)
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// The caller's active API keys (without the keys themselves).
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, body = Vec<ApiKeyView>)))]
#[get("/me/api-keys")]
async fn list_api_keys(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<Vec<ApiKeyView>>> {
    let mut conn = state.pool.get().await?;
    Ok(web::Json(api_keys::list(&mut conn, user.id()).await?))
}

/// Revoke one of the caller's API keys.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/api-keys/{id}")]
async fn revoke_api_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| {
        if !api_keys::revoke(conn, user.id(), *id, now).await? {
            return Err(ApiError::not_found("api_key_not_found", "You have no active API key with this id."));
        }
        let event =
            AuditEvent::new(AuditAction::ApiKeyRevoked).actor(user.id()).target("api_key", *id).ip(ip.as_deref());
        audit::record(conn, event, now).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_me)
        .service(update_me)
        .service(change_password)
        .service(public_profile)
        .service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}
