//! `GET /v1/me/events` (the caller's notifications as Server-Sent Events) and
//! `POST /v1/me/event-stream-tickets` (a one-use ticket for EventSource).

use actix_web::http::header;
use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::live::LiveEvents;
use super::stream::{self, StreamStart};
use super::tickets;
use crate::accounts::AuthUser;
use crate::db::ids::UserId;
use crate::error::{ApiError, ApiResult};
use crate::events::inbox;
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventStreamParams {
    /// Replay what came after this event id (the `Last-Event-ID` header wins).
    last_event_id: Option<String>,
    /// A ticket from `POST /v1/me/event-stream-tickets`, instead of a bearer token.
    ticket: Option<String>,
}

fn invalid_last_event_id() -> ApiError {
    ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be the id of an event this stream sent.")
}

/// The id to resume after, if the client sent one: a non-negative integer.
fn last_event_id(req: &HttpRequest, params: &EventStreamParams) -> ApiResult<Option<i64>> {
    let header = match req.headers().get("last-event-id") {
        Some(value) => Some(value.to_str().map_err(|_| invalid_last_event_id())?.to_string()),
        None => None,
    };
    match header.or_else(|| params.last_event_id.clone()) {
        None => Ok(None),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(seq) if seq >= 0 => Ok(Some(seq)),
            _ => Err(invalid_last_event_id()),
        },
    }
}

/// A bearer token when one is sent, else the ticket.
async fn stream_caller(req: &HttpRequest, state: &AppState, ticket: Option<&str>) -> ApiResult<UserId> {
    match ticket {
        Some(ticket) if req.headers().get(header::AUTHORIZATION).is_none() => {
            let mut conn = state.pool.get().await?;
            tickets::redeem(&mut conn, ticket, state.clock.now()).await
        }
        _ => Ok(AuthUser::extract(req).await?.id()),
    }
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
    // Checked before the ticket is spent and before the stream starts: a bad
    // id is a 400, never an error in the middle of a stream.
    let resume = last_event_id(&req, &params)?;
    let user = stream_caller(&req, &state, params.ticket.as_deref()).await?;
    // Joined before reading: an entry committed from here on wakes the stream.
    let subscription = live.subscribe(user);
    let mut conn = state.pool.get().await?;
    let after = match resume {
        Some(seq) => {
            if inbox::find_own(&mut conn, user, seq).await?.is_none() {
                return Err(ApiError::bad_request(
                    "unknown_last_event_id",
                    "Last-Event-ID names no event of yours; reconnect without it (and read the inbox for what you missed).",
                ));
            }
            seq
        }
        None => inbox::list(&mut conn, user, false, None, 1).await?.first().map_or(0, |latest| latest.seq),
    };
    drop(conn);
    let body = stream::body(state.pool.clone(), subscription, StreamStart { user, after }, live.stopping());
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Never compressed: each event must leave when it is written.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_stream_ticket).service(event_stream);
}
