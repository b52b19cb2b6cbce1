//! `GET /v1/me/events` served straight off the socket (`http::direct`), for
//! connections whose first request it is: what an app or a server-side client
//! does, and what a browser does for a same-origin EventSource.
//!
//! A stream on actix-web costs its connection's dispatcher (two 8 KB buffers,
//! timers, the request), a spawned task and a channel of frames; here it is
//! one task that writes each frame to the socket, about the size of its
//! timers and its fan-out entry, so ten thousand open streams fit in the
//! memory of a small instance. The answers are the same as actix-web's:
//! [`opening::open`] decides them, errors render through `ApiError`, and the
//! request is counted and logged like any other. Cross-origin requests (they
//! carry `Origin`), streams opened on a connection that served other requests
//! first, and anything unusual go to the actix-web handler.

use std::time::Instant;

use actix_web::error::QueryPayloadError;
use actix_web::{HttpResponse, ResponseError};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::live::LiveEvents;
use super::opening::{self, EventStreamParams, OpenStream, StreamRequest};
use super::stream::{self, WriterSink};
use crate::error::ApiError;
use crate::http::direct::{self, Head};
use crate::state::AppState;

/// The route, as actix-web names it in metrics and logs.
const ROUTE: &str = "/v1/me/events";

/// What serving a stream directly needs. Cheap to clone.
#[derive(Clone)]
pub struct DirectStreams {
    pub state: AppState,
    pub live: LiveEvents,
}

impl DirectStreams {
    /// Serves the connection if its first request is an event stream this
    /// path answers; otherwise hands the untouched connection back.
    pub async fn serve(&self, mut io: TcpStream) -> Result<(), TcpStream> {
        let Some(head) = direct::peek_head(&io, b"GET /v1/me/events").await else {
            return Err(io);
        };
        if head.path != ROUTE || !head.is_plain_get() {
            return Err(io);
        }
        if head.consume(&mut io).await.is_err() {
            return Ok(());
        }
        // Each frame is a whole message: send it at once rather than wait
        // for the previous one's acknowledgement (Nagle's algorithm).
        let _ = io.set_nodelay(true);
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let opened = match request_of(&head) {
            // Boxed: an open stream's task keeps no room for the opening's reads.
            Ok(request) => Box::pin(opening::open(&self.state, &self.live, &request)).await,
            Err(error) => Err(error),
        };
        drop(head);
        match opened {
            Err(error) => {
                let response = error.error_response();
                self.record(response.status().as_u16(), Some(error.code()), started, &request_id);
                // The client may be gone already; there is no one left to tell.
                let _ = direct::write_response(&mut io, response, &request_id).await;
            }
            Ok(OpenStream { subscription, start }) => {
                let mut response = HttpResponse::Ok();
                for (name, value) in stream::RESPONSE_HEADERS {
                    response.insert_header((*name, *value));
                }
                self.record(200, None, started, &request_id);
                let (mut read, mut write) = io.into_split();
                if direct::write_head(&mut write, &response.finish(), &request_id).await.is_err() {
                    return Ok(());
                }
                // The client sends nothing more; its end of the connection closing is the signal.
                let gone = async move {
                    let mut discard = [0u8; 64];
                    while let Ok(1..) = read.read(&mut discard).await {}
                };
                let pool = self.state.pool.clone();
                stream::pump(pool, subscription, start, WriterSink(write), gone, self.live.stopping()).await;
            }
        }
        Ok(())
    }

    fn record(&self, status: u16, code: Option<&str>, started: Instant, request_id: &str) {
        let elapsed = started.elapsed();
        self.state.metrics.count_request("GET", ROUTE, status, elapsed);
        crate::http::access_log::emit("GET", Some(ROUTE), status, code, elapsed.as_secs_f64() * 1000.0, request_id);
    }
}

/// The request as `opening::open` reads it; a query string actix-web would
/// refuse is refused the same way.
fn request_of(head: &Head) -> Result<StreamRequest, ApiError> {
    let params: EventStreamParams = serde_urlencoded::from_str(&head.query)
        .map_err(|err| crate::http::invalid_query(QueryPayloadError::Deserialize(err)))?;
    Ok(StreamRequest {
        authorization: head.header("authorization").map(<[u8]>::to_vec),
        sent_api_key: head.has_header("x-api-key"),
        last_event_id: head.header("last-event-id").map(<[u8]>::to_vec),
        params,
    })
}
