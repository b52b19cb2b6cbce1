//! Transitions of a thread: each runs inside the caller's transaction, on a
//! thread row the caller has locked, and writes everything the move implies in
//! that one transaction: the version or the closing, the order (an acceptance),
//! the other threads it voids, the emails and the next expiry timer. A retried
//! move finds the thread already moved and is refused.
//!
//! Lock order: the listing's row, then the thread's. Moves that can make an
//! order (accept, a counter that may be auto-accepted) take the listing's lock
//! first; the others take only the thread's, and never wait for a listing.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::model::{ThreadRow, VersionRow};
use super::notify::OfferChange;
use super::queries::{self, Closing};
use super::schedule;
use super::state::{next_status, Action, Party, Refusal, ThreadStatus};
use super::terms::Terms;
use crate::error::ApiError;
use crate::listings::model::ListingRow;
use crate::orders::agreed::{self, AgreedTerms};
use crate::orders::OrderContext;

/// The refusal as clients see it: 403 for the wrong party, 409 for the wrong moment.
fn refusal_error(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Closed(status) => {
            ApiError::conflict("offer_closed", format!("This offer is {}; it can no longer change.", status.as_str()))
        }
        Refusal::NotYourTurn => ApiError::conflict(
            "offer_not_your_turn",
            "The latest version is your own; the other party answers it (or it expires).",
        ),
        Refusal::OnlyBy(party) => {
            ApiError::forbidden("offer_action_forbidden", format!("Only the {} can do this.", party.as_str()))
        }
    }
}

/// Checks that `actor` may make `action` on `thread` at `now`.
pub fn check(thread: &ThreadRow, actor: Party, action: Action, now: DateTime<Utc>) -> Result<ThreadStatus, ApiError> {
    let to = next_status(thread.status, thread.latest_by, actor, action).map_err(refusal_error)?;
    // Past its expiry the timer is about to close it; nobody may act first.
    if now >= thread.expires_at {
        return Err(ApiError::conflict("offer_expired", "This offer has expired."));
    }
    Ok(to)
}

/// Refuses terms the listing cannot meet now.
pub fn check_quantity(listing: &ListingRow, quantity: i32) -> Result<(), ApiError> {
    if quantity > listing.quantity_available {
        return Err(ApiError::conflict(
            "insufficient_quantity",
            format!("Only {} unit(s) are available; {quantity} were asked for.", listing.quantity_available.max(0)),
        ));
    }
    Ok(())
}

/// Opens a thread's version `n` by `by` (the first offer, or a counter): writes
/// it, schedules its expiry and tells the other party. A DOA allowance the
/// terms leave out is `default_allowance_pct`.
pub async fn add_version(
    conn: &mut AsyncPgConnection,
    thread: &ThreadRow,
    n: i32,
    by: Party,
    terms: &Terms,
    default_allowance_pct: i32,
    now: DateTime<Utc>,
) -> Result<ThreadRow, ApiError> {
    let version = VersionRow::new(thread.id, n, by, terms, default_allowance_pct, now);
    let updated = queries::add_version(conn, &version).await?;
    schedule::schedule_expiry(conn, &updated).await?;
    let change = if n == 1 { OfferChange::Offered } else { OfferChange::Countered };
    super::notify::tell(conn, &updated, change, Some(by), now).await?;
    tracing::info!(offer.id = %thread.id, n, by = by.as_str(), "offer version");
    Ok(updated)
}

/// Counters the latest version (`listing` locked by the caller).
pub async fn counter(
    conn: &mut AsyncPgConnection,
    listing: &ListingRow,
    thread: &ThreadRow,
    actor: Party,
    terms: &Terms,
    now: DateTime<Utc>,
) -> Result<ThreadRow, ApiError> {
    check(thread, actor, Action::Counter, now)?;
    check_quantity(listing, terms.quantity)?;
    let latest = queries::latest_version(conn, thread).await?;
    add_version(conn, thread, thread.latest_n + 1, actor, terms, latest.doa_allowance_pct, now).await
}

/// Accepts the latest version (`listing` locked by the caller): places the
/// escrow order on its terms, closes the thread with it, and voids the other
/// open threads on the listing that the units left can no longer meet. If the
/// order cannot be placed (units gone), the error rolls all of it back and the
/// thread stays open.
pub async fn accept(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    thread: &ThreadRow,
    actor: Party,
    automatic: bool,
    now: DateTime<Utc>,
) -> Result<ThreadRow, ApiError> {
    check(thread, actor, Action::Accept, now)?;
    let version = queries::latest_version(conn, thread).await?;
    if version.ship_by.is_some_and(|at| at <= now) {
        return Err(ApiError::conflict(
            "offer_ship_by_passed",
            "The agreed ship-by date has passed; counter with a new one.",
        ));
    }
    let terms = AgreedTerms {
        offer_thread_id: thread.id,
        listing_id: thread.listing_id,
        buyer_id: thread.buyer_id,
        quantity: version.quantity,
        unit_price_cents: version.unit_price_cents,
        doa_allowance_pct: version.doa_allowance_pct,
        ship_by: version.ship_by,
        payment_method: thread.payment_method,
        shipping_address: serde_json::from_value(thread.shipping_address.clone()).map_err(anyhow::Error::from)?,
    };
    let order = agreed::place_agreed(ctx, conn, &terms, now).await?;
    let closing = Closing { status: ThreadStatus::Accepted, reason: None, note: None, order_id: Some(order.id) };
    let accepted = queries::close(conn, thread.id, closing, now).await?;
    let (change, by) = if automatic { (OfferChange::AutoAccepted, None) } else { (OfferChange::Accepted, Some(actor)) };
    super::notify::tell(conn, &accepted, change, by, now).await?;
    tracing::info!(offer.id = %thread.id, order.id = %order.id, automatic, "offer accepted");
    let left = crate::listings::queries::find(conn, thread.listing_id).await?.ok_or(diesel::NotFound)?;
    void(conn, &left, Some(left.quantity_available), "units_gone", now).await?;
    Ok(accepted)
}

/// Closes the thread without an order by `change` (declined, below the
/// floor, withdrawn or expired), made by `by` (the platform when `None`).
pub async fn close(
    conn: &mut AsyncPgConnection,
    thread: &ThreadRow,
    change: OfferChange,
    by: Option<Party>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<ThreadRow, ApiError> {
    let Some(to) = change.closing_status() else {
        return Err(anyhow::anyhow!("{change:?} does not close a thread without an order").into());
    };
    let reason = change.close_reason();
    let closing = Closing { status: to, reason: Some(reason), note, order_id: None };
    let closed = queries::close(conn, thread.id, closing, now).await?;
    super::notify::tell(conn, &closed, change, by, now).await?;
    tracing::info!(offer.id = %thread.id, to = to.as_str(), reason, "offer closed");
    Ok(closed)
}

/// Voids the listing's open threads asking for more than `available` units
/// (all of them when `None`) and tells both parties of each.
pub async fn void(
    conn: &mut AsyncPgConnection,
    listing: &ListingRow,
    available: Option<i32>,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let note = match reason {
        "units_gone" => format!("Only {} unit(s) are left on this listing.", listing.quantity_available.max(0)),
        _ => format!("The listing is no longer on sale ({}).", listing.status().as_str()),
    };
    let voided = queries::void_open(conn, listing.id, available, reason, &note, now).await?;
    for thread in &voided {
        super::notify::tell(conn, thread, OfferChange::Voided, None, now).await?;
    }
    if !voided.is_empty() {
        tracing::info!(listing.id = %listing.id, voided = voided.len(), reason, "offers voided");
    }
    Ok(voided.len())
}
