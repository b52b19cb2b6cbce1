//! Flags: any verified user may flag a public listing once; an admin resolves a
//! flag by dismissing it or by unpublishing the listing, which resolves every
//! other open flag on it too. Holds the request bodies and both use cases.

use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{find_visible, listing_not_found, lock_existing};
use super::emails::ListingReviewed;
use super::flag_queries::{self, NewFlagRow, Resolution};
use super::lifecycle::{next_status, Actor, Transition};
use super::model::{FlagStatus, FlagView};
use super::queries;
use crate::accounts::AuthUser;
use crate::db::ids::{ListingId, UserId};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    Misleading,
    Counterfeit,
    Prohibited,
    Duplicate,
    Scam,
    Other,
}

impl FlagReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Misleading => "misleading",
            Self::Counterfeit => "counterfeit",
            Self::Prohibited => "prohibited",
            Self::Duplicate => "duplicate",
            Self::Scam => "scam",
            Self::Other => "other",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "misleading", "details": "The photos are from another seller's listing"}))]
pub struct NewFlag {
    reason: FlagReason,
    details: Option<String>,
}

impl NewFlag {
    /// The rules that need no database.
    pub fn check(&self) -> ApiResult<()> {
        if self.details.as_ref().is_some_and(|d| d.chars().count() > 2000) {
            return Err(ApiError::validation("details", "must be at most 2000 characters"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FlagAction {
    /// The flag is unfounded.
    Dismiss,
    /// Take the listing down (it becomes `rejected` with the note as reason).
    Unpublish,
}

impl FlagAction {
    /// The status a flag resolved this way gets.
    fn resolved_status(self) -> FlagStatus {
        match self {
            Self::Dismiss => FlagStatus::Dismissed,
            Self::Unpublish => FlagStatus::Unpublished,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "unpublish", "note": "Confirmed: photos copied from another listing"}))]
pub struct ResolveFlag {
    pub action: FlagAction,
    pub note: String,
}

/// `reporter` flags a public listing of someone else (see [`NewFlag::check`]).
pub async fn raise(
    conn: &mut AsyncPgConnection,
    reporter: &AuthUser,
    listing_id: ListingId,
    flag: &NewFlag,
    now: DateTime<Utc>,
) -> ApiResult<FlagView> {
    conn.transaction(async |conn| {
        let listing = find_visible(conn, listing_id, Some(reporter)).await?;
        if !listing.status().is_public() {
            return Err(listing_not_found());
        }
        if listing.seller_id == reporter.id() {
            return Err(ApiError::conflict("own_listing", "You cannot flag your own listing."));
        }
        let row = NewFlagRow {
            listing_id: listing.id,
            reporter_id: reporter.id(),
            reason: flag.reason.as_str(),
            details: flag.details.as_deref(),
        };
        flag_queries::insert_flag(conn, row, now).await.map_err(|err| match err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict("already_flagged", "You have already flagged this listing.")
            }
            other => other.into(),
        })
    })
    .await
}

/// Resolves an open flag as `admin_id` with a checked `note`. Unpublishing takes
/// the listing down (when it is still live) and resolves the listing's other
/// open flags the same way.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    flag_id: Uuid,
    action: FlagAction,
    note: &str,
    now: DateTime<Utc>,
) -> ApiResult<FlagView> {
    conn.transaction(async |conn| {
        let flag = flag_queries::lock_flag(conn, flag_id)
            .await?
            .ok_or_else(|| ApiError::not_found("flag_not_found", "No flag has this id."))?;
        if flag.status != FlagStatus::Open {
            return Err(ApiError::conflict("flag_resolved", "This flag is already resolved."));
        }
        let resolution = Resolution { status: action.resolved_status(), resolved_by: admin_id, note };
        if action == FlagAction::Unpublish {
            unpublish(conn, flag.listing_id, note, now).await?;
            flag_queries::resolve_other_open_flags(conn, flag.listing_id, flag.id, &resolution, now).await?;
        }
        Ok(flag_queries::resolve_flag(conn, flag.id, &resolution, now).await?)
    })
    .await
}

/// Takes a listing off the market after a flag and tells its seller why. A
/// listing no longer live is left as it is (the flags are resolved anyway).
async fn unpublish(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    note: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let row = lock_existing(conn, listing_id).await?;
    let Some(next) = next_status(row.status(), Transition::Unpublish, Actor::Admin) else {
        return Ok(());
    };
    if row.quantity_reserved > 0 {
        return Err(ApiError::conflict("listing_has_open_orders", "Settle the open orders before unpublishing."));
    }
    queries::mark_rejected(conn, row.id, next, Some(note), now).await?;
    let verdict = ListingReviewed { title: row.title.clone(), approved: false, reason: Some(note.to_string()) };
    verdict.send_to_seller(conn, row.seller_id, now).await?;
    verdict.publish(conn, row.id, row.seller_id, now).await?;
    Ok(())
}
