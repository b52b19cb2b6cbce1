//! The committed OpenAPI document is the one the code generates, and the served
//! document and docs page work without internet access.

#[tokio::test]
async fn committed_spec_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    let generated = rigmarket::app::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn the_service_serves_its_spec_and_an_offline_docs_page() {
    let app = crate::support::spawn_app().await;
    let (status, served) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let generated: serde_json::Value = serde_json::from_str(&rigmarket::app::openapi::spec_json()).unwrap();
    assert_eq!(served, generated);
    assert!(served["paths"]["/v1/rig-models"]["get"].is_object());

    let bare = app.get("/docs").await;
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/docs/");
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(external), "the docs page loads {external}... from the internet");
    }
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), 200, "Swagger UI assets are served by the service itself");
}
