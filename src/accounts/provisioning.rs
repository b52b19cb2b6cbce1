//! Accounts made outside sign-up: the demo market's people, verified, with a
//! known password and a join date in the past, and an API key with a known
//! secret. Idempotent: an email or key that exists is left as it is.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::ids::{ApiKeyId, UserId};
use crate::db::schema::{api_keys, users};

/// Who to provision.
pub struct ProvisionedAccount<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub country: &'a str,
    pub company: Option<&'a str>,
    pub roles: &'a [&'a str],
    pub password_hash: &'a str,
    pub created_at: DateTime<Utc>,
}

/// The account's id, and whether it was created now.
pub async fn ensure_account(
    conn: &mut AsyncPgConnection,
    account: &ProvisionedAccount<'_>,
) -> QueryResult<(UserId, bool)> {
    let roles: Vec<String> = account.roles.iter().map(|r| r.to_string()).collect();
    let created = diesel::insert_into(users::table)
        .values((
            users::id.eq(account.id),
            users::email.eq(account.email),
            users::password_hash.eq(account.password_hash),
            users::display_name.eq(account.display_name),
            users::roles.eq(&roles),
            users::email_verified_at.eq(account.created_at),
            users::country.eq(account.country),
            users::company.eq(account.company),
            users::created_at.eq(account.created_at),
            users::updated_at.eq(account.created_at),
        ))
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?
        == 1;
    let id = users::table.filter(users::email.eq(account.email)).select(users::id).first(conn).await?;
    Ok((id, created))
}

/// An API key whose plaintext the caller knows (`rmk_...`), stored hashed.
pub async fn ensure_api_key(
    conn: &mut AsyncPgConnection,
    key_id: ApiKeyId,
    user_id: UserId,
    name: &str,
    plaintext: &str,
    requests_per_minute: i32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(key_id),
            api_keys::user_id.eq(user_id),
            api_keys::name.eq(name),
            api_keys::prefix.eq(&plaintext[..10.min(plaintext.len())]),
            api_keys::key_hash.eq(super::secret_token::digest(plaintext)),
            api_keys::requests_per_minute.eq(requests_per_minute),
            api_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}
