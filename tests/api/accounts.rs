//! Accounts: registration and email verification over real SMTP, login, rotating
//! refresh sessions, logout, password reset and change, login throttling, the
//! JWT attacks a client could try, and profiles.

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

#[tokio::test]
async fn registration_emails_a_link_whose_token_verifies_the_address_once() {
    let app = smtp_app().await;
    let smtp = app.smtp.as_ref().unwrap();

    let response = register(&app, " Miner@RigMarket.test ", PASSWORD, "Altai Hosting").await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(keys(&body), set(&["id", "email", "display_name", "email_verified"]), "{body}");
    assert_eq!(body["email"], "miner@rigmarket.test", "the address is normalised");
    assert_eq!(body["display_name"], "Altai Hosting");
    assert_eq!(body["email_verified"], false);
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(user_id(&app, "miner@rigmarket.test").await.to_string(), id);
    assert!(smtp.received().is_empty(), "mail goes through the outbox, not the request");

    // The verification email arrives over SMTP with a link to the web app.
    let mails = mails_for(&app, "miner@rigmarket.test", "Confirm your email for rigmarket").await;
    assert_eq!(mails.len(), 1, "{:?}", smtp.received());
    let text = text_of(&mails[0]);
    assert!(text.contains("Hello Altai Hosting"), "{text}");
    assert!(text.contains("expires in 24 hours"), "{text}");
    let token = link_token(&mails[0], "/verify-email");

    // Unverified accounts can log in and read their account.
    let tokens = login_ok(&app, "miner@rigmarket.test", PASSWORD).await;
    let (status, me) = json_of(get_bearer(&app, "/v1/me", &tokens.access_token).await).await;
    assert_eq!((status, &me["email_verified"]), (200, &json!(false)), "{me}");

    assert_eq!(verify_email(&app, &token).await.status().as_u16(), 204);
    let (_, me) = json_of(get_bearer(&app, "/v1/me", &tokens.access_token).await).await;
    assert_eq!(me["email_verified"], true, "{me}");

    // Single use.
    assert_problem(verify_email(&app, &token).await, 422, "invalid_token").await;
    assert_problem(verify_email(&app, "not-a-token").await, 422, "invalid_token").await;

    let actions: Vec<_> = audit_entries(&app).await.into_iter().map(|e| (e.action, e.actor_id)).collect();
    let actor = Some(id.parse().unwrap());
    assert!(actions.contains(&("user.register".into(), actor)), "{actions:?}");
    assert!(actions.contains(&("user.email_verified".into(), actor)), "{actions:?}");
}

#[tokio::test]
async fn a_verification_link_expires_after_24_hours_and_a_resent_one_works() {
    let app = smtp_app().await;
    let response = register(&app, "late@rigmarket.test", PASSWORD, "Late").await;
    assert_eq!(response.status().as_u16(), 201);
    let stale = verification_token(&app, "late@rigmarket.test").await;

    app.clock.advance(Duration::hours(24) + Duration::minutes(1));
    assert_problem(verify_email(&app, &stale).await, 422, "invalid_token").await;

    let resend = app.post_json("/v1/auth/resend-verification", None, &json!({"email": "late@rigmarket.test"})).await;
    assert_eq!(resend.status().as_u16(), 202);
    let fresh = verification_token(&app, "late@rigmarket.test").await;
    assert_ne!(fresh, stale);
    // Still good just before its 24 hours are up.
    app.clock.advance(Duration::hours(23) + Duration::minutes(59));
    assert_eq!(verify_email(&app, &fresh).await.status().as_u16(), 204);
    let tokens = login_ok(&app, "late@rigmarket.test", PASSWORD).await;
    let (_, me) = json_of(get_bearer(&app, "/v1/me", &tokens.access_token).await).await;
    assert_eq!(me["email_verified"], true, "{me}");
}

