//! Accounts and access: registration with email verification, password login
//! with throttling, sessions with rotating refresh tokens, password reset and
//! change, profiles, API keys, and admin suspension.

mod emails;
pub mod api_keys;
pub mod caller;
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
pub use handlers::configure;
pub use reputation::{Reputation, ReputationSource, Reputations};

/// Where to write to a user (sellers, buyers, proof requesters).
pub async fn email_of(conn: &mut diesel_async::AsyncPgConnection, user_id: uuid::Uuid) -> diesel::QueryResult<String> {
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    crate::db::schema::users::table.find(user_id).select(crate::db::schema::users::email).first(conn).await
}

/// Locks the user's row for the rest of the transaction (to serialise work on
/// one user's money); false when no user has this id.
pub async fn lock_user(conn: &mut diesel_async::AsyncPgConnection, user_id: uuid::Uuid) -> diesel::QueryResult<bool> {
    use diesel::{OptionalExtension, QueryDsl};
    use diesel_async::RunQueryDsl;
    use crate::db::schema::users;
    let found: Option<uuid::Uuid> =
        users::table.find(user_id).select(users::id).for_update().first(conn).await.optional()?;
    Ok(found.is_some())
}

/// Display names of many users in one query.
pub async fn display_names(
    conn: &mut diesel_async::AsyncPgConnection,
    ids: &[uuid::Uuid],
) -> diesel::QueryResult<std::collections::HashMap<uuid::Uuid, String>> {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    use crate::db::schema::users;
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(uuid::Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect())
}
