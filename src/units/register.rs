//! Registering a lot's units: a batch is written whole or not at all, under the
//! lot's lock. A serial another open lot holds refuses the batch
//! (`serial_in_open_lot`); when that lot is another seller's, both lots get a
//! `duplicate_serial` flag (written after the refusal, in a transaction of its
//! own, so the refused units leave nothing behind). A serial sold here within
//! 90 days by another seller flags the lot `resold_serial`; one reported
//! stolen flags it `stolen_serial` (neither refuses the units: both keep the
//! lot from the market until a moderator looks).

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{UnitRow, UnitStatus, UnitView, UnitsAdded};
use super::queries::{self, UnitChanges};
use super::rules::{self, NewUnit, RowProblem, UnitInput, MAX_UNITS_PER_CALL};
use crate::accounts::AuthUser;
use crate::db::ids::{ListingId, UserId};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::listings::model::ListingRow;
use crate::listings::serials::{self, SerialFlag};

/// How long a sold serial reappearing with another seller is suspicious.
pub const RESALE_WINDOW_DAYS: i64 = 90;

/// The rules that need no database, for a batch of `inputs` whose rows are
/// numbered by `row_of` (array index or CSV line).
pub fn check_inputs(inputs: &[UnitInput], row_of: impl Fn(usize) -> usize) -> ApiResult<Vec<NewUnit>> {
    if inputs.is_empty() || inputs.len() > MAX_UNITS_PER_CALL {
        return Err(ApiError::validation(
            "units",
            format!("send between 1 and {MAX_UNITS_PER_CALL} units (got {})", inputs.len()),
        ));
    }
    rules::check_batch(inputs.iter().enumerate().map(|(i, input)| (row_of(i), input))).map_err(ApiError::Validation)
}

/// How a batch of units is added.
pub struct Batch<'a> {
    /// The caller, who must own the lot; `None` for an operator at the command
    /// line, who acts for the lot's seller.
    pub seller: Option<&'a AuthUser>,
    /// Every check runs and nothing is written.
    pub dry_run: bool,
    /// Told the rows written so far, chunk by chunk.
    pub progress: &'a mut (dyn FnMut(usize) + Send),
}

/// Adds checked units to a lot. `row_of` numbers the rows in errors.
pub async fn add_units(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    new: Vec<NewUnit>,
    row_of: impl Fn(usize) -> usize + Sync,
    batch: Batch<'_>,
    now: DateTime<Utc>,
) -> ApiResult<UnitsAdded> {
    let Batch { seller, dry_run, progress } = batch;
    let mut held: Vec<UnitRow> = Vec::new();
    let mut lot_seller: Option<UserId> = None;
    let result = conn
        .transaction(async |conn| {
            let lot = serials::lock_for_units(conn, listing_id, seller).await?;
            lot_seller = Some(lot.seller_id);
            refuse_known_in_lot(conn, &lot, &new, &row_of).await?;
            let wanted: Vec<&str> = new.iter().map(|u| u.serial.as_str()).collect();
            held = still_held(conn, &wanted, dry_run, now).await?;
            if !held.is_empty() {
                return Err(in_open_lot(&held));
            }
            if dry_run {
                return Ok(UnitsAdded { lot_units: lot.serial_units + new.len() as i32, items: Vec::new() });
            }
            let written = queries::insert_units(conn, lot.id, lot.seller_id, &new, progress, now).await?;
            if written.len() < new.len() {
                // Another lot took a serial between our look and our insert.
                held = queries::holders(conn, &wanted).await?.into_iter().filter(|u| u.listing_id != lot.id).collect();
                return Err(in_open_lot(&held));
            }
            flag_suspicious(conn, &lot, &wanted, now).await?;
            let lot_after = serials::count_units(conn, &lot, written.len() as i32, now).await?;
            tracing::info!(listing.id = %lot.id, units = written.len(), "units registered");
            Ok(UnitsAdded {
                lot_units: lot_after.serial_units,
                items: written.into_iter().map(UnitView::from).collect(),
            })
        })
        .await;
    if let (Some(lot_seller), false) = (lot_seller, dry_run) {
        if result.as_ref().is_err_and(|e| e.code() == "serial_in_open_lot") {
            flag_duplicates(conn, listing_id, lot_seller, &held, now).await?;
        }
    }
    result
}

