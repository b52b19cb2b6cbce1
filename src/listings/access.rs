//! Who may see or change a listing, and the errors that say no: the checks every
//! listing use case starts with.

use diesel_async::AsyncPgConnection;

use super::model::ListingRow;
use super::queries;
use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::ApiError;

pub(crate) fn listing_not_found() -> ApiError {
    ApiError::not_found("listing_not_found", "No listing has this id.")
}

/// The listing is in a status where `action` (a past participle: "edited",
/// "submitted") is not allowed.
pub(crate) fn wrong_status(row: &ListingRow, action: &str) -> ApiError {
    ApiError::conflict(
        "invalid_listing_status",
        format!("A listing in status `{}` cannot be {action}.", row.status().as_str()),
    )
}

/// Who may see a listing: everyone for public statuses of sellers in good
/// standing, otherwise only its seller and admins (others get 404, not 403, so
/// drafts stay invisible).
pub(crate) fn can_view(row: &ListingRow, seller_suspended: bool, viewer: Option<&AuthUser>) -> bool {
    let privileged = viewer.is_some_and(|v| v.id() == row.seller_id || v.has_role(crate::accounts::ROLE_ADMIN));
    privileged || (row.status().is_public() && !seller_suspended)
}

/// Loads a listing the viewer may see, or answers 404.
pub(crate) async fn find_visible(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    viewer: Option<&AuthUser>,
) -> Result<ListingRow, ApiError> {
    let row = queries::find(conn, id).await?.ok_or_else(listing_not_found)?;
    let suspended = crate::accounts::is_suspended(conn, row.seller_id).await?;
    if can_view(&row, suspended, viewer) {
        Ok(row)
    } else {
        Err(listing_not_found())
    }
}

/// Locks any listing for the rest of the transaction, or answers 404.
pub(crate) async fn lock_existing(conn: &mut AsyncPgConnection, id: ListingId) -> Result<ListingRow, ApiError> {
    queries::lock(conn, id).await?.ok_or_else(listing_not_found)
}

/// Loads and locks a listing the caller owns. Someone else's public listing
/// answers 403; someone else's draft 404, so it stays invisible.
pub(crate) async fn lock_owned(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    user: &AuthUser,
) -> Result<ListingRow, ApiError> {
    let row = lock_existing(conn, id).await?;
    if row.seller_id != user.id() {
        return Err(if row.status().is_public() {
            ApiError::forbidden("not_listing_owner", "Only the seller can change this listing.")
        } else {
            listing_not_found()
        });
    }
    Ok(row)
}
