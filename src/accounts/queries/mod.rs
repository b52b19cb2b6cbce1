//! The accounts' SQL, one file per group of tables. Every function takes a
//! connection, so a use case can run several in one transaction.
//!
//! - [`users`]: accounts, their standing, profiles and roles.
//! - [`email_tokens`]: the single-use tokens behind emailed links.
//! - [`sessions`]: sessions and their rotating refresh tokens.
//! - [`api_keys`]: API keys and their owners.
//!
//! `throttle` and `directory` keep their own SQL: it is all they do.

pub mod api_keys;
pub mod email_tokens;
pub mod sessions;
pub mod users;
