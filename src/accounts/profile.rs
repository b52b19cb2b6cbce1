//! Profiles: the caller's own account and its editable fields, and the public
//! profile anyone may see (with the seller reputation the orders provide).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::model::{MeView, ProfileChanges, PublicProfile, UserRow};
use super::queries::users;
use super::registration::check_display_name;
use super::reputation::ReputationSource;
use crate::db::ids::UserId;
use crate::error::{ApiError, FieldError};

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

fn check_optional_text(errors: &mut Vec<FieldError>, field: &str, value: &Option<Option<String>>, max: usize) {
    if let Some(Some(text)) = value {
        if text.chars().count() > max {
            errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        }
    }
}

impl ProfileChanges {
    /// Checks every field at once (reporting all problems) and normalises them:
    /// the display name trimmed, the country code upper-cased.
    pub fn checked(self) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        if let Some(name) = &self.display_name {
            if let Err(ApiError::Validation(mut e)) = check_display_name("display_name", name) {
                errors.append(&mut e);
            }
        }
        let country = self.country.map(|c| c.map(|c| c.trim().to_ascii_uppercase()));
        if let Some(Some(code)) = &country {
            if !crate::geo::is_country_code(code) {
                errors.push(FieldError::new("country", "must be an ISO 3166-1 alpha-2 code such as KZ"));
            }
        }
        check_optional_text(&mut errors, "company", &self.company, 120);
        check_optional_text(&mut errors, "payout_details", &self.payout_details, 2000);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
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
