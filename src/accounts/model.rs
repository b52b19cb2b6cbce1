//! Account rows and the JSON shapes of the accounts API.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::ids::{ApiKeyId, UserId};
use crate::db::schema::{api_keys, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub roles: Vec<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub country: Option<String>,
    pub company: Option<String>,
    pub payout_details: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What every request checks about its caller: identity, roles and standing.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AccountStatus {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
}

/// A new account as registration writes it (the email normalised, the name trimmed).
pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
}

/// A checked profile update: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub country: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub payout_details: Option<Option<String>>,
}

// The standing admins filter the user list by (a plain comment: a doc comment
// would change the committed OpenAPI document).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
    Unverified,
}

/// What an emailed single-use token is for (stored in `email_tokens.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    PasswordReset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }
}

/// The caller's own account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "email": "seller@example.com", "display_name": "Altai Hosting",
    "email_verified": true, "roles": [], "country": "KZ", "company": "Altai Hosting LLP",
    "payout_details": "IBAN KZ86 125K ZT50 0410 0100, Halyk Bank, BIC HSBKKZKX", "created_at": "2026-03-18T09:30:00Z"
}))]
pub struct MeView {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    #[schema(example = "miner@example.com")]
    pub email: String,
    #[schema(example = "Altai Hosting")]
    pub display_name: String,
    pub email_verified: bool,
    #[schema(example = json!(["admin"]))]
    pub roles: Vec<String>,
    #[schema(example = "KZ")]
    pub country: Option<String>,
    pub company: Option<String>,
    /// Free text (bank or BTC payout instructions); only ever shown to its owner
    /// and admins.
    pub payout_details: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for MeView {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            email_verified: row.email_verified_at.is_some(),
            roles: row.roles,
            country: row.country,
            company: row.company,
            payout_details: row.payout_details,
            created_at: row.created_at,
        }
    }
}

/// The answer to registration: the same shape whether or not the email was new.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "email": "seller@example.com", "display_name": "Altai Hosting",
    "email_verified": false
}))]
pub struct RegisteredView {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    #[schema(example = "miner@example.com")]
    pub email: String,
    #[schema(example = "Altai Hosting")]
    pub display_name: String,
    pub email_verified: bool,
}

/// What anyone may see about a user.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "display_name": "Altai Hosting", "country": "KZ",
    "member_since": "2026-03-18T09:30:00Z",
    "reputation": {"average_rating": 4.67, "review_count": 12, "completed_sales": 15}
}))]
pub struct PublicProfile {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    #[schema(example = "Altai Hosting")]
    pub display_name: String,
    #[schema(example = "KZ")]
    pub country: Option<String>,
    pub member_since: DateTime<Utc>,
    /// As a seller: buyers' average rating, their count, completed sales.
    pub reputation: super::reputation::Reputation,
}

/// An account as admins see it in the user list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "email": "seller@example.com", "display_name": "Altai Hosting",
    "roles": [], "email_verified": true, "country": "KZ", "suspended_at": "2026-05-20T11:00:00Z",
    "suspension_reason": "Same serials listed by another seller; under review.", "created_at": "2026-03-18T09:30:00Z"
}))]
pub struct AdminUserView {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub email_verified: bool,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub country: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for AdminUserView {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            roles: row.roles,
            email_verified: row.email_verified_at.is_some(),
            suspended_at: row.suspended_at,
            suspension_reason: row.suspension_reason,
            country: row.country,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = api_keys)]
#[schema(example = json!({
    "id": "0192f6fa-9b8c-7d7e-a6f5-4e3d2c1b0a98", "name": "research desk", "prefix": "rmk_Zx81Qa",
    "requests_per_minute": 60, "created_at": "2026-04-02T13:00:00Z", "last_used_at": "2026-05-11T07:58:12Z"
}))]
pub struct ApiKeyView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ApiKeyId,
    #[schema(example = "research desk")]
    pub name: String,
    /// The first characters of the key, to recognise it.
    #[schema(example = "rmk_Zx81Qa")]
    pub prefix: String,
    #[schema(example = 60)]
    pub requests_per_minute: i32,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new API key; `key` is shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f6fa-9b8c-7d7e-a6f5-4e3d2c1b0a98", "name": "research desk",
    "key": "rmk_Zx81QaVv0m3r5E6HnqP6Nw8j8yq0J9qk9u5mZb0p2aA", "prefix": "rmk_Zx81Qa", "requests_per_minute": 60,
    "created_at": "2026-04-02T13:00:00Z"
}))]
pub struct CreatedApiKey {
    #[schema(value_type = uuid::Uuid)]
    pub id: ApiKeyId,
    pub name: String,
    #[schema(example = "rmk_Zx81QaVv0m3r5E6HnqP6Nw8j8yq0J9qk9u5mZb0p2aA")]
    pub key: String,
    pub prefix: String,
    pub requests_per_minute: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTkyZjZkMS0zYjJhLTdlNDAtOGMxMS01YTdkMmU5ZjRiMTAiLCJleHAiOjE3Nzg0ODY0MDB9.q5Xl3d0w8b1yqk2Zc9Jr0uVQ4tG6mN7pHsA3eF1iK8o",
    "refresh_token": "rmr_k3J0m9yq6o2V0XGxM6b6cR1pP8w5S3Y1xq9JtY2nUZc", "token_type": "Bearer", "expires_in": 900
}))]
pub struct TokenPair {
    pub access_token: String,
    #[schema(example = "rmr_k3J0m9yq6o2V0XGxM6b6cR1pP8w5S3Y1xq9JtY2nUZc")]
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}
