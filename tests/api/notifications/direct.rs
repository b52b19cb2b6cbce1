//! `GET /v1/me/events` on a connection that opens with it is served straight
//! off the socket (`notifications::direct`): a response delimited by closing
//! the connection, with the same answers, headers, metrics and problems as
//! the actix-web handler, which still serves every other stream.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::live::SseClient;
use crate::orders::{confirm_wire, place_ok, Market};
use crate::support::TestApp;

/// A raw HTTP/1.1 connection: what was sent, what came back so far.
struct Raw {
    io: TcpStream,
    received: String,
}

impl Raw {
    async fn send(app: &TestApp, head: &str) -> Self {
        let mut io = TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
        io.write_all(head.as_bytes()).await.unwrap();
        Self { io, received: String::new() }
    }

    /// Reads until `text` has arrived (panics after 10 s).
    async fn until(&mut self, text: &str) -> &str {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut chunk = [0u8; 4096];
        while !self.received.contains(text) {
            let read = tokio::time::timeout_at(deadline, self.io.read(&mut chunk))
                .await
                .unwrap_or_else(|_| panic!("no {text:?} in {:?}", self.received))
                .unwrap();
            assert!(read > 0, "closed before {text:?}: {:?}", self.received);
            self.received.push_str(std::str::from_utf8(&chunk[..read]).unwrap());
        }
        &self.received
    }

    /// Everything until the server closes the connection.
    async fn until_closed(mut self) -> String {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), self.io.read_to_end(&mut rest)).await.unwrap().unwrap();
        self.received + std::str::from_utf8(&rest).unwrap()
    }
}

fn stream_request(token: Option<&str>, extra: &str) -> String {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET /v1/me/events HTTP/1.1\r\nHost: rigmarket.test\r\n{auth}{extra}Accept: text/event-stream\r\n\r\n")
}

/// The head and the JSON body of a whole (problem) response.
fn split_response(raw: &str) -> (String, Value) {
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
    (head.to_ascii_lowercase(), serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body: {raw}")))
}

#[tokio::test]
async fn a_connection_that_opens_with_a_stream_is_served_directly_with_the_handlers_answers() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let token = market.buyer.token.as_str();

    let mut stream = Raw::send(app, &stream_request(Some(token), "")).await;
    let opened = stream.until("retry: 3000\n\n").await.to_string();
    let head = opened.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    for line in ["content-type: text/event-stream", "cache-control: no-cache", "connection: close", "x-request-id: "] {
        assert!(head.contains(line), "{line:?} in {head}");
    }
    // Delimited by the connection's end, not chunked as actix-web would send it.
    assert!(!head.contains("transfer-encoding") && !head.contains("content-length"), "{head}");
    let order = place_ok(&market, 1).await;
    confirm_wire(&market, &order).await;
    let events = stream.until("event: order.paid\n").await;
    assert!(events.contains("event: order.placed\n"), "{events}");
    assert!(events.contains(order["id"].as_str().unwrap()), "{events}");

    // Refusals are problems, closed after their body.
    let cases = [
        (stream_request(None, ""), 401, "authentication_required"),
        (stream_request(Some("nope"), ""), 401, "invalid_token"),
        (stream_request(Some(token), "Last-Event-ID: x\r\n"), 400, "invalid_last_event_id"),
        (stream_request(Some(token), "Last-Event-ID: 99999999\r\n"), 400, "unknown_last_event_id"),
        (stream_request(None, "X-Api-Key: rmk_whatever\r\n"), 401, "api_key_not_accepted"),
    ];
    for (request, status, code) in cases {
        let (head, body) = split_response(&Raw::send(app, &request).await.until_closed().await);
        assert!(head.starts_with(&format!("http/1.1 {status} ")), "{head}");
        assert!(head.contains("content-type: application/problem+json"), "{head}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        if status == 401 {
            assert!(head.contains("www-authenticate: bearer"), "{head}");
        }
    }
    let (_, duplicate) = split_response(
        &Raw::send(app, &stream_request(Some(token), "").replace("/v1/me/events", "/v1/me/events?ticket=a&ticket=b"))
            .await
            .until_closed()
            .await,
    );
    assert_eq!(duplicate["code"], "invalid_query", "{duplicate}");

    // Counted and labelled as the route, like every request.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"rigmarket_http_requests_total{method="GET",route="/v1/me/events",status="200"} 1"#,
        r#"rigmarket_http_requests_total{method="GET",route="/v1/me/events",status="401"} 3"#,
        r#"rigmarket_http_requests_total{method="GET",route="/v1/me/events",status="400"} 3"#,
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    drop(stream);
    for _ in 0..100 {
        if app.instance.live.stream_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.instance.live.stream_count(), 0, "a closed connection leaves the fan-out");
}

#[tokio::test]
async fn streams_the_direct_path_leaves_to_actix_web_are_served_there() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let token = market.buyer.token.as_str();

    // A browser's cross-origin EventSource: CORS is actix-web's.
    let response = reqwest::Client::new()
        .get(app.url("/v1/me/events"))
        .bearer_auth(token)
        .header("origin", "https://app.rigmarket.test")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.rigmarket.test");
    assert_eq!(response.headers()["transfer-encoding"], "chunked", "served by actix-web");
    let mut cross_origin = SseClient::from_response(response);

    // A stream on a connection that served a request first.
    let client = reqwest::Client::new();
    let inbox = client.get(app.url("/v1/me/notifications")).bearer_auth(token).send().await.unwrap();
    assert_eq!(inbox.status(), 200);
    inbox.bytes().await.unwrap();
    let response = client.get(app.url("/v1/me/events")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.headers()["transfer-encoding"], "chunked", "the connection was actix-web's already");
    let mut reused = SseClient::from_response(response);

    let order = place_ok(&market, 1).await;
    for stream in [&mut cross_origin, &mut reused] {
        let heard = stream.take(1).await;
        assert_eq!((heard[0].event.as_str(), &heard[0].data["subject_id"]), ("order.placed", &order["id"]));
    }
}

#[tokio::test]
async fn a_connection_that_sends_no_stream_request_is_untouched() {
    let app = TestApp::builder().spawn().await;
    // Slow first bytes, then a plain request: actix-web answers it.
    let mut io = TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    io.write_all(b"GET /v1/me/ev").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    io.write_all(b"ents/nothing HTTP/1.1\r\nHost: rigmarket.test\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    io.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("transfer-encoding: chunked") || answer.contains("content-length"), "{answer}");
}
