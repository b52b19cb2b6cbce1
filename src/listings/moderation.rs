//! Moderation: admins approve or reject listings under review. Each decision is
//! one transaction on the locked listing that also queues the seller's email; a
//! publication freezes the listing's discount and is its first asking-price
//! observation for the price index.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::access::{listing_not_found, lock_existing, wrong_status};
use super::emails::ListingReviewed;
use super::follow_queries::refresh_references;
use super::lifecycle::{next_status, Actor, ListingStatus, Transition};
use super::market::MarketChange;
use super::model::ListingRow;
use super::queries::{self, Publication};
use crate::catalog::discount::discount_bps;
use crate::db::ids::{ListingId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::price_index::observations::{self, AskingEvent};

/// A moderator's free-text reason or note: 1 to 1000 characters once trimmed.
pub fn checked_note(field: &'static str, text: &str) -> ApiResult<String> {
    let text = text.trim();
    if (1..=1000).contains(&text.chars().count()) {
        Ok(text.to_string())
    } else {
        Err(ApiError::validation(field, "must be 1 to 1000 characters"))
    }
}

/// Publishes a listing under review.
pub async fn approve(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    id: ListingId,
    fire_sale_threshold_bps: i64,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    conn.transaction(async |conn| {
        let (row, next) = lock_for_decision(conn, admin_id, id, Transition::Approve).await?;
        super::serials::check_ready(conn, &row, true).await?;
        let published = publish(conn, &row, next, now).await?;
        let lot = published.lot_facts(now);
        let price = published.asking_price(now);
        observations::record_asking(conn, &lot, AskingEvent::Published, price, fire_sale_threshold_bps).await?;
        let verdict = ListingReviewed { title: row.title.clone(), approved: true, reason: None };
        verdict.send_to_seller(conn, row.seller_id, now).await?;
        verdict.publish(conn, row.id, row.seller_id, now).await?;
        // Saved searches hear of it from a job, not in this request.
        super::market::announce(conn, row.id, MarketChange::Published, now).await?;
        log_decision(&row, admin_id, next);
        Ok(published)
    })
    .await
}

/// Rejects a listing under review with a reason (see [`checked_note`]) the
/// seller reads.
pub async fn reject(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    id: ListingId,
    reason: String,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    conn.transaction(async |conn| {
        let (row, next) = lock_for_decision(conn, admin_id, id, Transition::Reject).await?;
        let rejected = queries::mark_rejected(conn, row.id, next, Some(&reason), now).await?;
        let verdict = ListingReviewed { title: row.title.clone(), approved: false, reason: Some(reason) };
        verdict.send_to_seller(conn, row.seller_id, now).await?;
        verdict.publish(conn, row.id, row.seller_id, now).await?;
        log_decision(&row, admin_id, next);
        Ok(rejected)
    })
    .await
}

/// Locks the listing and checks that this admin may make this decision on it
/// now; answers the status it leads to.
async fn lock_for_decision(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    id: ListingId,
    transition: Transition,
) -> ApiResult<(ListingRow, ListingStatus)> {
    let row = lock_existing(conn, id).await?;
    if row.seller_id == admin_id {
        return Err(ApiError::forbidden("own_listing", "Admins cannot moderate their own listings."));
    }
    let next =
        next_status(row.status(), transition, Actor::Admin).ok_or_else(|| wrong_status(&row, "moderated this way"))?;
    Ok((row, next))
}

/// Puts the listing on the market with its reference and discount as they are
/// today, frozen from then on.
async fn publish(
    conn: &mut AsyncPgConnection,
    row: &ListingRow,
    next: ListingStatus,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    refresh_references(conn, Some(row.rig_model_id), now).await?;
    let current = queries::find(conn, row.id).await?.ok_or_else(listing_not_found)?;
    let publication = Publication {
        reference_unit_price_cents: current.reference_unit_price_cents,
        discount_bps: discount_bps(current.unit_price_cents, current.reference_unit_price_cents),
    };
    Ok(queries::mark_published(conn, row.id, next, publication, now).await?)
}

fn log_decision(row: &ListingRow, admin_id: UserId, next: ListingStatus) {
    tracing::info!(listing.id = %row.id, admin.id = %admin_id, to = next.as_str(), "listing moderated");
}
