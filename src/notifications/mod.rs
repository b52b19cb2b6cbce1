//! Staying informed: the notifications inbox of the caller, their email
//! preferences and the live event stream.
//!
//! The inbox rows are written by `events::record` (one per party, in the
//! event's transaction; see `events::inbox`); this capability serves them:
//! - [`settings`]: which event types email the user and which only land in the
//!   inbox (the rules and the `notification_settings` queries); other
//!   capabilities ask [`settings::emails_wanted`] before sending a gateable email.
//! - [`model`]: the JSON of an inbox entry and of the settings.
//! - `handlers`: `/v1/me/notifications...` and `/v1/me/notification-settings`.
//! - The live event stream: [`live`] (the process's one `LISTEN` connection
//!   and its fan-out to local streams), [`stream`] (the SSE body: replay after
//!   `Last-Event-ID`, then live, bounded per reader), [`tickets`] (one-use
//!   tickets for EventSource), [`opening`] (what may refuse a stream, on
//!   either server); `live_handlers`: `/v1/me/events` and
//!   `/v1/me/event-stream-tickets` on actix-web; [`direct`]: `/v1/me/events`
//!   straight off the socket, for connections that open with it.

pub mod direct;
mod handlers;
pub mod live;
mod live_handlers;
pub mod model;
pub mod opening;
pub mod settings;
pub mod stream;
pub mod tickets;

pub use direct::DirectStreams;
pub use live::LiveEvents;
pub use settings::emails_wanted;

/// The inbox, the settings and the live stream.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    handlers::configure(cfg);
    live_handlers::configure(cfg);
}
