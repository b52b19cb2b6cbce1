//! Accounts and access: registration with email verification, password login
//! with throttling, sessions with rotating refresh tokens, password reset and
//! change, profiles, API keys, and admin suspension.
//!
//! - [`caller`]: who is calling (`AuthUser`, `Principal`), checked on every request.
//! - [`registration`], [`login`], [`sessions`], [`password_change`], [`profile`],
//!   [`api_keys`], [`suspension`], [`roles`]: the use cases, each write in one
//!   transaction; [`email_links`] are the emailed single-use links they share.
//! - [`password`], [`token`], [`secret_token`], [`throttle`]: hashing, access
//!   tokens, opaque secrets and login throttling.
//! - [`queries`]: the SQL; `directory` and `reputation`: what other capabilities
//!   may ask about users, and the seller reputation the orders provide.
//! - [`read_routing`]: which database a lag-tolerant read uses for this caller
//!   (`ReplicaReads`) and the write marks that keep a caller's own writes in view.
//! - `handlers`: the HTTP API.
//!
//! Reads (through `Config`): `RIGMARKET_PUBLIC_URL` (links and the token
//! issuer), `RIGMARKET_JWT_SECRET` and `RIGMARKET_TRUST_FORWARDED_FOR`.

pub mod api_keys;
pub mod caller;
mod directory;
pub mod email_links;
mod emails;
mod handlers;
pub mod login;
pub mod model;
pub mod pages;
pub mod password;
pub mod password_change;
pub mod profile;
pub mod provisioning;
pub mod queries;
pub mod read_routing;
pub mod registration;
mod reputation;
pub mod roles;
pub mod secret_token;
pub mod sessions;
pub mod suspension;
pub mod throttle;
pub mod token;

pub use caller::{authenticate_person, AuthUser, Principal, BEARER_PROBLEMS, KEY_OR_BEARER_PROBLEMS};
pub use directory::{
    contact, display_names, display_names_json_sql, email_of, emails_of, is_suspended, lock_user, suspended_user_ids,
    Contact,
};
pub use handlers::configure;
pub use model::AccountStatus;
pub use queries::users::load_account;
pub use read_routing::{remember_writes, ReplicaReads};
pub use reputation::{Reputation, ReputationSource, Reputations};
pub use roles::{grant_admin, ROLE_ADMIN, ROLE_INSPECTOR};
