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
//!   tickets for EventSource); `live_handlers`: `/v1/me/events`,
//!   `/v1/me/event-stream-tickets`.

mod handlers;
pub mod live;
mod live_handlers;
pub mod model;
pub mod settings;
pub mod stream;
pub mod tickets;

pub use live::LiveEvents;
pub use settings::emails_wanted;

/// The inbox, the settings and the live stream.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    handlers::configure(cfg);
    live_handlers::configure(cfg);
}
