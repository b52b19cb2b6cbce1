mod listings;
mod moderation;
mod photos;
mod reports;
mod search;

use uuid::Uuid;

use super::model::ListingRow;
use super::queries;
use crate::accounts::AuthUser;
use crate::error::ApiError;

pub(crate) fn listing_not_found() -> ApiError {
    ApiError::not_found("listing_not_found", "No listing has this id.")
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
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
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

/// Loads and locks a listing the caller owns.
pub(crate) async fn lock_owned(
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
    user: &AuthUser,
) -> Result<ListingRow, ApiError> {
    let row = queries::lock(conn, id).await?.ok_or_else(listing_not_found)?;
    if row.seller_id != user.id() {
        return Err(if row.status().is_public() {
            ApiError::forbidden("not_listing_owner", "Only the seller can change this listing.")
        } else {
            listing_not_found()
        });
    }
    Ok(row)
}

pub(crate) fn wrong_status(row: &ListingRow, action: &str) -> ApiError {
    ApiError::conflict(
        "invalid_listing_status",
        format!("A listing in status `{}` cannot be {action}.", row.status().as_str()),
    )
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    search::configure(cfg);
    listings::configure(cfg);
    reports::configure(cfg);
    photos::configure(cfg);
    moderation::configure(cfg);
}
