//! Password reset by email and password change.

use super::*;

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
