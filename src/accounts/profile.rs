//! Profiles: the caller's own account and its editable fields, and the public
//! profile anyone may see (with the seller reputation the orders provide).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::model::{MeView, ProfileChanges, PublicProfile, UserRow};
use super::queries::users;
use super::registration::check_display_name;
use super::reputation::ReputationSource;
use crate::db::ids::UserId;
use crate::error::ApiError;
use crate::validation::Problems;

fn user_not_found() -> ApiError {
    ApiError::not_found("user_not_found", "No user has this id.")
}

async fn find_user(conn: &mut AsyncPgConnection, id: UserId) -> Result<UserRow, ApiError> {
    users::find(conn, id).await?.ok_or_else(user_not_found)
}

/// The caller's own account.
pub async fn me(conn: &mut AsyncPgConnection, user_id: UserId) -> Result<MeView, ApiError> {
    Ok(find_user(conn, user_id).await?.into())
}

fn check_optional_text(problems: &mut Problems, field: &str, value: &Option<Option<String>>, max: usize) {
    if let Some(Some(text)) = value {
        if text.chars().count() > max {
            problems.add(field, format!("must be at most {max} characters"));
        }
    }
}

impl ProfileChanges {
    /// Checks every field at once (reporting all problems) and normalises them:
    /// the display name trimmed, the country code upper-cased.
    pub fn checked(self) -> Result<Self, ApiError> {
        let mut problems = Problems::default();
        if let Some(name) = &self.display_name {
            check_display_name(&mut problems, "display_name", name);
        }
        let country = self.country.map(|c| c.map(|c| c.trim().to_ascii_uppercase()));
        if let Some(Some(code)) = &country {
            problems.country("country", code);
        }
        check_optional_text(&mut problems, "company", &self.company, 120);
        check_optional_text(&mut problems, "payout_details", &self.payout_details, 2000);
        problems.into_result()?;
        Ok(Self { display_name: self.display_name.map(|n| n.trim().to_string()), country, ..self })
    }
}

/// Applies checked changes to the caller's profile.
pub async fn update(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    changes: ProfileChanges,
    now: DateTime<Utc>,
) -> Result<MeView, ApiError> {
    Ok(users::update_profile(conn, user_id, changes, now).await?.into())
}

/// What anyone may see about a user, with their reputation as a seller.
pub async fn public_profile(
    conn: &mut AsyncPgConnection,
    reputations: &ReputationSource,
    id: UserId,
) -> Result<PublicProfile, ApiError> {
    let user = find_user(conn, id).await?;
    let reputation = reputations.of_seller(conn, user.id).await?;
    Ok(PublicProfile {
        id: user.id,
        display_name: user.display_name,
        country: user.country,
        member_since: user.created_at,
        reputation,
    })
}
