//! Registration and email verification over real SMTP.

use super::*;

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

    // Every bad field at once, not the first one found.
    let body = assert_problem(register(&app, "not-an-email", "short", " ").await, 422, "validation_failed").await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "password"], "{body}");

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
