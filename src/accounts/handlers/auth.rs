//! `/v1/auth/*`: registration, email verification, login, token refresh, logout
//! and password reset.

use actix_web::{post, web, HttpMessage, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::login::{self, Credentials};
use crate::accounts::model::{RegisteredView, TokenPair};
use crate::accounts::password::DummyHash;
use crate::accounts::registration::{self, Registration};
use crate::accounts::{password_change, sessions};
use crate::error::ApiResult;
use crate::http::client_info;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "miner@example.com", "password": "correct horse battery", "display_name": "Altai Hosting"}))]
pub struct RegisterRequest {
    email: String,
    #[schema(value_type = String, min_length = 10, max_length = 128)]
    password: SecretString,
    display_name: String,
}

crate::http::problems::problems!(RegisterProblems { 422: validation_failed });

/// Create an account; a verification link is emailed. The answer is the same for
/// an email that is already registered (no account is created then).
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisteredView),
        RegisterProblems,
    )
)]
#[post("/auth/register")]
async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let RegisterRequest { email, password, display_name } = body.into_inner();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let input = Registration { email, password, display_name };
    // No connection here: the use case hashes the password before it takes one.
    let view =
        registration::register(&state.pool, state.config.web_url(), input, ip.as_deref(), state.clock.now()).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Qx3v...from the email link"}))]
pub struct TokenRequest {
    token: String,
}

crate::http::problems::problems!(VerifyEmailProblems { 422: invalid_token });

/// Confirm an email address with the token from the link (single use, 24 h).
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 204, description = "The address is verified"),
        VerifyEmailProblems,
    )
)]
#[post("/auth/verify-email")]
async fn verify_email(state: web::Data<AppState>, body: web::Json<TokenRequest>) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    registration::verify_email(&mut conn, &body.token, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "miner@example.com"}))]
pub struct EmailRequest {
    email: String,
}

/// Send a new verification link (always 202, whether or not the address is known).
#[utoipa::path(tag = "auth", request_body = EmailRequest, responses(
        (status = 202, description = "Accepted"),
    ))]
#[post("/auth/resend-verification")]
async fn resend_verification(state: web::Data<AppState>, body: web::Json<EmailRequest>) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    registration::resend_verification(&mut conn, state.config.web_url(), &body.email, now).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "miner@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    email: String,
    #[schema(value_type = String)]
    password: SecretString,
}

crate::http::problems::problems!(LogInProblems { 401: invalid_credentials, 403: account_suspended, 429: rate_limited });

/// Log in: a 15-minute access token and a 30-day rotating refresh token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair, headers(("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32, description = "Failed logins left before waits start"), ("RateLimit-Reset" = u64))),
        LogInProblems,
    )
)]
#[post("/auth/login")]
async fn log_in(
    state: web::Data<AppState>,
    dummy: web::Data<DummyHash>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<web::Json<TokenPair>> {
    let LoginRequest { email, password } = body.into_inner();
    let client = client_info(&req, state.config.trust_forwarded_for);
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let credentials = Credentials { email: email.clone(), password };
    let outcome = login::login(&mut conn, &state.config, &dummy, credentials, &client, now).await;
    // Every answer to an attempt says where the caller stands (the middleware in
    // `http` writes the quota as RateLimit-* headers).
    match login::throttle_quota(&mut conn, &email, &client, now).await {
        Ok(quota) => {
            req.extensions_mut().insert(quota);
        }
        Err(err) => tracing::warn!(error = %err, "login throttle standing unavailable"),
    }
    Ok(web::Json(outcome?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "rmr_k3J0m9yq6o2V0XGxM6b6cR1pP8w5S3Y1xq9JtY2nUZc"}))]
pub struct RefreshRequest {
    refresh_token: String,
}

crate::http::problems::problems!(RefreshProblems { 401: invalid_refresh_token | refresh_token_reused });

/// Exchange a refresh token for a new pair. The old refresh token stops working;
/// presenting it again revokes the session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        RefreshProblems,
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> ApiResult<web::Json<TokenPair>> {
    let client = client_info(&req, state.config.trust_forwarded_for);
    let mut conn = state.pool.get().await?;
    let tokens = sessions::refresh(&mut conn, &state.config, &body.refresh_token, &client, state.clock.now()).await?;
    Ok(web::Json(tokens))
}

crate::http::problems::problems!(LogoutProblems { 401: invalid_refresh_token });

/// End the session of this refresh token; its access tokens stop working too.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        LogoutProblems,
    )
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    sessions::logout(&mut conn, &body.refresh_token, ip.as_deref(), now).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Email a password reset link (always 202).
#[utoipa::path(tag = "auth", request_body = EmailRequest, responses(
        (status = 202, description = "Accepted"),
    ))]
#[post("/auth/password-reset")]
async fn request_password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<EmailRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    password_change::request_password_reset(&mut conn, state.config.web_url(), &body.email, ip.as_deref(), now).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Qx3v...from the email link", "new_password": "a brand new passphrase"}))]
pub struct ResetConfirmRequest {
    token: String,
    #[schema(value_type = String, min_length = 10, max_length = 128)]
    new_password: SecretString,
}

crate::http::problems::problems!(ConfirmPasswordResetProblems { 422: invalid_token | validation_failed });

/// Set a new password with the emailed token; every session is signed out.
#[utoipa::path(
    tag = "auth",
    request_body = ResetConfirmRequest,
    responses(
        (status = 204, description = "Password changed"),
        ConfirmPasswordResetProblems,
    )
)]
#[post("/auth/password-reset/confirm")]
async fn confirm_password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetConfirmRequest>,
) -> ApiResult<HttpResponse> {
    let ResetConfirmRequest { token, new_password } = body.into_inner();
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    password_change::confirm_password_reset(&mut conn, &token, new_password, ip.as_deref(), now).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register)
        .service(verify_email)
        .service(resend_verification)
        .service(log_in)
        .service(refresh)
        .service(logout)
        .service(request_password_reset)
        .service(confirm_password_reset);
}
