//! SQL on `users`: finding, creating and changing accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::accounts::model::{AccountStatus, NewUser, ProfileChanges, UserRow, UserStatus};
use crate::db::ids::UserId;
use crate::db::schema::users;

pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table.find(id).select(UserRow::as_select()).first(conn).await.optional()
}

/// The account with this (already normalised) email address.
pub async fn find_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).await.optional()
}

pub async fn exists(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<bool> {
    Ok(users::table.find(id).select(users::id).first::<UserId>(conn).await.optional()?.is_some())
}

/// Inserts the account unless its email is taken; whether it was inserted.
pub async fn insert_unless_taken(
    conn: &mut AsyncPgConnection,
    user: &NewUser<'_>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(users::table)
        .values((
            users::id.eq(user.id),
            users::email.eq(user.email),
            users::password_hash.eq(user.password_hash),
            users::display_name.eq(user.display_name),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Marks the email verified (once: a verified address keeps its first date).
pub async fn mark_email_verified(conn: &mut AsyncPgConnection, id: UserId, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(users::table.find(id).filter(users::email_verified_at.is_null()))
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    id: UserId,
    password_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(password_hash), users::password_changed_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: UserId,
    changes: ProfileChanges,
    now: DateTime<Utc>,
) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((
            changes.display_name.map(|n| users::display_name.eq(n)),
            changes.country.map(|c| users::country.eq(c)),
            changes.company.map(|c| users::company.eq(c)),
            changes.payout_details.map(|p| users::payout_details.eq(p)),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// The admins' filter on the user list.
#[derive(Debug, Default)]
pub struct UserFilter {
    /// Part of the email address, case-insensitive.
    pub email: Option<String>,
    pub status: Option<UserStatus>,
}

/// Accounts newest first, before the id `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &UserFilter,
    before: Option<UserId>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut select = users::table.select(UserRow::as_select()).order(users::id.desc()).limit(limit).into_boxed();
    if let Some(email) = &filter.email {
        let pattern = format!("%{}%", crate::db::escape_like(&email.trim().to_lowercase()));
        select = select.filter(users::email.like(pattern));
    }
    select = match filter.status {
        Some(UserStatus::Suspended) => select.filter(users::suspended_at.is_not_null()),
        Some(UserStatus::Unverified) => select.filter(users::email_verified_at.is_null()),
        Some(UserStatus::Active) => {
            select.filter(users::suspended_at.is_null()).filter(users::email_verified_at.is_not_null())
        }
        None => select,
    };
    if let Some(before) = before {
        select = select.filter(users::id.lt(before));
    }
    select.load(conn).await
}

/// Suspends the account unless it already is; `None` when no active account has this id.
pub async fn suspend(
    conn: &mut AsyncPgConnection,
    id: UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<UserRow>> {
    diesel::update(users::table.find(id).filter(users::suspended_at.is_null()))
        .set((users::suspended_at.eq(now), users::suspension_reason.eq(reason), users::updated_at.eq(now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Lifts a suspension; `None` when no suspended account has this id.
pub async fn reinstate(conn: &mut AsyncPgConnection, id: UserId, now: DateTime<Utc>) -> QueryResult<Option<UserRow>> {
    diesel::update(users::table.find(id).filter(users::suspended_at.is_not_null()))
        .set((
            users::suspended_at.eq(None::<DateTime<Utc>>),
            users::suspension_reason.eq(None::<String>),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn load_account(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<AccountStatus>> {
    users::table.find(id).select(AccountStatus::as_select()).first(conn).await.optional()
}

/// The account with this (already normalised) email, locked for the rest of the transaction.
pub async fn lock_account_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<AccountStatus>> {
    users::table
        .filter(users::email.eq(email))
        .select(AccountStatus::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn set_roles(
    conn: &mut AsyncPgConnection,
    id: UserId,
    roles: &[String],
    now: DateTime<Utc>,
) -> QueryResult<AccountStatus> {
    diesel::update(users::table.find(id))
        .set((users::roles.eq(roles), users::updated_at.eq(now)))
        .returning(AccountStatus::as_returning())
        .get_result(conn)
        .await
}
