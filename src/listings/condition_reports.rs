//! Condition reports: versioned and append-only. The listing's seller, or a user
//! with the `inspector` role, adds one while the listing is open; nobody edits or
//! deletes one. The latest report's grade is kept on the listing for search.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::access::{find_visible, listing_not_found, lock_existing, wrong_status};
use super::input::ConditionReportInput;
use super::model::{ConditionReport, ListingRow};
use super::queries;
use super::report_queries::{self, ReportAuthorship};
use crate::accounts::{AuthUser, ROLE_INSPECTOR};
use crate::db::ids::ListingId;
use crate::error::{ApiError, ApiResult};

/// Adds `body` (already validated with `input::validate_condition_report`) as
/// the listing's next report by `author`.
pub async fn add(
    conn: &mut AsyncPgConnection,
    author: &AuthUser,
    listing_id: ListingId,
    body: &ConditionReportInput,
    now: DateTime<Utc>,
) -> ApiResult<ConditionReport> {
    conn.transaction(async |conn| {
        let listing = lock_existing(conn, listing_id).await?;
        let author_role = author_role(&listing, author)?;
        if !listing.status().is_open() {
            return Err(wrong_status(&listing, "reported on"));
        }
        let version = report_queries::next_report_version(conn, listing.id).await?;
        let authorship = ReportAuthorship { listing_id: listing.id, version, author_id: author.id(), author_role };
        let report = report_queries::insert_report(conn, authorship, body, now).await?;
        queries::set_latest_condition_grade(conn, listing.id, &report.cosmetic_grade, now).await?;
        Ok(report)
    })
    .await
}

/// In what capacity `author` reports on the listing: its seller or an
/// inspector. Anyone else is refused (with 404 while the listing is not public).
fn author_role(listing: &ListingRow, author: &AuthUser) -> ApiResult<&'static str> {
    if listing.seller_id == author.id() {
        Ok("seller")
    } else if author.has_role(ROLE_INSPECTOR) {
        Ok("inspector")
    } else if listing.status().is_public() {
        Err(ApiError::forbidden("not_listing_owner", "Only the seller or an inspector can report on this listing."))
    } else {
        Err(listing_not_found())
    }
}

/// Every report of a listing the viewer may see, newest first.
pub async fn of_listing(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    viewer: Option<&AuthUser>,
    before: Option<i32>,
    limit: i64,
) -> ApiResult<Vec<ConditionReport>> {
    let listing = find_visible(conn, listing_id, viewer).await?;
    Ok(report_queries::condition_reports(conn, listing.id, before, limit).await?)
}
