//! `GET /v1/me/events` (the caller's notifications as Server-Sent Events) and
//! `POST /v1/me/event-stream-tickets` (a one-use ticket for EventSource).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::live::LiveEvents;
use super::opening::{self, EventStreamParams, OpenStream, StreamRequest};
use super::stream;
use super::tickets;
use crate::accounts::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"ticket": "rmt_Xo3kq0m0w2oYp1lq7b0oT5b8y1H3JzGkq2c1rQ9v8sA", "expires_at": "2026-12-07T10:01:00Z"}))]
pub struct StreamTicket {
    /// Pass as `?ticket=` to `GET /v1/me/events`, once, before `expires_at`.
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// A short-lived, single-use ticket that opens the caller's event stream
/// without an `Authorization` header (browsers' EventSource cannot send one).
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 201, body = StreamTicket)))]
#[post("/me/event-stream-tickets")]
async fn create_stream_ticket(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let (ticket, expires_at) = tickets::issue(&mut conn, user.id(), state.clock.now()).await?;
    Ok(HttpResponse::Created().json(StreamTicket { ticket, expires_at }))
}

crate::http::problems::problems!(EventStreamProblems {
    400: invalid_last_event_id | unknown_last_event_id,
    401: authentication_required
        | api_key_not_accepted
        | invalid_token
        | token_expired
        | session_revoked
        | invalid_stream_ticket,
    403: account_suspended,
});

/// The caller's notifications as Server-Sent Events (`text/event-stream`), live
/// from any instance: each is an event with `id:` its id, `event:` its type and
/// `data:` its JSON (as in the inbox). Send `Last-Event-ID` (or
/// `?last_event_id=`) to get what came after it first; without it the stream
/// starts with what happens next. A `: keep-alive` comment comes every 15 s.
/// Authenticate with a bearer token, or with `?ticket=` from
/// `POST /v1/me/event-stream-tickets`.
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ()),
    params(EventStreamParams, ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String,
         example = json!("retry: 3000\n\nid: 4211\nevent: order.paid\ndata: {\"id\":4211,\"type\":\"order.paid\"}\n\n")),
        EventStreamProblems,
    )
)]
#[get("/me/events")]
async fn event_stream(
    req: HttpRequest,
    state: web::Data<AppState>,
    live: web::Data<LiveEvents>,
    params: web::Query<EventStreamParams>,
) -> ApiResult<HttpResponse> {
    let headers = req.headers();
    let request = StreamRequest {
        authorization: headers.get(header::AUTHORIZATION).map(|value| value.as_bytes().to_vec()),
        sent_api_key: headers.contains_key("x-api-key"),
        last_event_id: headers.get("last-event-id").map(|value| value.as_bytes().to_vec()),
        params: params.into_inner(),
    };
    let OpenStream { subscription, start } = opening::open(&state, &live, &request).await?;
    let body = stream::body(state.pool.clone(), subscription, start, live.stopping());
    let mut response = HttpResponse::Ok();
    for (name, value) in stream::RESPONSE_HEADERS {
        response.insert_header((*name, *value));
    }
    Ok(response.streaming(body))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_stream_ticket).service(event_stream);
}