#[tokio::test]
async fn registering_a_taken_email_answers_alike_but_creates_nothing_and_warns_the_owner() {
    let app = smtp_app().await;
    let (status, first) = json_of(register(&app, "alice@rigmarket.test", PASSWORD, "Alice").await).await;
    assert_eq!(status, 201, "{first}");
    let users_after_first = count_users(&app).await;

    let (status, second) =
        json_of(register(&app, "ALICE@rigmarket.test", "another long password", "Mallory").await).await;
    assert_eq!(status, 201, "same answer as for a new address: {second}");
    assert_eq!(keys(&second), keys(&first));
    assert_eq!(second["email"], "alice@rigmarket.test");
    assert_eq!(second["email_verified"], false);
    assert!(second["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok(), "{second}");
    assert_eq!(count_users(&app).await, users_after_first, "no second account");
    assert_eq!(user_id(&app, "alice@rigmarket.test").await.to_string(), first["id"].as_str().unwrap());

    // The owner hears about it; the attempt gets no verification link.
    let warnings = mails_for(&app, "alice@rigmarket.test", "Someone tried to sign up").await;
    assert_eq!(warnings.len(), 1);
    assert!(!text_of(&warnings[0]).contains("token="), "{}", text_of(&warnings[0]));
    assert_eq!(mails_for(&app, "alice@rigmarket.test", "Confirm your email").await.len(), 1);
    assert_eq!(audit_entries_for(&app, "user.register").await.len(), 1);

    // The account keeps its own password and name.
    let tokens = login_ok(&app, "alice@rigmarket.test", PASSWORD).await;
    let (_, me) = json_of(get_bearer(&app, "/v1/me", &tokens.access_token).await).await;
    assert_eq!(me["display_name"], "Alice");
    assert_problem(login(&app, "alice@rigmarket.test", "another long password").await, 401, "invalid_credentials")
        .await;
}

#[tokio::test]
async fn resend_verification_always_answers_202_and_mails_only_unverified_accounts() {
    let app = smtp_app().await;
    let smtp = app.smtp.as_ref().unwrap();
    register(&app, "bob@rigmarket.test", PASSWORD, "Bob").await;
    let first = verification_token(&app, "bob@rigmarket.test").await;

    assert_eq!(resend(&app, "bob@rigmarket.test").await.status().as_u16(), 202);
    let second = verification_token(&app, "bob@rigmarket.test").await;
    assert_ne!(first, second);
    assert_eq!(mails_for(&app, "bob@rigmarket.test", "Confirm your email").await.len(), 2);
    assert_problem(verify_email(&app, &first).await, 422, "invalid_token").await;
    assert_eq!(verify_email(&app, &second).await.status().as_u16(), 204);

    // Verified or unknown: the same 202, and no mail.
    let before = smtp.received().len();
    assert_eq!(resend(&app, "bob@rigmarket.test").await.status().as_u16(), 202);
    assert_eq!(resend(&app, "nobody@rigmarket.test").await.status().as_u16(), 202);
    app.drain_jobs().await;
    assert_eq!(smtp.received().len(), before, "{:?}", smtp.received());
}

#[tokio::test]
async fn the_password_policy_and_bad_registrations_are_clear_422s() {
    let app = spawn_app().await;
    let users_before = count_users(&app).await;
    let field_error = |body: &Value, field: &str| {
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors[]: {body}"));
        assert!(errors.iter().any(|e| e["field"] == field && e["message"].is_string()), "{body}");
    };

    for (password, why) in [
        ("nine char".to_string(), "too short"),
        ("x".repeat(129), "too long"),
        ("Policy@RigMarket.test".to_string(), "equal to the email"),
    ] {
        let response = register(&app, "policy@rigmarket.test", &password, "Policy").await;
        let body = assert_problem(response, 422, "validation_failed").await;
        field_error(&body, "password");
        assert!(body["errors"].as_array().unwrap().iter().all(|e| e["field"] != "email"), "{why}: {body}");
    }
    let body = assert_problem(register(&app, "not-an-email", PASSWORD, "Policy").await, 422, "validation_failed").await;
    field_error(&body, "email");
    let body =
        assert_problem(register(&app, "name@rigmarket.test", PASSWORD, "  ").await, 422, "validation_failed").await;
    field_error(&body, "display_name");

    let unknown = json!({"email": "x@rigmarket.test", "password": PASSWORD, "display_name": "X", "admin": true});
    let body = assert_problem(app.post_json("/v1/auth/register", None, &unknown).await, 422, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("admin"), "{body}");
    let missing = json!({"email": "x@rigmarket.test", "display_name": "X"});
    assert_problem(app.post_json("/v1/auth/register", None, &missing).await, 422, "invalid_body").await;
    assert_eq!(count_users(&app).await, users_before, "nothing was written");

    // The bounds themselves are allowed.
    for (email, password) in [("ten@rigmarket.test", "x".repeat(10)), ("long@rigmarket.test", "y".repeat(128))] {
        assert_eq!(register(&app, email, &password, "Edge").await.status().as_u16(), 201, "{}", password.len());
    }
}

// ---------------------------------------------------------------- login and sessions

#[tokio::test]
async fn login_returns_a_bearer_pair_whose_access_token_reads_me() {
    let app = smtp_app().await;
    register_and_verify(&app, "carla@rigmarket.test").await;
    let id = user_id(&app, "carla@rigmarket.test").await;

    let (status, body) = json_of(login(&app, "Carla@RigMarket.test", PASSWORD).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), set(&["access_token", "refresh_token", "token_type", "expires_in"]));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let tokens = TokenPair::from_json(&body);
    assert!(tokens.refresh_token.starts_with("rmr_"), "{body}");
    assert_eq!(jwt_header(&tokens.access_token)["alg"], "HS256");
    let claims = jwt_claims(&tokens.access_token);
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!(claims["iat"], default_now().timestamp());
    assert_eq!(claims["exp"], default_now().timestamp() + 900);
    assert_eq!(claims["iss"], app.address.as_str());
    assert!(claims["jti"].is_string() && claims["roles"].is_array(), "{claims}");

    let (status, me) = json_of(get_bearer(&app, "/v1/me", &tokens.access_token).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], id.to_string());
    assert_eq!(me["email"], "carla@rigmarket.test");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["roles"], json!([]));
    assert!(me.get("password_hash").is_none(), "{me}");

    assert_problem(app.get("/v1/me").await, 401, "authentication_required").await;
    let succeeded = audit_entries_for(&app, "auth.login_succeeded").await;
    assert!(succeeded.iter().any(|e| e.actor_id == Some(id) && e.ip.as_deref() == Some("127.0.0.1")), "{succeeded:?}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_identical_answers() {
    let app = smtp_app().await;
    register_and_verify(&app, "dora@rigmarket.test").await;

    let wrong = login(&app, "dora@rigmarket.test", "not her password").await;
    let unknown = login(&app, "nobody@rigmarket.test", "not her password").await;
    let headers = |r: &reqwest::Response| {
        ["content-type", "www-authenticate"].map(|h| r.headers().get(h).map(|v| v.to_str().unwrap().to_string()))
    };
    assert_eq!(headers(&wrong), headers(&unknown));
    let wrong = assert_problem(wrong, 401, "invalid_credentials").await;
    let unknown = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(wrong, unknown, "the answers must not tell the cases apart");

    let failures = audit_entries_for(&app, "auth.login_failed").await;
    assert_eq!(failures.len(), 2, "{failures:?}");
    for (entry, email) in failures.iter().zip(["dora@rigmarket.test", "nobody@rigmarket.test"]) {
        assert_eq!(entry.details["email"], email);
        assert_eq!(entry.ip.as_deref(), Some("127.0.0.1"));
    }
}

