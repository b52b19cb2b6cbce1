//! Opening an event stream, whichever server parsed the request: actix-web's
//! handler (`live_handlers`) or the direct path (`direct`). Everything that
//! can refuse a stream happens here, before its first byte: a bad or unknown
//! `Last-Event-ID` (400, checked before a ticket is spent), the credentials
//! (401/403), the database (503).

use serde::Deserialize;
use utoipa::IntoParams;

use super::live::{LiveEvents, Subscription};
use super::stream::StreamStart;
use super::tickets;
use crate::accounts;
use crate::db::ids::UserId;
use crate::error::{ApiError, ApiResult};
use crate::events::inbox;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventStreamParams {
    /// Replay what came after this event id (the `Last-Event-ID` header wins).
    pub last_event_id: Option<String>,
    /// A ticket from `POST /v1/me/event-stream-tickets`, instead of a bearer token.
    pub ticket: Option<String>,
}

/// What opening a stream reads from the request.
#[derive(Debug, Default)]
pub struct StreamRequest {
    /// The `Authorization` header, when it was sent.
    pub authorization: Option<Vec<u8>>,
    /// Whether `X-Api-Key` was sent (keys cannot open streams).
    pub sent_api_key: bool,
    /// The `Last-Event-ID` header, when it was sent.
    pub last_event_id: Option<Vec<u8>>,
    pub params: EventStreamParams,
}

/// A stream ready to send: its place in the fan-out (joined before the table
/// was read) and where it starts.
pub struct OpenStream {
    pub subscription: Subscription,
    pub start: StreamStart,
}

fn invalid_last_event_id() -> ApiError {
    ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be the id of an event this stream sent.")
}

/// The id to resume after, if the client sent one: a non-negative integer.
fn resume_after(request: &StreamRequest) -> ApiResult<Option<i64>> {
    let text = match &request.last_event_id {
        Some(header) => Some(std::str::from_utf8(header).map_err(|_| invalid_last_event_id())?),
        None => request.params.last_event_id.as_deref(),
    };
    match text {
        None => Ok(None),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(seq) if seq >= 0 => Ok(Some(seq)),
            _ => Err(invalid_last_event_id()),
        },
    }
}

/// A bearer token when one is sent, else the ticket.
async fn caller(state: &AppState, request: &StreamRequest) -> ApiResult<UserId> {
    match request.params.ticket.as_deref() {
        Some(ticket) if request.authorization.is_none() => {
            let mut conn = state.pool.get().await?;
            tickets::redeem(&mut conn, ticket, state.clock.now()).await
        }
        _ => {
            let bearer = request.authorization.as_deref().and_then(crate::http::bearer_of);
            Ok(accounts::authenticate_person(state, bearer, request.sent_api_key).await?.id())
        }
    }
}

/// Checks the request, waits for a turn to open (`live::OPENING_AT_ONCE`),
/// checks the caller, joins the fan-out, then finds where the stream starts:
/// after the resume id (which must be the caller's), or after the caller's
/// latest entry. The turn is held by the subscription until the stream has
/// read what it missed.
pub async fn open(state: &AppState, live: &LiveEvents, request: &StreamRequest) -> ApiResult<OpenStream> {
    // Checked before the ticket is spent and before the stream starts: a bad
    // id is a 400, never an error in the middle of a stream.
    let resume = resume_after(request)?;
    let turn = live.admit().await;
    let user = caller(state, request).await?;
    // Joined before reading: an entry committed from here on wakes the stream.
    let subscription = live.subscribe(user).opening_with(turn);
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
    Ok(OpenStream { subscription, start: StreamStart { user, after } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(header: Option<&[u8]>, param: Option<&str>) -> StreamRequest {
        StreamRequest {
            last_event_id: header.map(<[u8]>::to_vec),
            params: EventStreamParams { last_event_id: param.map(str::to_string), ticket: None },
            ..StreamRequest::default()
        }
    }

    #[test]
    fn the_resume_id_is_a_non_negative_integer_and_the_header_wins() {
        assert_eq!(resume_after(&with(None, None)).unwrap(), None);
        assert_eq!(resume_after(&with(Some(b" 42 "), Some("7"))).unwrap(), Some(42));
        assert_eq!(resume_after(&with(None, Some("7"))).unwrap(), Some(7));
        for bad in [&b"-1"[..], b"x", b"1.5", b"99999999999999999999", b"\xff"] {
            assert_eq!(resume_after(&with(Some(bad), None)).unwrap_err().code(), "invalid_last_event_id");
        }
    }
}
