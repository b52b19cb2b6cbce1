//! What a lot sold by serial needs from the listings: the units (a capability
//! above) register and remove units under the lot's lock through here, raise
//! the platform's own flags (`duplicate_serial`, `resold_serial`,
//! `stolen_serial`) and hide a live lot that holds a stolen serial. The rules
//! that keep such a lot off the market until reviewed are checked here too, so
//! submission and publication need not ask the units anything.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::access::{lock_existing, lock_owned, wrong_status};
use super::lifecycle::{next_status, Actor, ListingStatus, Transition};
use super::model::{FlagStatus, ListingRow};
use super::stock::sync_sold_out;
use crate::accounts::AuthUser;
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::{listing_flags, listings};
use crate::error::{ApiError, ApiResult};

/// Why the platform flags a lot about one of its serials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialFlag {
    /// The serial is also in another seller's open lot.
    DuplicateSerial,
    /// The serial was sold here within 90 days and a different seller lists it.
    ResoldSerial,
    /// An admin recorded the serial as reported stolen.
    StolenSerial,
}

impl SerialFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DuplicateSerial => "duplicate_serial",
            Self::ResoldSerial => "resold_serial",
            Self::StolenSerial => "stolen_serial",
        }
    }
}

/// Locks a lot its owner is adding units to or changing units of: drafts,
/// rejected lots and live ones (adding to a live lot restocks it). `seller` is
/// `None` for an operator at the command line, who acts for the lot's seller.
pub async fn lock_for_units(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    seller: Option<&AuthUser>,
) -> ApiResult<ListingRow> {
    let row = match seller {
        Some(seller) => lock_owned(conn, id, seller).await?,
        None => lock_existing(conn, id).await?,
    };
    match row.status() {
        ListingStatus::Draft | ListingStatus::Rejected | ListingStatus::Active | ListingStatus::SoldOut => Ok(row),
        _ => Err(wrong_status(&row, "given units")),
    }
}

