//! Staying informed: the notifications inbox of the caller and their email
//! preferences.
//!
//! The inbox rows are written by `events::record` (one per party, in the
//! event's transaction; see `events::inbox`); this capability serves them:
//! - [`settings`]: which event types email the user and which only land in the
//!   inbox (the rules and the `notification_settings` queries); other
//!   capabilities ask [`settings::emails_wanted`] before sending a gateable email.
//! - [`model`]: the JSON of an inbox entry and of the settings.
//! - `handlers`: `/v1/me/notifications...` and `/v1/me/notification-settings`.

mod handlers;
pub mod model;
pub mod settings;

pub use handlers::configure;
pub use settings::emails_wanted;