#[tokio::test]
async fn refresh_rotates_and_replaying_a_used_refresh_token_revokes_the_session() {
    let app = smtp_app().await;
    let first = register_and_verify(&app, "erin@rigmarket.test").await;
    let other_device = login_ok(&app, "erin@rigmarket.test", PASSWORD).await;
    let id = user_id(&app, "erin@rigmarket.test").await;

    app.clock.advance(Duration::minutes(5));
    let (status, body) = json_of(refresh(&app, &first.refresh_token).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let second = TokenPair::from_json(&body);
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(jwt_claims(&second.access_token)["iat"], (default_now() + Duration::minutes(5)).timestamp());
    assert_eq!(me_status(&app, &second.access_token).await, 200);

    // The rotated-out token is replayed (a thief, or the client after a leak).
    assert_problem(refresh(&app, &first.refresh_token).await, 401, "refresh_token_reused").await;
    // The whole session is dead: its newest refresh token and its access tokens.
    let body = assert_problem(refresh(&app, &second.refresh_token).await, 401, "invalid_refresh_token").await;
    assert!(body["detail"].as_str().unwrap().contains("log in again"), "{body}");
    assert_problem(get_bearer(&app, "/v1/me", &second.access_token).await, 401, "session_revoked").await;
    assert_problem(get_bearer(&app, "/v1/me", &first.access_token).await, 401, "session_revoked").await;
    // Another login of the same user is a different family and lives on.
    assert_eq!(me_status(&app, &other_device.access_token).await, 200);
    assert_eq!(refresh(&app, &other_device.refresh_token).await.status().as_u16(), 200);

    let reuse = audit_entries_for(&app, "auth.refresh_reuse_detected").await;
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    assert_eq!(reuse[0].actor_id, Some(id));
    assert_eq!(reuse[0].target_type.as_deref(), Some("session"));

    assert_problem(refresh(&app, "rmr_not-a-real-token").await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn two_concurrent_refreshes_with_one_token_cannot_both_succeed() {
    let app = smtp_app().await;
    let tokens = register_and_verify(&app, "emma@rigmarket.test").await;
    let (a, b) = tokio::join!(refresh(&app, &tokens.refresh_token), refresh(&app, &tokens.refresh_token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "one rotation wins, the other counts as reuse");
    let loser = if a.status().as_u16() == 401 { a } else { b };
    assert_problem(loser, 401, "refresh_token_reused").await;
}

#[tokio::test]
async fn a_session_ends_30_days_after_login_even_if_refreshed() {
    let app = smtp_app().await;
    let mut tokens = register_and_verify(&app, "elsa@rigmarket.test").await;
    for _ in 0..3 {
        app.clock.advance(Duration::days(9));
        let (status, body) = json_of(refresh(&app, &tokens.refresh_token).await).await;
        assert_eq!(status, 200, "{body}");
        tokens = TokenPair::from_json(&body);
    }
    app.clock.advance(Duration::days(3) + Duration::minutes(1));
    assert_problem(refresh(&app, &tokens.refresh_token).await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_kills_that_sessions_access_token_but_not_another_session() {
    let app = smtp_app().await;
    let laptop = register_and_verify(&app, "fay@rigmarket.test").await;
    let phone = login_ok(&app, "fay@rigmarket.test", PASSWORD).await;

    let out = app.post_json("/v1/auth/logout", None, &json!({"refresh_token": laptop.refresh_token})).await;
    assert_eq!(out.status().as_u16(), 204);
    assert_problem(get_bearer(&app, "/v1/me", &laptop.access_token).await, 401, "session_revoked").await;
    assert_eq!(refresh(&app, &laptop.refresh_token).await.status().as_u16(), 401);
    assert_eq!(me_status(&app, &phone.access_token).await, 200);
    assert_eq!(refresh(&app, &phone.refresh_token).await.status().as_u16(), 200);

    assert_eq!(audit_entries_for(&app, "auth.logout").await.len(), 1);
    let unknown = app.post_json("/v1/auth/logout", None, &json!({"refresh_token": "rmr_unknown"})).await;
    assert_problem(unknown, 401, "invalid_refresh_token").await;
}

// ---------------------------------------------------------------- passwords

#[tokio::test]
async fn a_password_reset_by_email_replaces_the_password_and_ends_every_session() {
    let app = smtp_app().await;
    let smtp = app.smtp.as_ref().unwrap();
    let one = register_and_verify(&app, "gina@rigmarket.test").await;
    let two = login_ok(&app, "gina@rigmarket.test", PASSWORD).await;

    assert_eq!(ask_reset(&app, "gina@rigmarket.test").await.status().as_u16(), 202);
    assert_eq!(ask_reset(&app, "nobody@rigmarket.test").await.status().as_u16(), 202, "no account enumeration");
    let token = reset_token(&app, "gina@rigmarket.test").await;
    assert!(smtp.received_for("nobody@rigmarket.test").is_empty());
    // Asking does not sign anyone out.
    assert_eq!(me_status(&app, &one.access_token).await, 200);

    let body = assert_problem(confirm_reset(&app, &token, "short").await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "new_password", "{body}");
    assert_eq!(confirm_reset(&app, &token, "a brand new passphrase").await.status().as_u16(), 204);
    assert_problem(confirm_reset(&app, &token, "yet another passphrase").await, 422, "invalid_token").await;
    assert_problem(confirm_reset(&app, "bogus", "yet another passphrase").await, 422, "invalid_token").await;

    assert_problem(login(&app, "gina@rigmarket.test", PASSWORD).await, 401, "invalid_credentials").await;
    let fresh = login_ok(&app, "gina@rigmarket.test", "a brand new passphrase").await;
    assert_eq!(me_status(&app, &fresh.access_token).await, 200);
    for old in [&one, &two] {
        assert_problem(get_bearer(&app, "/v1/me", &old.access_token).await, 401, "session_revoked").await;
        assert_eq!(refresh(&app, &old.refresh_token).await.status().as_u16(), 401);
    }

    let changed = mails_for(&app, "gina@rigmarket.test", "Your rigmarket password was changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(audit_entries_for(&app, "auth.password_reset_requested").await.len(), 1);
    assert_eq!(audit_entries_for(&app, "auth.password_reset").await.len(), 1);
}

#[tokio::test]
async fn a_password_reset_link_expires_after_an_hour() {
    let app = smtp_app().await;
    register_and_verify(&app, "hana@rigmarket.test").await;
    app.post_json("/v1/auth/password-reset", None, &json!({"email": "hana@rigmarket.test"})).await;
    let token = reset_token(&app, "hana@rigmarket.test").await;
    app.clock.advance(Duration::minutes(61));
    let late = app
        .post_json("/v1/auth/password-reset/confirm", None, &json!({"token": token, "new_password": "too late now!"}))
        .await;
    assert_problem(late, 422, "invalid_token").await;
    login_ok(&app, "hana@rigmarket.test", PASSWORD).await;
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_every_session_including_the_callers() {
    let app = smtp_app().await;
    let caller = register_and_verify(&app, "iris@rigmarket.test").await;
    let elsewhere = login_ok(&app, "iris@rigmarket.test", PASSWORD).await;

    let body = assert_problem(
        change_password(&app, &caller.access_token, "not my password", "a brand new passphrase").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "current_password", "{body}");
    let body =
        assert_problem(change_password(&app, &caller.access_token, PASSWORD, "short").await, 422, "validation_failed")
            .await;
    assert_eq!(body["errors"][0]["field"], "new_password", "{body}");
    assert_eq!(me_status(&app, &caller.access_token).await, 200, "failed attempts change nothing");
    login_ok(&app, "iris@rigmarket.test", PASSWORD).await;

    assert_eq!(
        change_password(&app, &caller.access_token, PASSWORD, "a brand new passphrase").await.status().as_u16(),
        204
    );
    for session in [&caller, &elsewhere] {
        assert_problem(get_bearer(&app, "/v1/me", &session.access_token).await, 401, "session_revoked").await;
    }
    assert_problem(login(&app, "iris@rigmarket.test", PASSWORD).await, 401, "invalid_credentials").await;
    login_ok(&app, "iris@rigmarket.test", "a brand new passphrase").await;
    assert_eq!(mails_for(&app, "iris@rigmarket.test", "Your rigmarket password was changed").await.len(), 1);
    assert_eq!(audit_entries_for(&app, "auth.password_changed").await.len(), 1);

    let anonymous = app
        .post_json("/v1/me/password", None, &json!({"current_password": PASSWORD, "new_password": "whatever else"}))
        .await;
    assert_problem(anonymous, 401, "authentication_required").await;
}

// ---------------------------------------------------------------- throttling

#[tokio::test]
async fn after_five_wrong_passwords_the_sixth_attempt_is_refused_even_with_the_right_password() {
    let app = smtp_app().await;
    register_and_verify(&app, "jade@rigmarket.test").await;
    for _ in 0..5 {
        let response = login(&app, "jade@rigmarket.test", "wrong password!").await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
    let refused = login(&app, "jade@rigmarket.test", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429, "the 6th attempt must wait");
    let wait = retry_after(&refused);
    assert!(wait >= 1, "{wait}");
    assert_problem(refused, 429, "rate_limited").await;
    assert!(!audit_entries_for(&app, "auth.login_throttled").await.is_empty());

    app.clock.advance(Duration::seconds(wait));
    login_ok(&app, "jade@rigmarket.test", PASSWORD).await;
}

/// Logs in with a wrong password until the answer is 429; returns how many 401s
/// came first, the Retry-After and the 429 body.
async fn fail_until_throttled(app: &TestApp, email: &str) -> (usize, i64, Value) {
    for failures in 0..10 {
        let response = login(app, email, "wrong password!").await;
        if response.status().as_u16() == 429 {
            let wait = retry_after(&response);
            return (failures, wait, assert_problem(response, 429, "rate_limited").await);
        }
        assert_problem(response, 401, "invalid_credentials").await;
    }
    panic!("{email}: ten wrong passwords in a row and still no 429");
}

#[tokio::test]
async fn login_back_off_doubles_and_lifts_once_the_wait_is_over() {
    let app = smtp_app().await;
    register_and_verify(&app, "kira@rigmarket.test").await;
    let (failures, first_wait, _) = fail_until_throttled(&app, "kira@rigmarket.test").await;
    assert!((5..=6).contains(&failures), "{failures} failures before the first 429");
    assert!(first_wait >= 1, "{first_wait}");

    // While blocked even the right password is refused.
    assert_eq!(login(&app, "kira@rigmarket.test", PASSWORD).await.status().as_u16(), 429);

    // The wait ends; one more failure doubles it.
    app.clock.advance(Duration::seconds(first_wait));
    assert_problem(login(&app, "kira@rigmarket.test", "wrong password!").await, 401, "invalid_credentials").await;
    let refused = login(&app, "kira@rigmarket.test", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(retry_after(&refused), first_wait * 2);

    app.clock.advance(Duration::seconds(first_wait * 2));
    login_ok(&app, "kira@rigmarket.test", PASSWORD).await;
}

#[tokio::test]
async fn unknown_emails_are_throttled_exactly_like_real_accounts() {
    let app = smtp_app().await;
    register_and_verify(&app, "lena@rigmarket.test").await;
    let known = fail_until_throttled(&app, "lena@rigmarket.test").await;
    let unknown = fail_until_throttled(&app, "ghost@rigmarket.test").await;
    assert_eq!(known, unknown, "throttling must not reveal which accounts exist");
}

#[tokio::test]
async fn twenty_failures_from_one_client_block_it_for_yet_another_email() {
    let app = spawn_app().await;
    for n in 0..20 {
        let response = login(&app, &format!("spray{n}@rigmarket.test"), "Winter2025!!").await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
    let refused = login(&app, "spray-next@rigmarket.test", "Winter2025!!").await;
    assert_eq!(refused.status().as_u16(), 429, "the 21st attempt from this IP must wait");
    let wait = retry_after(&refused);
    assert!(wait >= 1);
    assert_problem(refused, 429, "rate_limited").await;
    app.clock.advance(Duration::seconds(wait));
    let allowed = login(&app, "spray-next@rigmarket.test", "Winter2025!!").await;
    assert_problem(allowed, 401, "invalid_credentials").await;
}

// ---------------------------------------------------------------- JWT attacks

fn sign(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
    encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn forged_access_tokens_are_rejected() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("olga@rigmarket.test", &[]).await;
    let secret = app.state.config.jwt_secret.expose_secret().as_bytes().to_vec();
    let claims = jwt_claims(&token);

    // Control: the same claims signed properly are accepted, so every refusal
    // below is down to the one thing each forgery changes.
    let resigned = sign(&claims, Algorithm::HS256, &secret);
    assert_eq!(me_status(&app, &resigned).await, 200);

    let alg_none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(serde_json::to_string(&claims).unwrap().as_bytes())
    );
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("https://evil.example");
    let mut escalated = claims.clone();
    escalated["roles"] = json!(["admin"]);
    let [head, _, signature] = <[&str; 3]>::try_from(token.split('.').collect::<Vec<_>>()).unwrap();
    let tampered = format!("{head}.{}.{signature}", b64(serde_json::to_string(&escalated).unwrap().as_bytes()));
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");

    let forgeries = [
        ("alg none", alg_none),
        ("another secret", sign(&claims, Algorithm::HS256, b"not-the-server-secret-at-all-0123456789")),
        ("HS512 with the real secret", sign(&claims, Algorithm::HS512, &secret)),
        ("HS384 with the real secret", sign(&claims, Algorithm::HS384, &secret)),
        ("wrong iss", sign(&wrong_issuer, Algorithm::HS256, &secret)),
        ("no exp", sign(&no_exp, Algorithm::HS256, &secret)),
        ("payload swapped under the old signature", tampered.clone()),
        ("garbage", "garbage".to_string()),
        ("three garbage parts", "a.b.c".to_string()),
    ];
    for (what, forged) in forgeries {
        let response = get_bearer(&app, "/v1/me", &forged).await;
        assert_eq!(response.status().as_u16(), 401, "{what}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}");
        let body = assert_problem(response, 401, "invalid_token").await;
        assert!(!body.to_string().contains(&forged), "{what}: the token is echoed: {body}");
    }
    let admin_route = get_bearer(&app, "/v1/admin/users", &tampered).await;
    assert_problem(admin_route, 401, "invalid_token").await;
}

#[tokio::test]
async fn an_access_token_expires_after_15_minutes_and_refresh_gets_a_new_one() {
    let app = smtp_app().await;
    let tokens = register_and_verify(&app, "pia@rigmarket.test").await;
    app.clock.advance(Duration::minutes(14) + Duration::seconds(59));
    assert_eq!(me_status(&app, &tokens.access_token).await, 200);
    app.clock.advance(Duration::minutes(1) + Duration::seconds(1));
    assert_problem(get_bearer(&app, "/v1/me", &tokens.access_token).await, 401, "token_expired").await;
    let (status, body) = json_of(refresh(&app, &tokens.refresh_token).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me_status(&app, body["access_token"].as_str().unwrap()).await, 200);
}

// ---------------------------------------------------------------- profiles

#[tokio::test]
async fn patch_me_updates_the_profile_and_null_clears_a_field() {
    let app = spawn_app().await;
    let (id, token) = app.create_user("quinn@rigmarket.test", &[]).await;

    let (status, me) = json_of(
        patch_me(
            &app,
            &token,
            json!({"display_name": "  Altai Hosting ", "country": "kz", "company": "Altai LLP",
                     "payout_details": "bc1qexample"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], id.to_string());
    assert_eq!(me["display_name"], "Altai Hosting");
    assert_eq!(me["country"], "KZ");
    assert_eq!(me["company"], "Altai LLP");
    assert_eq!(me["payout_details"], "bc1qexample");

    let (status, me) = json_of(patch_me(&app, &token, json!({"company": null})).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["company"], Value::Null);
    assert_eq!((&me["country"], &me["display_name"]), (&json!("KZ"), &json!("Altai Hosting")), "absent = unchanged");

    let body = assert_problem(
        patch_me(&app, &token, json!({"country": "XX", "company": "Never"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "country", "{body}");
    let body =
        assert_problem(patch_me(&app, &token, json!({"display_name": ""})).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "display_name", "{body}");
    assert_problem(patch_me(&app, &token, json!({"email": "takeover@evil.example"})).await, 422, "invalid_body").await;
    assert_problem(patch_me(&app, &token, json!({"country": 7})).await, 422, "invalid_body").await;

    let (_, me) = json_of(get_bearer(&app, "/v1/me", &token).await).await;
    assert_eq!(
        (&me["company"], &me["country"], &me["email"]),
        (&Value::Null, &json!("KZ"), &json!("quinn@rigmarket.test"))
    );
    assert_problem(app.patch_json("/v1/me", None, &json!({"company": "x"})).await, 401, "authentication_required")
        .await;
}

#[tokio::test]
async fn a_public_profile_shows_name_country_and_member_since_but_not_the_email() {
    let app = spawn_app().await;
    let (status, registered) = json_of(register(&app, "rosa@rigmarket.test", PASSWORD, "Rosa Mining").await).await;
    assert_eq!(status, 201);
    let id = registered["id"].as_str().unwrap();
    let tokens = login_ok(&app, "rosa@rigmarket.test", PASSWORD).await;
    let response = app
        .patch_json("/v1/me", Some(&tokens.access_token), &json!({"country": "kz", "payout_details": "IBAN KZ00"}))
        .await;
    assert_eq!(response.status().as_u16(), 200);

    let (status, profile) = app.get_json(&format!("/v1/users/{id}")).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(keys(&profile), set(&["id", "display_name", "country", "member_since"]), "{profile}");
    assert_eq!(profile["display_name"], "Rosa Mining");
    assert_eq!(profile["country"], "KZ");
    let since: chrono::DateTime<chrono::Utc> = profile["member_since"].as_str().unwrap().parse().unwrap();
    assert_eq!(since, default_now());
    let text = profile.to_string();
    assert!(!text.contains("rosa@rigmarket.test") && !text.contains("IBAN"), "{text}");

    let missing = app.get(&format!("/v1/users/{}", uuid::Uuid::now_v7())).await;
    assert_problem(missing, 404, "user_not_found").await;
    let bad = app.get("/v1/users/not-a-uuid").await;
    assert_eq!(bad.status().as_u16(), 400);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
}
