//! The caller's profile and public profiles.

use super::*;

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
    assert_eq!(keys(&profile), set(&["id", "display_name", "country", "member_since", "reputation"]), "{profile}");
    assert_eq!(profile["reputation"], json!({"average_rating": null, "review_count": 0, "completed_sales": 0}));
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
