//! Accounts and access: registration with email verification, password login
//! with throttling, sessions with rotating refresh tokens, password reset and
//! change, profiles, API keys, and admin suspension.

pub mod api_keys;
mod handlers;
pub mod login;
pub mod model;
pub mod password;
pub mod registration;
pub mod secret_token;
pub mod sessions;
pub mod throttle;

pub use handlers::configure;
