//! What other capabilities may ask about users, without naming the `users`
//! table: emails, display names, standing, and a row lock.

use std::collections::HashMap;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::ids::UserId;
use crate::db::schema::users;

/// Where to write to a user (sellers, buyers, proof requesters).
pub async fn email_of(conn: &mut AsyncPgConnection, user_id: UserId) -> QueryResult<String> {
    users::table.find(user_id).select(users::email).first(conn).await
}

/// Emails of many users in one query (both parties of an order).
pub async fn emails_of(conn: &mut AsyncPgConnection, ids: &[UserId]) -> QueryResult<HashMap<UserId, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::email))
        .load::<(UserId, String)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// How another party appears and is reached, in one read (a seller, as an
/// order placed with them needs).
#[derive(Debug, Clone, Queryable)]
pub struct Contact {
    pub display_name: String,
    pub email: String,
    pub suspended: bool,
}

/// The user's [`Contact`] (`NotFound` when there is no such user).
pub async fn contact(conn: &mut AsyncPgConnection, user_id: UserId) -> QueryResult<Contact> {
    users::table
        .find(user_id)
        .select((users::display_name, users::email, users::suspended_at.is_not_null()))
        .first(conn)
        .await
}

/// Display names of many users in one query. Takes a shared connection so a
/// page can run it pipelined beside its other decorations.
pub async fn display_names(mut conn: &AsyncPgConnection, ids: &[UserId]) -> QueryResult<HashMap<UserId, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(UserId, String)>(&mut conn)
        .await?
        .into_iter()
        .collect())
}

/// The display names of the users in the `uuid[]` expression `ids`, as a scalar
/// SQL expression another capability can put in a statement of its own: the
/// JSON text of an object from user id to name (NULL when none was found).
pub fn display_names_json_sql(ids: &str) -> String {
    format!("(SELECT json_object_agg(users.id, users.display_name)::text FROM users WHERE users.id = ANY({ids}))")
}

/// Whether the user is suspended (`NotFound` when there is no such user).
pub async fn is_suspended(conn: &mut AsyncPgConnection, user_id: UserId) -> QueryResult<bool> {
    let suspended_at: Option<chrono::DateTime<chrono::Utc>> =
        users::table.find(user_id).select(users::suspended_at).first(conn).await?;
    Ok(suspended_at.is_some())
}

/// The ids of suspended users, as a subquery another capability can filter by
/// in the same statement (`NOT seller_id = ANY(...)`).
pub fn suspended_user_ids() -> users::BoxedQuery<'static, Pg, diesel::sql_types::Uuid> {
    users::table.filter(users::suspended_at.is_not_null()).select(users::id).into_boxed()
}

/// Locks the user's row for the rest of the transaction (to serialise work on
/// one user's money); false when no user has this id.
pub async fn lock_user(conn: &mut AsyncPgConnection, user_id: UserId) -> QueryResult<bool> {
    let found: Option<UserId> =
        users::table.find(user_id).select(users::id).for_update().first(conn).await.optional()?;
    Ok(found.is_some())
}
