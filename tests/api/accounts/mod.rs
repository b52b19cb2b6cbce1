//! Accounts: registration and email verification over real SMTP, login, rotating
//! refresh sessions, logout, password reset and change, login throttling, the
//! JWT attacks a client could try, and profiles.

mod email_pages;
mod passwords;
mod profiles;
mod registration;
mod sessions;
mod throttling;
mod tokens;

use std::collections::BTreeSet;

use chrono::Duration;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::support::accounts::{
    audit_entries, audit_entries_for, count_users, get_bearer, jwt_claims, jwt_header, link_token, login, login_ok,
    mails_for, me_status, refresh, register, register_and_verify, reset_token, text_of, user_id, verification_token,
    verify_email, TokenPair, PASSWORD,
};
use crate::support::{assert_problem, default_now, spawn_app, TestApp};

fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object().unwrap_or_else(|| panic!("not an object: {body}")).keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

async fn smtp_app() -> TestApp {
    TestApp::builder().with_smtp().spawn().await
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn retry_after(response: &reqwest::Response) -> i64 {
    response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("a 429 without Retry-After"))
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

async fn resend(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/v1/auth/resend-verification", None, &json!({ "email": email })).await
}

async fn ask_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/v1/auth/password-reset", None, &json!({ "email": email })).await
}

async fn confirm_reset(app: &TestApp, token: &str, new_password: &str) -> reqwest::Response {
    app.post_json("/v1/auth/password-reset/confirm", None, &json!({"token": token, "new_password": new_password})).await
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> reqwest::Response {
    app.post_json("/v1/me/password", Some(token), &json!({"current_password": current, "new_password": new})).await
}

async fn patch_me(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.patch_json("/v1/me", Some(token), &body).await
}

// ---------------------------------------------------------------- registration