/// Counts `delta` units in or out of a locked lot. A live lot's quantity moves
/// with them, so its available quantity stays its count of available units; a
/// draft's quantity is the seller's to set (publication checks they match).
pub async fn count_units(
    conn: &mut AsyncPgConnection,
    row: &ListingRow,
    delta: i32,
    now: DateTime<Utc>,
) -> ApiResult<ListingRow> {
    let live = matches!(row.status(), ListingStatus::Active | ListingStatus::SoldOut);
    if live && !row.sold_by_serial() {
        return Err(ApiError::conflict(
            "lot_not_sold_by_serial",
            "This live lot is sold by count; register units while a lot is a draft.",
        ));
    }
    let quantity_delta = if live { delta } else { 0 };
    if row.quantity + quantity_delta < 1 {
        return Err(ApiError::conflict("last_unit", "A live lot keeps at least one unit; withdraw it instead."));
    }
    let updated = diesel::update(listings::table.find(row.id))
        .set((
            listings::serial_units.eq(listings::serial_units + delta),
            listings::quantity.eq(listings::quantity + quantity_delta),
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(sync_sold_out(conn, updated, now).await?)
}

/// Whether each lot is still open for its units (not withdrawn, expired or
/// rejected): a unit in a closed lot no longer holds its serial.
pub async fn open_lots(conn: &mut AsyncPgConnection, ids: &[ListingId]) -> QueryResult<Vec<(ListingId, UserId)>> {
    let open = [ListingStatus::Draft, ListingStatus::PendingReview, ListingStatus::Active, ListingStatus::SoldOut];
    listings::table
        .filter(listings::id.eq_any(ids))
        .filter(listings::status.eq_any(open.map(ListingStatus::as_str)))
        .select((listings::id, listings::seller_id))
        .load(conn)
        .await
}

/// Which of these lots anyone may see (for the public serial registry).
pub async fn public_lots(conn: &mut AsyncPgConnection, ids: &[ListingId]) -> QueryResult<Vec<ListingId>> {
    let public = ListingStatus::ALL.iter().filter(|s| s.is_public()).map(|s| s.as_str());
    listings::table
        .filter(listings::id.eq_any(ids))
        .filter(listings::status.eq_any(public.collect::<Vec<_>>()))
        .select(listings::id)
        .load(conn)
        .await
}

/// Which of these lots are on the market now (active or sold out).
pub async fn live_lots(conn: &mut AsyncPgConnection, ids: &[ListingId]) -> QueryResult<Vec<ListingId>> {
    listings::table
        .filter(listings::id.eq_any(ids))
        .filter(listings::status.eq_any([ListingStatus::Active.as_str(), ListingStatus::SoldOut.as_str()]))
        .select(listings::id)
        .load(conn)
        .await
}

/// Raises an open platform flag on a lot about one serial, once: a second
/// identical open flag is not added.
pub async fn raise(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    flag: SerialFlag,
    serial: &str,
    related: Option<ListingId>,
    details: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(listing_flags::table)
        .values((
            listing_flags::id.eq(Uuid::now_v7()),
            listing_flags::listing_id.eq(listing_id),
            listing_flags::reason.eq(flag.as_str()),
            listing_flags::serial.eq(serial),
            listing_flags::related_listing_id.eq(related),
            listing_flags::details.eq(details),
            listing_flags::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Dismisses the open flags of this kind about `serial` on every lot (a stolen
/// report revoked), as `admin` with `note`.
pub async fn dismiss(
    conn: &mut AsyncPgConnection,
    flag: SerialFlag,
    serial: &str,
    admin: UserId,
    note: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        listing_flags::table
            .filter(listing_flags::reason.eq(flag.as_str()))
            .filter(listing_flags::serial.eq(serial))
            .filter(listing_flags::status.eq(FlagStatus::Open)),
    )
    .set((
        listing_flags::status.eq(FlagStatus::Dismissed),
        listing_flags::resolved_by.eq(admin),
        listing_flags::resolved_at.eq(now),
        listing_flags::resolution_note.eq(note),
    ))
    .execute(conn)
    .await
}

/// Takes a live lot off the market back to review (it holds a stolen serial);
/// other statuses are left as they are.
pub async fn hold_for_review(conn: &mut AsyncPgConnection, id: ListingId, now: DateTime<Utc>) -> QueryResult<()> {
    let Some(row) = super::queries::lock(conn, id).await? else {
        return Ok(());
    };
    if let Some(next) = next_status(row.status(), Transition::HoldForReview, Actor::System) {
        super::queries::set_status(conn, id, next, now).await?;
        tracing::info!(listing.id = %id, "live lot held for review: it holds a serial reported stolen");
    }
    Ok(())
}

/// The open platform flags of these kinds on a lot.
async fn open_flags(conn: &mut AsyncPgConnection, id: ListingId, kinds: &[SerialFlag]) -> QueryResult<Vec<String>> {
    listing_flags::table
        .filter(listing_flags::listing_id.eq(id))
        .filter(listing_flags::status.eq(FlagStatus::Open))
        .filter(listing_flags::reason.eq_any(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()))
        .select(listing_flags::reason)
        .load(conn)
        .await
}

/// What a lot sold by serial needs before it is submitted (`publishing`
/// false) or published (true): units for the whole quantity, no serial
/// reported stolen, and (to publish) no resold serial still under review.
pub async fn check_ready(conn: &mut AsyncPgConnection, row: &ListingRow, publishing: bool) -> ApiResult<()> {
    if row.sold_by_serial() && row.serial_units != row.quantity {
        return Err(ApiError::conflict(
            "units_incomplete",
            format!("The lot has {} registered unit(s) for a quantity of {}.", row.serial_units, row.quantity),
        ));
    }
    let kinds: &[SerialFlag] =
        if publishing { &[SerialFlag::StolenSerial, SerialFlag::ResoldSerial] } else { &[SerialFlag::StolenSerial] };
    let open = open_flags(conn, row.id, kinds).await?;
    if open.iter().any(|r| r == SerialFlag::StolenSerial.as_str()) {
        return Err(ApiError::conflict("serial_reported_stolen", "The lot holds a serial reported stolen."));
    }
    if !open.is_empty() {
        return Err(ApiError::conflict(
            "serial_under_review",
            "A serial of this lot was sold recently by another seller; a moderator must review it first.",
        ));
    }
    Ok(())
}
