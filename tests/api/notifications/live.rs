//! `GET /v1/me/events`: the caller's notifications as Server-Sent Events, from
//! any instance (LISTEN/NOTIFY between them), resumable with `Last-Event-ID`,
//! with tickets for EventSource and problem answers before the stream starts.

use std::time::Duration;

use serde_json::{json, Value};

use super::inbox_of;
use crate::orders::{confirm_delivery, confirm_wire, json_with_status, place_ok, ship, Market};
use crate::support::accounts::{get_bearer, SecondInstance};
use crate::support::{assert_problem, TestApp};

/// One event as the stream sent it.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: i64,
    pub event: String,
    pub data: Value,
}

/// A reader of one stream: raw chunks in, events out.
pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
    /// Everything read, for assertions on the framing.
    pub raw: String,
}

impl SseClient {
    pub async fn open(base: &str, token: Option<&str>, query: &str, last_event_id: Option<i64>) -> reqwest::Response {
        let client = reqwest::Client::new();
        let mut request = client.get(format!("{base}/v1/me/events{query}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        request.send().await.expect("request sent")
    }

    pub async fn connect(base: &str, token: &str, last_event_id: Option<i64>) -> Self {
        let response = Self::open(base, Some(token), "", last_event_id).await;
        Self::from_response(response)
    }

    pub fn from_response(response: reqwest::Response) -> Self {
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { response, buffer: String::new(), raw: String::new() }
    }

    /// The next event (skipping `retry:` and comments), or `None` if none comes in `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field =
                    |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_string()));
                if let (Some(id), Some(event), Some(data)) = (field("id:"), field("event:"), field("data:")) {
                    return Some(SseEvent {
                        id: id.parse().unwrap(),
                        event,
                        data: serde_json::from_str(&data).unwrap(),
                    });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.ok()??;
            let text = String::from_utf8(chunk.to_vec()).unwrap();
            self.raw.push_str(&text);
            self.buffer.push_str(&text);
        }
    }

    /// The next `n` events; panics if they do not come within 10 s each.
    pub async fn take(&mut self, n: usize) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for _ in 0..n {
            let event = self.next_event(Duration::from_secs(10)).await;
            events.push(event.unwrap_or_else(|| panic!("only {} of {n} events came: {events:?}", events.len())));
        }
        events
    }
}

fn kinds(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

#[tokio::test]
async fn a_stream_on_instance_b_hears_instance_a_and_resumes_with_exactly_what_it_missed() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let b = SecondInstance::start(app, app.clock.now()).await;
    let token = market.buyer.token.as_str();

    let mut stream = SseClient::connect(&b.address, token, None).await;
    let order = place_ok(&market, 1).await;
    confirm_wire(&market, &order).await;
    let heard = stream.take(2).await;
    assert_eq!(kinds(&heard), ["order.placed", "order.paid"]);
    assert!(stream.raw.starts_with("retry: 3000\n\n"), "{}", stream.raw);
    assert!(heard[0].id < heard[1].id);
    // `data:` is the inbox entry.
    let inbox = inbox_of(app, token, "").await;
    assert_eq!(heard[1].data, inbox["items"][0]);
    assert_eq!(heard[1].data["subject_id"], order["id"]);
    let last = heard[1].id;

    // The client goes away; two transitions happen on A meanwhile.
    drop(stream);
    ship(&market, &order).await;
    confirm_delivery(&market, &order).await;

    let mut resumed = SseClient::connect(&b.address, token, Some(last)).await;
    let missed = resumed.take(2).await;
    assert_eq!(kinds(&missed), ["order.shipped", "order.delivered"]);
    assert!(last < missed[0].id && missed[0].id < missed[1].id);
    assert!(resumed.next_event(Duration::from_millis(300)).await.is_none(), "nothing else was missed");
    // Then live again, from A.
    let second = place_ok(&market, 1).await;
    let live = resumed.take(1).await;
    assert_eq!(kinds(&live), ["order.placed"]);
    assert_eq!(live[0].data["subject_id"], second["id"]);

    // The same, by query parameter, on A itself.
    let response = SseClient::open(&app.address, Some(token), &format!("?last_event_id={last}"), None).await;
    let mut again = SseClient::from_response(response);
    assert_eq!(kinds(&again.take(3).await), ["order.shipped", "order.delivered", "order.placed"]);
    b.shutdown().await;
}

