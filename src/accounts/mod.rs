//! Accounts and access: registration with email verification, password login
//! with throttling, sessions with rotating refresh tokens, password reset and
//! change, profiles, API keys, and admin suspension.

pub mod api_keys;
pub mod caller;
mod directory;
mod emails;
mod handlers;
pub mod login;
pub mod model;
pub mod password;
pub mod registration;
mod reputation;
pub mod secret_token;
pub mod sessions;
pub mod throttle;
pub mod token;

pub use caller::{grant_admin, load_account, AccountStatus, AuthUser, Principal, ROLE_ADMIN, ROLE_INSPECTOR};
pub use directory::{display_names, email_of, is_suspended, lock_user, suspended_user_ids};
pub use handlers::configure;
pub use reputation::{Reputation, ReputationSource, Reputations};
