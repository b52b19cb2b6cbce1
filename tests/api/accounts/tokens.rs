//! Forged and expired access tokens.

use super::*;

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