#[tokio::test]
async fn bad_resume_ids_tickets_and_credentials_are_problems_before_the_stream_starts() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let token = market.buyer.token.as_str();
    let order = place_ok(&market, 1).await;
    let own = inbox_of(app, token, "").await["items"][0]["id"].as_i64().unwrap();
    let sellers = inbox_of(app, &market.seller.token, "").await["items"][0]["id"].as_i64().unwrap();
    assert!(order["id"].is_string());

    for garbage in ["abc", "-1", "1.5", "99999999999999999999"] {
        let response = SseClient::open(&app.address, Some(token), &format!("?last_event_id={garbage}"), None).await;
        assert_problem(response, 400, "invalid_last_event_id").await;
    }
    let response =
        app.client.get(app.url("/v1/me/events")).bearer_auth(token).header("Last-Event-ID", "x").send().await.unwrap();
    assert_problem(response, 400, "invalid_last_event_id").await;
    for stale in [own + 1000, sellers] {
        let response = SseClient::open(&app.address, Some(token), "", Some(stale)).await;
        assert_problem(response, 400, "unknown_last_event_id").await;
    }
    assert_problem(SseClient::open(&app.address, None, "", None).await, 401, "authentication_required").await;
    assert_problem(SseClient::open(&app.address, Some("nope"), "", None).await, 401, "invalid_token").await;

    // A ticket opens one stream, once.
    let created =
        json_with_status(app.post_json("/v1/me/event-stream-tickets", Some(token), &json!({})).await, 201).await;
    let ticket = created["ticket"].as_str().unwrap().to_string();
    assert!(ticket.starts_with("rmt_") && created["expires_at"].is_string(), "{created}");
    let query = format!("?ticket={ticket}&last_event_id={own}");
    let mut stream = SseClient::from_response(SseClient::open(&app.address, None, &query, None).await);
    confirm_wire(&market, &order).await;
    assert_eq!(kinds(&stream.take(1).await), ["order.paid"]);
    assert_problem(SseClient::open(&app.address, None, &query, None).await, 401, "invalid_stream_ticket").await;
    for bad in ["rmt_unknown", "garbage"] {
        let response = SseClient::open(&app.address, None, &format!("?ticket={bad}"), None).await;
        assert_problem(response, 401, "invalid_stream_ticket").await;
    }
    // An expired one.
    let created =
        json_with_status(app.post_json("/v1/me/event-stream-tickets", Some(token), &json!({})).await, 201).await;
    app.clock.advance(chrono::Duration::seconds(61));
    let response =
        SseClient::open(&app.address, None, &format!("?ticket={}", created["ticket"].as_str().unwrap()), None).await;
    assert_problem(response, 401, "invalid_stream_ticket").await;
    assert_eq!(get_bearer(app, "/v1/me/notifications", token).await.status().as_u16(), 200);
}

/// An app and one of its users, for the streams tested below the HTTP layer.
async fn app_with_user(email: &str) -> (TestApp, rigmarket::db::ids::UserId) {
    let app = TestApp::builder().spawn().await;
    let (id, _) = app.create_user(email, &[]).await;
    (app, rigmarket::db::ids::UserId(id))
}

/// Records `n` `order.paid` events for `user`, each in its own transaction.
async fn record_order_paid(app: &TestApp, user: rigmarket::db::ids::UserId, n: usize) {
    let conn = app.conn().await;
    for _ in 0..n {
        let subject = uuid::Uuid::now_v7();
        let kind = rigmarket::events::EventKind::OrderPaid;
        rigmarket::events::record(&conn, kind, subject, &[user], json!({}), app.clock.now()).await.unwrap();
    }
}

#[tokio::test]
async fn a_reader_that_falls_behind_is_dropped_after_a_bounded_buffer() {
    use futures_util::StreamExt;
    use rigmarket::notifications::stream::{self, StreamStart, OUT_FRAMES, SLOW_READER};

    let (app, user) = app_with_user("slow-reader@rigmarket.test").await;
    let live = app.instance.live.clone();
    let body =
        stream::body(app.state.pool.clone(), live.subscribe(user), StreamStart { user, after: 0 }, live.stopping());
    let mut body = Box::pin(body);
    // Far more events than a stream holds for a reader that does not read.
    record_order_paid(&app, user, 100).await;
    tokio::time::sleep(SLOW_READER + Duration::from_secs(2)).await;
    assert_eq!(live.stream_count(), 0, "the stream left the fan-out");
    let mut frames = 0;
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(5), body.next()).await.expect("the stream ended") {
        frame.unwrap();
        frames += 1;
    }
    assert_eq!(frames, OUT_FRAMES, "the retry line and the events that fit the buffer, then the end");
}

#[tokio::test]
async fn a_socket_reader_that_falls_behind_is_dropped_with_one_frame_held() {
    use rigmarket::notifications::stream::{self, StreamStart, WriterSink, SLOW_READER};

    let (app, user) = app_with_user("slow-socket@rigmarket.test").await;
    let live = app.instance.live.clone();
    // The direct path's sink over a pipe of 4 KB whose reader never reads: the
    // kernel's buffer, in small.
    let (writer, _reader) = tokio::io::duplex(4096);
    let start = StreamStart { user, after: 0 };
    let pump = tokio::spawn(stream::pump(
        app.state.pool.clone(),
        live.subscribe(user),
        start,
        WriterSink(writer),
        std::future::pending(),
        live.stopping(),
    ));
    record_order_paid(&app, user, 100).await;
    tokio::time::timeout(SLOW_READER + Duration::from_secs(5), pump).await.expect("the stream ended").unwrap();
    assert_eq!(live.stream_count(), 0, "the stream left the fan-out");
}
