//! Framework-level bad input: every rejection is problem+json with a stable code.

use serde_json::json;

use crate::support::{assert_problem, spawn_app};

#[tokio::test]
async fn malformed_json_wrong_types_unknown_fields_and_wrong_media_type() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let url = app.url("/v1/admin/rig-models");
    let send = |body: &'static str, content_type: &'static str| {
        app.client.post(&url).bearer_auth(&admin).header("content-type", content_type).body(body).send()
    };
    assert_problem(send("{\"name\": ", "application/json").await.unwrap(), 400, "malformed_json").await;
    let wrong_type = r#"{"manufacturer":"A","name":"B","hashrate_hs":"fast","power_w":1}"#;
    assert_problem(send(wrong_type, "application/json").await.unwrap(), 422, "invalid_body").await;
    let unknown = r#"{"manufacturer":"A","name":"B","hashrate_hs":1,"power_w":1,"colour":"red"}"#;
    let body = assert_problem(send(unknown, "application/json").await.unwrap(), 422, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("colour"), "{body}");
    let overflow = r#"{"manufacturer":"A","name":"B","hashrate_hs":99999999999999999999,"power_w":1}"#;
    assert_problem(send(overflow, "application/json").await.unwrap(), 422, "invalid_body").await;
    assert_problem(send(wrong_type, "text/plain").await.unwrap(), 415, "unsupported_media_type").await;
}

/// serde_json calls an enum given a number, an array or `null` a syntax error;
/// the body is still well-formed JSON, so it is a type error like any other.
#[tokio::test]
async fn an_enum_of_the_wrong_json_type_is_invalid_body_like_every_type_error() {
    let app = spawn_app().await;
    let (_, buyer) = app.create_user("enum-types@rigmarket.test", &[]).await;
    for method in [json!(7), json!(null), json!(["wire"]), json!("cash")] {
        let body = json!({
            "listing_id": "7d3c8a52-9d54-4a39-8a0e-6f7f3b0c1a11",
            "quantity": 1,
            "payment_method": method,
            "shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "KZ", "phone": "1"}
        });
        let response = app
            .client
            .post(app.url("/v1/orders"))
            .bearer_auth(&buyer)
            .header("Idempotency-Key", format!("enum-{method}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 422, "invalid_body").await;
    }
}

#[tokio::test]
async fn oversize_bodies_are_refused_before_parsing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let huge = json!({"manufacturer": "A", "name": "x".repeat(200_000), "hashrate_hs": 1, "power_w": 1});
    let response = app.post_json("/v1/admin/rig-models", Some(&admin), &huge).await;
    assert_problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn cors_allows_configured_origins_only_and_bodies_are_gzipped() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/rig-models"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let allowed = preflight("https://app.rigmarket.test").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.rigmarket.test");
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(denied.headers().get("access-control-allow-origin").is_none());
    let body = assert_problem(denied, 400, "cors_refused").await;
    assert!(body["detail"].as_str().unwrap().contains("Origin"), "{body}");
    let refused_header = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/rig-models"))
        .header("origin", "https://app.rigmarket.test")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-not-allowed")
        .send()
        .await
        .unwrap();
    assert_problem(refused_header, 400, "cors_refused").await;

    let gzipped =
        app.client.get(app.url("/v1/rig-models?limit=100")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn internal_details_never_reach_the_client() {
    let app = spawn_app().await;
    // Expired token: the answer says so without echoing the token or the cause.
    let (_, stale) = app.create_user("old@rigmarket.test", &["admin"]).await;
    app.clock.advance(chrono::Duration::minutes(16));
    let body =
        assert_problem(app.post_json("/v1/admin/rig-models", Some(&stale), &json!({})).await, 401, "token_expired")
            .await;
    assert!(!body.to_string().contains(&stale));
}

/// A known path with the wrong method is 405 with `Allow` (RFC 9110 §15.5.6),
/// not a 404 that suggests the path does not exist.
#[tokio::test]
async fn a_wrong_method_is_405_with_allow_and_an_unknown_path_404() {
    let app = spawn_app().await;
    let wrong = |method: reqwest::Method, path: &str| app.client.request(method, app.url(path)).send();

    let response = wrong(reqwest::Method::DELETE, "/v1/rig-models").await.unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    let body = assert_problem(response, 405, "method_not_allowed").await;
    assert!(body["detail"].as_str().unwrap().contains("GET"), "{body}");

    let listing = "/v1/listings/7d3c8a52-9d54-4a39-8a0e-6f7f3b0c1a11";
    let response = wrong(reqwest::Method::PUT, listing).await.unwrap();
    assert_eq!(response.headers()["allow"], "GET, PATCH");
    assert_problem(response, 405, "method_not_allowed").await;

    let response = wrong(reqwest::Method::POST, "/openapi.json").await.unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    assert_problem(response, 405, "method_not_allowed").await;

    assert_problem(wrong(reqwest::Method::DELETE, "/v1/nothing-here").await.unwrap(), 404, "route_not_found").await;
}

/// Sends raw bytes (what no HTTP client library will send) and reads
/// everything until the server closes the connection, as it does after a refusal.
async fn raw_answer(app: &crate::support::TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    socket.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    String::from_utf8(answer).unwrap()
}

/// The one refusal `request` gets: its head (lower case) and problem body.
async fn raw_exchange(app: &crate::support::TestApp, request: &[u8]) -> (String, serde_json::Value) {
    let answer = raw_answer(app, request).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {answer:?}"));
    let problem = serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {answer:?}"));
    (head.to_ascii_lowercase(), problem)
}

/// The HTTP parser refuses these before any handler runs; the refusal is
/// still problem+json with a code, not an empty 400.
#[tokio::test]
async fn requests_the_http_parser_refuses_answer_problem_json() {
    let app = spawn_app().await;
    let nul_in_header = b"GET /v1/rig-models HTTP/1.1\r\nHost: x\r\nX-Note: a\0b\r\n\r\n";
    let (head, problem) = raw_exchange(&app, nul_in_header).await;
    assert!(head.starts_with("http/1.1 400 bad request"), "{head}");
    assert!(head.contains("content-type: application/problem+json"), "{head}");
    assert_eq!(problem["code"], "malformed_request");
    assert_eq!(problem["status"], 400);

    let bad_header_name = b"GET /v1/rig-models HTTP/1.1\r\nHost: x\r\nX Note: a\r\n\r\n";
    let (head, problem) = raw_exchange(&app, bad_header_name).await;
    assert!(head.starts_with("http/1.1 400 bad request"), "{head}");
    assert_eq!(problem["code"], "malformed_request");

    // More headers than the parser takes (a small head, read whole: a head
    // over the byte limit would be closed with unread bytes, i.e. a reset).
    let headers: String = (0..120).map(|n| format!("X-H{n}: v\r\n")).collect();
    let too_many = format!("GET /v1/rig-models HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    let (head, problem) = raw_exchange(&app, too_many.as_bytes()).await;
    assert!(head.starts_with("http/1.1 431 "), "{head}");
    assert_eq!(problem["code"], "headers_too_large");

    // A keep-alive connection's earlier answer is untouched, the refusal after it is rewritten.
    let pipelined = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nX: \x01\r\n\r\n";
    let answer = raw_answer(&app, pipelined).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json"), "{answer}");
    assert!(answer.ends_with("}"), "{answer}");
}
