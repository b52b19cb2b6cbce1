//! Where email links lead: the client web app when `RIGMARKET_WEB_URL` is set,
//! otherwise the service's own minimal pages, which post the token to the API.

use super::*;

/// The first link in the mail's text whose path ends with `page`.
fn link_in(mail: &crate::support::smtp::ReceivedMail, page: &str) -> url::Url {
    let text = text_of(mail);
    text.split_whitespace()
        .filter_map(|word| url::Url::parse(word).ok())
        .find(|url| url.path().ends_with(page))
        .unwrap_or_else(|| panic!("no {page} link in:\n{text}"))
}

fn token_of(link: &url::Url) -> String {
    link.query_pairs().find(|(name, _)| name == "token").map(|(_, t)| t.into_owned()).expect("a token")
}

/// The OpenAPI document has a POST operation at `path`.
fn api_has_post(path: &str) -> bool {
    rigmarket::app::openapi::spec()["paths"][path]["post"].is_object()
}

async fn page_of(app: &TestApp, link: &url::Url) -> (reqwest::header::HeaderMap, String) {
    let response = app.client.get(link.as_str()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {link}");
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").unwrap().to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let csp = headers.get("content-security-policy").expect("a CSP").to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("<script>"), "{html}");
    for external in ["src=", "href=\"http", "//cdn"] {
        assert!(!html.contains(external), "nothing loaded from elsewhere ({external}): {html}");
    }
    (headers, html)
}

#[tokio::test]
async fn links_go_to_the_web_app_when_it_is_configured() {
    let app = TestApp::builder().with_smtp().web_url("https://app.rigmarket.test/market/").spawn().await;
    assert_eq!(register(&app, "webapp@rigmarket.test", PASSWORD, "Web App").await.status().as_u16(), 201);
    let mails = mails_for(&app, "webapp@rigmarket.test", "Confirm your email").await;
    let link = link_in(&mails[0], "/verify-email");
    assert_eq!(link.as_str().split('?').next(), Some("https://app.rigmarket.test/market/verify-email"));
    assert_eq!(verify_email(&app, &token_of(&link)).await.status().as_u16(), 204);

    assert_eq!(ask_reset(&app, "webapp@rigmarket.test").await.status().as_u16(), 202);
    let mails = mails_for(&app, "webapp@rigmarket.test", "Reset your rigmarket password").await;
    let link = link_in(&mails[0], "/reset-password");
    assert_eq!(link.as_str().split('?').next(), Some("https://app.rigmarket.test/market/reset-password"));
}

#[tokio::test]
async fn without_a_web_app_the_verification_link_opens_a_page_of_the_service_that_posts_to_the_api() {
    let app = smtp_app().await;
    assert_eq!(register(&app, "page@rigmarket.test", PASSWORD, "Page").await.status().as_u16(), 201);
    let mails = mails_for(&app, "page@rigmarket.test", "Confirm your email").await;
    let link = link_in(&mails[0], "/verify-email");
    assert_eq!(link.as_str().split('?').next(), Some(app.url("/verify-email").as_str()), "the service's own page");

    let (headers, html) = page_of(&app, &link).await;
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(html.contains("\"v1/auth/verify-email\""), "the page posts to the API: {html}");
    assert!(api_has_post("/v1/auth/verify-email"), "and that is the real route");
    assert!(html.contains("new URLSearchParams(location.search).get(\"token\")"), "{html}");

    // What the page's script does: post the link's token.
    let verified = app.post_json("/v1/auth/verify-email", None, &json!({ "token": token_of(&link) })).await;
    assert_eq!(verified.status().as_u16(), 204);
    let tokens = login_ok(&app, "page@rigmarket.test", PASSWORD).await;
    let (_, me) = json_of(get_bearer(&app, "/v1/me", &tokens.access_token).await).await;
    assert_eq!(me["email_verified"], true, "{me}");
}

#[tokio::test]
async fn without_a_web_app_the_reset_link_opens_a_page_that_asks_for_the_new_password() {
    let app = smtp_app().await;
    register_and_verify(&app, "reset-page@rigmarket.test").await;
    assert_eq!(ask_reset(&app, "reset-page@rigmarket.test").await.status().as_u16(), 202);
    let mails = mails_for(&app, "reset-page@rigmarket.test", "Reset your rigmarket password").await;
    let link = link_in(&mails[0], "/reset-password");
    assert_eq!(link.as_str().split('?').next(), Some(app.url("/reset-password").as_str()));

    let (_, html) = page_of(&app, &link).await;
    assert!(html.contains("type=\"password\""), "{html}");
    assert!(html.contains("\"v1/auth/password-reset/confirm\""), "{html}");
    assert!(api_has_post("/v1/auth/password-reset/confirm"));
    assert!(html.contains("new_password: password"), "{html}");

    let new_password = "a brand new passphrase";
    assert_eq!(confirm_reset(&app, &token_of(&link), new_password).await.status().as_u16(), 204);
    login_ok(&app, "reset-page@rigmarket.test", new_password).await;
}

#[tokio::test]
async fn the_pages_are_not_api_operations_and_answer_other_methods_with_405() {
    let spec = rigmarket::app::openapi::spec();
    for page in ["/verify-email", "/reset-password"] {
        assert!(spec["paths"].get(page).is_none(), "{page} is not in the OpenAPI document");
    }
    let app = spawn_app().await;
    let response = app.client.post(app.url("/verify-email")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers().get("allow").unwrap(), "GET");
}
