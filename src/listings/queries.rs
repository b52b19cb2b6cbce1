//! SQL on the `listings` rows and their price history; each function takes a
//! connection so use cases compose them in one transaction. Photos, condition
//! reports and flags have their own query modules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::input::{self, CreateListing, UpdateListing};
use super::lifecycle::ListingStatus;
use super::model::{ListingRow, PriceChange};
use super::offer_settings::OfferSettings;
use crate::catalog::model::RigModelRow;
use crate::catalog::queries::effective_reference;
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::{listing_price_changes, listings};

pub async fn find(conn: &mut AsyncPgConnection, id: ListingId) -> QueryResult<Option<ListingRow>> {
    listings::table.find(id).select(ListingRow::as_select()).first(conn).await.optional()
}

/// Locks the listing row for the rest of the transaction (every state change
/// and every reservation goes through this lock). `FOR NO KEY UPDATE`: rows
/// that reference the listing (an order being placed holds a key-share lock on
/// it through its foreign key) neither block it nor deadlock with it.
pub async fn lock(conn: &mut AsyncPgConnection, id: ListingId) -> QueryResult<Option<ListingRow>> {
    listings::table.find(id).select(ListingRow::as_select()).for_no_key_update().first(conn).await.optional()
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    status: ListingStatus,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    diesel::update(listings::table.find(id))
        .set((listings::status.eq(status.as_str()), listings::updated_at.eq(now)))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// Inserts a draft lot of `model` as the seller described it (`body` already
/// normalised and validated), with the model's specs and reference copied on.
pub async fn insert_draft(
    conn: &mut AsyncPgConnection,
    seller_id: UserId,
    body: &CreateListing,
    model: &RigModelRow,
    reference: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    let (facility, hosting_country, contract_ends_on, power_off_at) = input::hosting_columns(body.hosting.as_ref());
    let offers = OfferSettings::DEFAULT.with(&body.offers.clone().unwrap_or_default());
    diesel::insert_into(listings::table)
        .values((
            listings::id.eq(Uuid::now_v7()),
            listings::seller_id.eq(seller_id),
            listings::rig_model_id.eq(model.id),
            listings::manufacturer_id.eq(model.manufacturer_id),
            listings::title.eq(body.title.trim()),
            listings::description.eq(&body.description),
            listings::status.eq(ListingStatus::Draft.as_str()),
            listings::quantity.eq(body.quantity),
            listings::unit_price_cents.eq(body.unit_price_cents),
            listings::country.eq(&body.country),
            listings::region.eq(body.region.as_deref().map(str::trim)),
            listings::incoterm.eq(body.incoterm.map(|i| i.as_str())),
            listings::lead_time_days.eq(body.lead_time_days),
            listings::inspection_days.eq(body.inspection_days.unwrap_or(3)),
            listings::doa_allowance_pct.eq(body.doa_allowance_pct.unwrap_or(0)),
            listings::serial_numbers.eq(&body.serial_numbers),
            listings::hosting_facility.eq(facility),
            listings::hosting_country.eq(hosting_country),
            listings::hosting_contract_ends_on.eq(contract_ends_on),
            listings::power_off_at.eq(power_off_at),
            listings::model_hashrate_hs.eq(model.hashrate_hs),
            listings::model_efficiency_j_per_th.eq(model.efficiency_j_per_th),
            listings::model_tier.eq(&model.tier),
            listings::reference_unit_price_cents.eq(reference),
            offer_columns(offers),
            listings::created_at.eq(now),
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// An edit that moves a listing to another rig model: the model, whose specs
/// are copied onto the listing, and that model's reference today.
pub struct ModelChange {
    pub model: RigModelRow,
    pub reference: Option<i64>,
}

/// Writes an edit (`body` already normalised and validated): absent fields stay
/// as they are.
pub async fn apply_edit(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    body: &UpdateListing,
    model_change: Option<&ModelChange>,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    let hosting = body.hosting.as_ref().map(|h| input::hosting_columns(h.as_ref()));
    let offers = match &body.offers {
        Some(offers) => {
            Some(offer_columns(find(conn, id).await?.ok_or(diesel::NotFound)?.offer_settings().with(offers)))
        }
        None => None,
    };
    diesel::update(listings::table.find(id))
        .set((
            model_change.map(|ModelChange { model: m, reference }| {
                (
                    listings::rig_model_id.eq(m.id),
                    listings::manufacturer_id.eq(m.manufacturer_id),
                    listings::model_hashrate_hs.eq(m.hashrate_hs),
                    listings::model_efficiency_j_per_th.eq(m.efficiency_j_per_th),
                    listings::model_tier.eq(m.tier.clone()),
                    listings::reference_unit_price_cents.eq(*reference),
                )
            }),
            body.title.as_deref().map(|t| listings::title.eq(t.trim().to_string())),
            body.description.clone().map(|d| listings::description.eq(d)),
            body.quantity.map(|q| listings::quantity.eq(q)),
            body.unit_price_cents.map(|p| listings::unit_price_cents.eq(p)),
            body.country.clone().map(|c| listings::country.eq(c)),
            body.region.clone().map(|r| listings::region.eq(r.map(|r| r.trim().to_string()))),
            body.incoterm.map(|i| listings::incoterm.eq(i.map(|i| i.as_str()))),
            body.lead_time_days.map(|d| listings::lead_time_days.eq(d)),
            body.inspection_days.map(|d| listings::inspection_days.eq(d)),
            body.doa_allowance_pct.map(|d| listings::doa_allowance_pct.eq(d)),
            body.serial_numbers.clone().map(|s| listings::serial_numbers.eq(s)),
            hosting.map(|(facility, country, ends, off)| {
                (
                    listings::hosting_facility.eq(facility),
                    listings::hosting_country.eq(country),
                    listings::hosting_contract_ends_on.eq(ends),
                    listings::power_off_at.eq(off),
                )
            }),
            offers,
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// The offer settings as columns to write.
#[allow(clippy::type_complexity)]
fn offer_columns(
    offers: OfferSettings,
) -> (
    diesel::dsl::Eq<listings::offers_enabled, bool>,
    diesel::dsl::Eq<listings::offer_floor_unit_price_cents, Option<i64>>,
    diesel::dsl::Eq<listings::offer_floor_discount_pct, Option<i32>>,
    diesel::dsl::Eq<listings::auto_accept_unit_price_cents, Option<i64>>,
) {
    (
        listings::offers_enabled.eq(offers.enabled),
        listings::offer_floor_unit_price_cents.eq(offers.floor_unit_price_cents),
        listings::offer_floor_discount_pct.eq(offers.floor_discount_pct),
        listings::auto_accept_unit_price_cents.eq(offers.auto_accept_unit_price_cents),
    )
}

/// Sends a listing to review: its new status and the submission time, by which
/// the moderation queue is ordered.
pub async fn mark_submitted(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    status: ListingStatus,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    diesel::update(listings::table.find(id))
        .set((listings::status.eq(status.as_str()), listings::updated_at.eq(now), listings::submitted_at.eq(now)))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// The reference and discount a listing is published with, frozen from then on.
pub struct Publication {
    pub reference_unit_price_cents: Option<i64>,
    pub discount_bps: Option<i64>,
}

/// Puts a listing on the market (clearing an earlier rejection's reason).
pub async fn mark_published(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    status: ListingStatus,
    publication: Publication,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    diesel::update(listings::table.find(id))
        .set((
            listings::status.eq(status.as_str()),
            listings::published_at.eq(now),
            listings::published_reference_unit_price_cents.eq(publication.reference_unit_price_cents),
            listings::published_discount_bps.eq(publication.discount_bps),
            listings::rejection_reason.eq(None::<String>),
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// Turns a listing down (in review) or takes it off the market (after a flag),
/// with the reason its seller sees.
pub async fn mark_rejected(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    status: ListingStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    diesel::update(listings::table.find(id))
        .set((
            listings::status.eq(status.as_str()),
            listings::rejection_reason.eq(reason),
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}

/// Keeps the grade of the latest condition report on the listing, for search.
pub async fn set_latest_condition_grade(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    grade: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(listings::table.find(id))
        .set((listings::latest_condition_grade.eq(grade), listings::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// The model's effective reference today, copied onto the listing.
pub async fn reference_for(
    conn: &mut AsyncPgConnection,
    model: &RigModelRow,
    now: DateTime<Utc>,
) -> QueryResult<Option<i64>> {
    Ok(effective_reference(conn, model, now.date_naive()).await?.map(|r| r.unit_price_cents))
}

/// A listing's price changes oldest first, from after the change `after` (ids
/// grow with time), at most `limit`.
pub async fn price_history(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<PriceChange>> {
    listing_price_changes::table
        .filter(listing_price_changes::listing_id.eq(listing_id))
        .filter(listing_price_changes::id.gt(after.unwrap_or(i64::MIN)))
        .order(listing_price_changes::id.asc())
        .limit(limit)
        .select(PriceChange::as_select())
        .load(conn)
        .await
}

/// A published listing's price moved.
pub async fn insert_price_change(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    old_price_cents: i64,
    new_price_cents: i64,
    changed_by: UserId,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(listing_price_changes::table)
        .values((
            listing_price_changes::listing_id.eq(listing_id),
            listing_price_changes::old_price_cents.eq(old_price_cents),
            listing_price_changes::new_price_cents.eq(new_price_cents),
            listing_price_changes::changed_by.eq(changed_by),
            listing_price_changes::changed_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The moderation queue: oldest submission first, paged by `(submitted_at, id)`.
pub async fn by_status(
    conn: &mut AsyncPgConnection,
    status: ListingStatus,
    after: Option<(Option<DateTime<Utc>>, ListingId)>,
    limit: i64,
) -> QueryResult<Vec<ListingRow>> {
    let mut query = listings::table
        .filter(listings::status.eq(status.as_str()))
        .order((listings::submitted_at.asc().nulls_first(), listings::id.asc()))
        .limit(limit)
        .select(ListingRow::as_select())
        .into_boxed();
    match after {
        Some((Some(at), id)) => {
            query =
                query.filter(listings::submitted_at.gt(at).or(listings::submitted_at.eq(at).and(listings::id.gt(id))))
        }
        Some((None, id)) => {
            query = query.filter(
                listings::submitted_at.is_not_null().or(listings::submitted_at.is_null().and(listings::id.gt(id))),
            )
        }
        None => {}
    }
    query.load(conn).await
}

pub async fn of_seller(
    conn: &mut AsyncPgConnection,
    seller: UserId,
    before: Option<ListingId>,
    limit: i64,
) -> QueryResult<Vec<ListingRow>> {
    let mut query = listings::table
        .filter(listings::seller_id.eq(seller))
        .order(listings::id.desc())
        .limit(limit)
        .select(ListingRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(listings::id.lt(before));
    }
    query.load(conn).await
}

/// Titles of many listings in one query.
pub async fn titles(
    mut conn: &AsyncPgConnection,
    ids: &[ListingId],
) -> QueryResult<std::collections::HashMap<ListingId, String>> {
    Ok(listings::table
        .filter(listings::id.eq_any(ids))
        .select((listings::id, listings::title))
        .load::<(ListingId, String)>(&mut conn)
        .await?
        .into_iter()
        .collect())
}
