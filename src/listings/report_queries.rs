//! SQL on `condition_reports`: versioned per listing and append-only (there is
//! no update or delete here on purpose).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::input::{ConditionReportInput, Cooling, CosmeticGrade, Firmware};
use super::model::ConditionReport;
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::condition_reports;

/// A listing's reports newest first, from before version `before`, at most `limit`.
pub async fn condition_reports(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    before: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<ConditionReport>> {
    condition_reports::table
        .filter(condition_reports::listing_id.eq(listing_id))
        .filter(condition_reports::version.lt(before.unwrap_or(i32::MAX)))
        .order(condition_reports::version.desc())
        .limit(limit)
        .select(ConditionReport::as_select())
        .load(conn)
        .await
}

pub async fn next_report_version(conn: &mut AsyncPgConnection, listing_id: ListingId) -> QueryResult<i32> {
    let latest: Option<i32> = condition_reports::table
        .filter(condition_reports::listing_id.eq(listing_id))
        .select(diesel::dsl::max(condition_reports::version))
        .first(conn)
        .await?;
    Ok(latest.unwrap_or(0) + 1)
}

/// Who wrote a report, in what capacity, and which version of the listing's
/// reports it is.
pub struct ReportAuthorship {
    pub listing_id: ListingId,
    pub version: i32,
    pub author_id: UserId,
    /// `seller` or `inspector`.
    pub author_role: &'static str,
}

pub async fn insert_report(
    conn: &mut AsyncPgConnection,
    authorship: ReportAuthorship,
    body: &ConditionReportInput,
    now: DateTime<Utc>,
) -> QueryResult<ConditionReport> {
    diesel::insert_into(condition_reports::table)
        .values((
            condition_reports::id.eq(Uuid::now_v7()),
            condition_reports::listing_id.eq(authorship.listing_id),
            condition_reports::version.eq(authorship.version),
            condition_reports::author_id.eq(authorship.author_id),
            condition_reports::author_role.eq(authorship.author_role),
            condition_reports::cosmetic_grade.eq(grade(body.cosmetic_grade)),
            condition_reports::hashboards_total.eq(body.hashboards_total),
            condition_reports::hashboards_working.eq(body.hashboards_working),
            condition_reports::fans_total.eq(body.fans_total),
            condition_reports::fans_working.eq(body.fans_working),
            condition_reports::psu_included.eq(body.psu_included),
            condition_reports::psu_model.eq(&body.psu_model),
            condition_reports::firmware.eq(firmware(body.firmware)),
            condition_reports::firmware_version.eq(&body.firmware_version),
            condition_reports::cooling_history.eq(cooling(body.cooling_history)),
            condition_reports::operating_hours.eq(body.operating_hours),
            condition_reports::last_hashrate_hs.eq(body.last_hashrate_hs),
            condition_reports::last_power_w.eq(body.last_power_w),
            condition_reports::max_chip_temp_c.eq(body.max_chip_temp_c),
            condition_reports::repairs.eq(&body.repairs),
            condition_reports::notes.eq(&body.notes),
            condition_reports::created_at.eq(now),
        ))
        .returning(ConditionReport::as_returning())
        .get_result(conn)
        .await
}

fn grade(g: CosmeticGrade) -> &'static str {
    match g {
        CosmeticGrade::A => "A",
        CosmeticGrade::B => "B",
        CosmeticGrade::C => "C",
        CosmeticGrade::D => "D",
    }
}

fn firmware(f: Firmware) -> &'static str {
    match f {
        Firmware::Stock => "stock",
        Firmware::Custom => "custom",
    }
}

fn cooling(c: Cooling) -> &'static str {
    match c {
        Cooling::Air => "air",
        Cooling::Hydro => "hydro",
        Cooling::Immersion => "immersion",
    }
}
