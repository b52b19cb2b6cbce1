//! `/v1/me`, `/v1/me/*` and public profiles.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::api_keys::{self, KeyRequest};
use crate::accounts::model::{ApiKeyView, CreatedApiKey, MeView, ProfileChanges, PublicProfile};
use crate::accounts::password::DummyHash;
use crate::accounts::password_change::{self, PasswordChange};
use crate::accounts::profile;
use crate::accounts::ReplicaReads;
use crate::accounts::ReputationSource;
use crate::accounts::{AuthUser, Principal};
use crate::db::ids::{ApiKeyId, UserId};
use crate::error::ApiResult;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::http::{client_info, conditional};
use crate::state::AppState;

/// The caller's account (access token or API key).
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ("api_key" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "ETags of copies the client holds; 304 when one is current")),
    responses(
        (status = 200, body = MeView, headers(("ETag" = String), ("Cache-Control" = String, description = "private, no-cache"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag", headers(("ETag" = String))),
    )
)]
#[get("/me")]
async fn get_me(state: web::Data<AppState>, req: HttpRequest, caller: Principal) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let me = profile::me(&mut conn, caller.user_id()).await?;
    conditional::respond_json(&req, &me, conditional::PRIVATE_REVALIDATE)
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

crate::http::problems::problems!(UpdateMeProblems { 422: validation_failed });

/// Update the caller's profile.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, body = MeView),
        UpdateMeProblems,
    )
)]
#[patch("/me")]
async fn update_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<UpdateMe>,
) -> ApiResult<web::Json<MeView>> {
    let UpdateMe { display_name, country, company, payout_details } = body.into_inner();
    let changes = ProfileChanges { display_name, country, company, payout_details }.checked()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    Ok(web::Json(profile::update(&mut conn, user.id(), changes, now).await?))
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

crate::http::problems::problems!(ChangePasswordProblems { 422: validation_failed });

/// Change the password; every session (this one too) is signed out.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; log in again"),
        ChangePasswordProblems,
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
    let ChangePassword { current_password, new_password } = body.into_inner();
    let change = PasswordChange { current: current_password, new_password };
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    password_change::change_password(&mut conn, &dummy, user.id(), change, ip.as_deref(), now).await?;
    Ok(HttpResponse::NoContent().finish())
}

crate::http::problems::problems!(PublicProfileProblems { 404: user_not_found });

/// Anyone's public profile.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = PublicProfile),
        PublicProfileProblems,
    )
)]
#[get("/users/{id}")]
async fn public_profile(
    reads: ReplicaReads,
    reputations: web::Data<ReputationSource>,
    id: web::Path<UserId>,
) -> ApiResult<web::Json<PublicProfile>> {
    let mut conn = reads.conn().await?;
    Ok(web::Json(profile::public_profile(&mut conn, &reputations, *id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "research desk", "requests_per_minute": 120}))]
pub struct CreateApiKey {
    name: String,
    /// Quota for this key (default 60, at most 6000).
    requests_per_minute: Option<i32>,
}

crate::http::problems::problems!(CreateApiKeyProblems {
    403: email_not_verified,
    409: too_many_api_keys,
    422: validation_failed,
});

/// Create an API key. The key is shown only in this answer.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = CreateApiKey,
    responses(
        (status = 201, body = CreatedApiKey),
        CreateApiKeyProblems,
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
    let request = KeyRequest::new(&body.name, body.requests_per_minute)?;
    let now = state.clock.now();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    let created = api_keys::create(&mut conn, user.id(), &request, ip.as_deref(), now).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The caller's active API keys (without the keys themselves).
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<ApiKeyView>)))
)]
#[get("/me/api-keys")]
async fn list_api_keys(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ApiKeyView>>> {
    let limit = page.limit()?;
    let before = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let rows = api_keys::list(&mut conn, user.id(), before, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |key| (key.created_at, key.id));
    Ok(web::Json(Page { items, next_cursor }))
}

crate::http::problems::problems!(RevokeApiKeyProblems { 404: api_key_not_found });

/// Revoke one of the caller's API keys.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        RevokeApiKeyProblems,
    )
)]
#[delete("/me/api-keys/{id}")]
async fn revoke_api_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let mut conn = state.pool.get().await?;
    api_keys::revoke(&mut conn, user.id(), *id, ip.as_deref(), now).await?;
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
