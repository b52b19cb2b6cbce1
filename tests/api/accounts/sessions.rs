//! Login, rotating refresh sessions and logout.

use super::*;

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
    assert!(
        succeeded.iter().any(|e| e.actor_id == Some(id.into()) && e.ip.as_deref() == Some("127.0.0.1")),
        "{succeeded:?}"
    );
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
    assert_eq!(reuse[0].actor_id, Some(id.into()));
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