/// Serials or MACs already registered in this lot are bad rows too.
async fn refuse_known_in_lot(
    conn: &mut AsyncPgConnection,
    lot: &ListingRow,
    new: &[NewUnit],
    row_of: &(impl Fn(usize) -> usize + Sync),
) -> ApiResult<()> {
    let wanted: Vec<&str> = new.iter().map(|u| u.serial.as_str()).collect();
    let macs: Vec<&str> = new.iter().filter_map(|u| u.mac.as_deref()).collect();
    let known_serials = queries::serials_in_lot(conn, lot.id, &wanted).await?;
    let known_macs = if macs.is_empty() { Vec::new() } else { queries::macs_in_lot(conn, lot.id, &macs).await? };
    let mut errors: Vec<FieldError> = Vec::new();
    for (i, unit) in new.iter().enumerate() {
        if known_serials.contains(&unit.serial) {
            errors.push(RowProblem::AlreadyInLot.at(row_of(i), "serial"));
        }
        if unit.mac.as_ref().is_some_and(|mac| known_macs.contains(mac)) {
            errors.push(RowProblem::AlreadyInLot.at(row_of(i), "mac"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The units of other lots that still hold these serials. Units left behind
/// in lots that closed (withdrawn, expired, rejected) let go of theirs here.
async fn still_held(
    conn: &mut AsyncPgConnection,
    serials: &[&str],
    dry_run: bool,
    now: DateTime<Utc>,
) -> ApiResult<Vec<UnitRow>> {
    let holders = queries::holders(conn, serials).await?;
    if holders.is_empty() {
        return Ok(holders);
    }
    let lot_ids: Vec<ListingId> = holders.iter().map(|u| u.listing_id).collect();
    let open: Vec<ListingId> = serials::open_lots(conn, &lot_ids).await?.into_iter().map(|(id, _)| id).collect();
    let (held, stale): (Vec<UnitRow>, Vec<UnitRow>) = holders.into_iter().partition(|u| open.contains(&u.listing_id));
    if !stale.is_empty() && !dry_run {
        queries::release_holders(conn, &stale.iter().map(|u| u.id).collect::<Vec<Uuid>>(), now).await?;
    }
    Ok(held)
}

fn in_open_lot(held: &[UnitRow]) -> ApiError {
    let mut serials: Vec<&str> = held.iter().map(|u| u.serial.as_str()).collect();
    serials.sort_unstable();
    let shown = serials.iter().take(20).copied().collect::<Vec<_>>().join(", ");
    let more = if serials.len() > 20 { format!(" and {} more", serials.len() - 20) } else { String::new() };
    ApiError::conflict(
        "serial_in_open_lot",
        format!("{} serial(s) are already in another open lot: {shown}{more}.", serials.len()),
    )
}

/// Resold and stolen serials flag the lot (and hide it when it is live).
async fn flag_suspicious(
    conn: &mut AsyncPgConnection,
    lot: &ListingRow,
    serials: &[&str],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let since = now - Duration::days(RESALE_WINDOW_DAYS);
    for sold in queries::sold_since(conn, serials, since).await? {
        if sold.seller_id != lot.seller_id {
            let details =
                format!("Serial {} was sold on rigmarket in the last {RESALE_WINDOW_DAYS} days.", sold.serial);
            serials::raise(conn, lot.id, SerialFlag::ResoldSerial, &sold.serial, Some(sold.listing_id), &details, now)
                .await?;
        }
    }
    let stolen = queries::standing_reports(conn, serials).await?;
    for report in &stolen {
        let details = format!("Serial {} is reported stolen.", report.serial);
        serials::raise(conn, lot.id, SerialFlag::StolenSerial, &report.serial, None, &details, now).await?;
    }
    if !stolen.is_empty() {
        serials::hold_for_review(conn, lot.id, now).await?;
    }
    Ok(())
}

/// Links a refused lot and the other sellers' lots that hold its serials.
async fn flag_duplicates(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    seller: UserId,
    held: &[UnitRow],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let others: Vec<&UnitRow> = held.iter().filter(|u| u.seller_id != seller).collect();
    if others.is_empty() {
        return Ok(());
    }
    conn.transaction(async |conn| {
        for unit in others {
            let details = format!("Serial {} is in open lots of two sellers.", unit.serial);
            let (serial, other) = (unit.serial.as_str(), unit.listing_id);
            serials::raise(conn, listing_id, SerialFlag::DuplicateSerial, serial, Some(other), &details, now).await?;
            serials::raise(conn, other, SerialFlag::DuplicateSerial, serial, Some(listing_id), &details, now).await?;
        }
        Ok(())
    })
    .await
}

/// Checked changes to an available unit (`None` leaves a field as it is).
#[derive(Debug, Default)]
pub struct UnitEdit {
    pub changes: UnitChanges,
}

/// Locks an available unit of a lot of `seller`, or says why it cannot change.
async fn lock_available(
    conn: &mut AsyncPgConnection,
    seller: &AuthUser,
    listing_id: ListingId,
    serial: &str,
) -> ApiResult<(ListingRow, UnitRow)> {
    let lot = serials::lock_for_units(conn, listing_id, Some(seller)).await?;
    let unit = queries::lock_in_lot(conn, lot.id, serial).await?.ok_or_else(unit_not_found)?;
    if unit.status != UnitStatus::Available {
        return Err(ApiError::conflict(
            "unit_not_available",
            format!("Unit {serial} is {}; only available units change.", unit.status.as_str()),
        ));
    }
    Ok((lot, unit))
}

pub fn unit_not_found() -> ApiError {
    ApiError::not_found("unit_not_found", "The lot has no unit with this serial.")
}

/// Changes an available unit of a lot of `seller`.
pub async fn update_unit(
    conn: &mut AsyncPgConnection,
    seller: &AuthUser,
    listing_id: ListingId,
    serial: &str,
    mut edit: UnitEdit,
    now: DateTime<Utc>,
) -> ApiResult<UnitView> {
    conn.transaction(async |conn| {
        let (lot, unit) = lock_available(conn, seller, listing_id, serial).await?;
        if let Some(Some(mac)) = &edit.changes.mac {
            let taken = queries::macs_in_lot(conn, lot.id, &[mac.as_str()]).await?;
            if !taken.is_empty() && unit.mac.as_deref() != Some(mac.as_str()) {
                return Err(ApiError::Validation(vec![RowProblem::AlreadyInLot.at(0, "mac")]));
            }
        }
        edit.changes.updated_at = Some(now);
        Ok(queries::update_unit(conn, unit.id, &edit.changes).await?.into())
    })
    .await
}

/// Removes an available unit from a lot of `seller` (a live lot's quantity
/// goes down with it).
pub async fn delete_unit(
    conn: &mut AsyncPgConnection,
    seller: &AuthUser,
    listing_id: ListingId,
    serial: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    conn.transaction(async |conn| {
        let (lot, unit) = lock_available(conn, seller, listing_id, serial).await?;
        queries::delete_unit(conn, unit.id).await?;
        serials::count_units(conn, &lot, -1, now).await?;
        Ok(())
    })
    .await
}
