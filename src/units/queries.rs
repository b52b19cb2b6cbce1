//! SQL on `units` and `serial_reports`. A unit holds its serial while
//! `in_open_lot` (a partial unique index keeps one such unit per serial).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{SerialReportView, UnitRow, UnitStatus};
use super::rules::NewUnit;
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::{serial_reports, units};

/// Rows per INSERT: 16 columns each stay well under PostgreSQL's 65,535 binds.
const INSERT_CHUNK: usize = 1_000;

/// Inserts units of a lot; a serial another lot holds meanwhile (or still) is
/// skipped rather than failing the statement. Answers the rows written.
pub async fn insert_units(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    seller_id: UserId,
    new: &[NewUnit],
    progress: &mut (dyn FnMut(usize) + Send),
    now: DateTime<Utc>,
) -> QueryResult<Vec<UnitRow>> {
    let mut written = Vec::with_capacity(new.len());
    for chunk in new.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|unit| {
                (
                    units::id.eq(Uuid::now_v7()),
                    units::listing_id.eq(listing_id),
                    units::seller_id.eq(seller_id),
                    units::serial.eq(&unit.serial),
                    units::mac.eq(unit.mac.as_deref()),
                    units::hashboard_serials.eq(&unit.hashboard_serials),
                    units::psu_serial.eq(unit.psu_serial.as_deref()),
                    units::grade.eq(unit.grade.as_deref()),
                    units::hashboards_working.eq(unit.hashboards_working),
                    units::notes.eq(unit.notes.as_deref()),
                    units::created_at.eq(now),
                    units::updated_at.eq(now),
                )
            })
            .collect();
        let mut inserted = diesel::insert_into(units::table)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(UnitRow::as_returning())
            .get_results(conn)
            .await?;
        written.append(&mut inserted);
        progress(written.len());
    }
    Ok(written)
}

/// Which of `serials` are already registered in the lot.
pub async fn serials_in_lot(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    serials: &[&str],
) -> QueryResult<Vec<String>> {
    units::table
        .filter(units::listing_id.eq(listing_id))
        .filter(units::serial.eq_any(serials))
        .select(units::serial)
        .load(conn)
        .await
}

/// Which of `macs` are already registered in the lot.
pub async fn macs_in_lot(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    macs: &[&str],
) -> QueryResult<Vec<String>> {
    units::table
        .filter(units::listing_id.eq(listing_id))
        .filter(units::mac.eq_any(macs))
        .select(units::mac.assume_not_null())
        .load(conn)
        .await
}

/// The units holding any of `serials` (one per serial at most).
pub async fn holders(conn: &mut AsyncPgConnection, serials: &[&str]) -> QueryResult<Vec<UnitRow>> {
    units::table
        .filter(units::in_open_lot)
        .filter(units::serial.eq_any(serials))
        .select(UnitRow::as_select())
        .load(conn)
        .await
}

/// Lets go of the serials units still hold in lots that closed.
pub async fn release_holders(
    conn: &mut AsyncPgConnection,
    unit_ids: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(units::table.filter(units::id.eq_any(unit_ids)))
        .set((units::in_open_lot.eq(false), units::updated_at.eq(now)))
        .execute(conn)
        .await
}

/// Units of `serials` sold (accepted by a buyer) since `since`.
pub async fn sold_since(
    conn: &mut AsyncPgConnection,
    serials: &[&str],
    since: DateTime<Utc>,
) -> QueryResult<Vec<UnitRow>> {
    units::table
        .filter(units::serial.eq_any(serials))
        .filter(units::sold_at.ge(since))
        .select(UnitRow::as_select())
        .load(conn)
        .await
}

/// One page of a lot's units in serial order, after `after`, of `status` if given.
pub async fn page(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    status: Option<UnitStatus>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<UnitRow>> {
    let mut query = units::table
        .filter(units::listing_id.eq(listing_id))
        .order(units::serial.asc())
        .limit(limit)
        .select(UnitRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(units::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(units::serial.gt(after));
    }
    query.load(conn).await
}

/// A unit of a lot by serial, locked for the rest of the transaction.
pub async fn lock_in_lot(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    serial: &str,
) -> QueryResult<Option<UnitRow>> {
    units::table
        .filter(units::listing_id.eq(listing_id))
        .filter(units::serial.eq(serial))
        .select(UnitRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// What a seller may change of a unit that is still available.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = units)]
pub struct UnitChanges {
    pub mac: Option<Option<String>>,
    pub hashboard_serials: Option<Vec<String>>,
    pub psu_serial: Option<Option<String>>,
    pub grade: Option<Option<String>>,
    pub hashboards_working: Option<Option<i32>>,
    pub notes: Option<Option<String>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub async fn update_unit(conn: &mut AsyncPgConnection, id: Uuid, changes: &UnitChanges) -> QueryResult<UnitRow> {
    diesel::update(units::table.find(id)).set(changes).returning(UnitRow::as_returning()).get_result(conn).await
}

pub async fn delete_unit(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(units::table.find(id)).execute(conn).await
}

/// Every unit ever registered with `serial`, latest change first.
pub async fn history(conn: &mut AsyncPgConnection, serial: &str) -> QueryResult<Vec<UnitRow>> {
    units::table
        .filter(units::serial.eq(serial))
        .order(units::updated_at.desc())
        .select(UnitRow::as_select())
        .load(conn)
        .await
}

/// The standing (not revoked) reports among `serials`.
pub async fn standing_reports(conn: &mut AsyncPgConnection, serials: &[&str]) -> QueryResult<Vec<SerialReportView>> {
    serial_reports::table
        .filter(serial_reports::serial.eq_any(serials))
        .filter(serial_reports::revoked_at.is_null())
        .select(SerialReportView::as_select())
        .load(conn)
        .await
}

/// Records a report; `None` when one already stands for the serial.
pub async fn insert_report(
    conn: &mut AsyncPgConnection,
    serial: &str,
    note: &str,
    admin: UserId,
    now: DateTime<Utc>,
) -> QueryResult<Option<SerialReportView>> {
    diesel::insert_into(serial_reports::table)
        .values((
            serial_reports::id.eq(Uuid::now_v7()),
            serial_reports::serial.eq(serial),
            serial_reports::note.eq(note),
            serial_reports::reported_by.eq(admin),
            serial_reports::reported_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .returning(SerialReportView::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Revokes the standing report of a serial; `None` when none stands.
pub async fn revoke_report(
    conn: &mut AsyncPgConnection,
    serial: &str,
    admin: UserId,
    now: DateTime<Utc>,
) -> QueryResult<Option<SerialReportView>> {
    diesel::update(
        serial_reports::table.filter(serial_reports::serial.eq(serial)).filter(serial_reports::revoked_at.is_null()),
    )
    .set((serial_reports::revoked_by.eq(admin), serial_reports::revoked_at.eq(now)))
    .returning(SerialReportView::as_returning())
    .get_result(conn)
    .await
    .optional()
}
