//! Writes the demo's accounts, lots, proofs and price cuts at their historic
//! timestamps. Each lot is created and published (with its first asking
//! observation) in one transaction, each price cut in another, as the listing
//! endpoints do; anything that already exists is left alone.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::scenario::{LotPlan, Person, Seller};
use crate::catalog::discount::discount_bps;
use crate::catalog::model::RigModelRow;
use crate::db::schema::{hashrate_proofs, listing_price_changes, listings, rig_models, users};
use crate::listings::lifecycle::ListingStatus;
use crate::listings::model::ListingRow;
use crate::listings::queries;
use crate::price_index::observations::{record_asking, AskingEvent};

/// The account's id: created (verified, with the demo password) when missing.
pub async fn ensure_account(
    conn: &mut AsyncPgConnection,
    person: &Person,
    roles: &[&str],
    password_hash: &str,
    created_at: DateTime<Utc>,
) -> QueryResult<(Uuid, bool)> {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let created = diesel::insert_into(users::table)
        .values((
            users::id.eq(person.id),
            users::email.eq(&person.email),
            users::password_hash.eq(password_hash),
            users::display_name.eq(&person.display_name),
            users::roles.eq(&roles),
            users::email_verified_at.eq(created_at),
            users::country.eq(person.country),
            users::company.eq(&person.company),
            users::created_at.eq(created_at),
            users::updated_at.eq(created_at),
        ))
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?
        == 1;
    let id = users::table.filter(users::email.eq(&person.email)).select(users::id).first(conn).await?;
    Ok((id, created))
}

pub async fn model_named(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<RigModelRow>> {
    rig_models::table.filter(rig_models::name.eq(name)).select(RigModelRow::as_select()).first(conn).await.optional()
}

/// `cents` rounded to whole $10, as sellers price lots.
fn round_to_ten_dollars(cents: i64) -> i64 {
    ((cents + 500) / 1000 * 1000).max(1000)
}

fn title(lot: &LotPlan, model: &RigModelRow, seller: &Seller) -> String {
    match &seller.hosting {
        Some(h) if lot.published_at < h.power_off_at => format!(
            "{}x {}, {}, must be out by {}",
            lot.quantity,
            model.name,
            h.facility,
            h.power_off_at.format("%b %-d")
        ),
        _ => format!("{}x {}, {} {}", lot.quantity, model.name, seller.person.city, seller.region),
    }
}

/// A verified listing proof that ended 12 hours before publication.
async fn insert_proof(
    conn: &mut AsyncPgConnection,
    lot: &LotPlan,
    seller_id: Uuid,
    model: &RigModelRow,
    ratio: f64,
) -> QueryResult<DateTime<Utc>> {
    let ended = lot.published_at - Duration::hours(12);
    let units = lot.quantity.min(4);
    let claimed = model.hashrate_hs.saturating_mul(i64::from(units));
    let estimate = claimed as f64 * ratio;
    let valid_until = ended + crate::proofs::model::VALIDITY;
    diesel::insert_into(hashrate_proofs::table)
        .values((
            hashrate_proofs::id.eq(Uuid::from_u128(lot.id.as_u128() ^ 0x0050_524f_4f46)),
            hashrate_proofs::listing_id.eq(lot.id),
            hashrate_proofs::requested_by.eq(seller_id),
            hashrate_proofs::purpose.eq("listing"),
            hashrate_proofs::token_hash.eq(crate::accounts::secret_token::digest(&format!("demo-proof-{}", lot.id))),
            hashrate_proofs::status.eq("verified"),
            hashrate_proofs::units.eq(units),
            hashrate_proofs::claimed_hashrate_hs.eq(claimed),
            hashrate_proofs::share_difficulty.eq(65_536.0),
            hashrate_proofs::duration_secs.eq(600),
            hashrate_proofs::challenge.eq(lot.id.as_bytes().to_vec()),
            hashrate_proofs::created_at.eq(ended - Duration::minutes(40)),
            hashrate_proofs::connect_deadline.eq(ended - Duration::minutes(10)),
            hashrate_proofs::started_at.eq(ended - Duration::minutes(10)),
            hashrate_proofs::ends_at.eq(ended),
            hashrate_proofs::ended_at.eq(ended),
            hashrate_proofs::shares_accepted.eq(1600),
            hashrate_proofs::estimated_hashrate_hs.eq(estimate),
            hashrate_proofs::ci95_low_hs.eq(estimate * 0.951),
            hashrate_proofs::ci95_high_hs.eq(estimate * 1.05),
            hashrate_proofs::ratio_to_claim.eq(ratio),
            hashrate_proofs::valid_until.eq(valid_until),
        ))
        .execute(conn)
        .await?;
    Ok(valid_until)
}

/// Creates and publishes a lot (with its proof and first asking observation) in
/// one transaction; `None` when it already exists or its model has no reference.
pub async fn publish_lot(
    conn: &mut AsyncPgConnection,
    lot: &LotPlan,
    seller: &Seller,
    seller_id: Uuid,
    fire_sale_threshold_bps: i64,
) -> anyhow::Result<Option<ListingRow>> {
    if queries::find(conn, lot.id).await?.is_some() {
        return Ok(None);
    }
    let Some(model) = model_named(conn, lot.model).await? else {
        return Ok(None);
    };
    let Some(reference) = queries::reference_for(conn, &model, lot.published_at).await? else {
        return Ok(None);
    };
    let price = round_to_ten_dollars(reference * (10_000 - lot.discount_bps) / 10_000);
    let at = lot.published_at;
    let hosting = seller.hosting.as_ref().filter(|h| at < h.power_off_at);
    conn.transaction(async |conn| {
        diesel::insert_into(listings::table)
            .values((
                listings::id.eq(lot.id),
                listings::seller_id.eq(seller_id),
                listings::rig_model_id.eq(model.id),
                listings::manufacturer_id.eq(model.manufacturer_id),
                listings::title.eq(title(lot, &model, seller)),
                listings::description.eq("Demo lot: air-cooled, stock firmware, PSUs included. Sold as a lot."),
                listings::status.eq(ListingStatus::Active.as_str()),
                listings::quantity.eq(lot.quantity),
                listings::unit_price_cents.eq(price),
                listings::country.eq(hosting.map_or(seller.person.country, |h| h.country)),
                listings::region.eq(seller.region),
                listings::incoterm.eq("EXW"),
                listings::lead_time_days.eq(3),
                listings::hosting_facility.eq(hosting.map(|h| h.facility.clone())),
                listings::hosting_country.eq(hosting.map(|h| h.country)),
                listings::hosting_contract_ends_on.eq(hosting.map(|h| h.contract_ends_on)),
                listings::power_off_at.eq(hosting.map(|h| h.power_off_at)),
                listings::model_hashrate_hs.eq(model.hashrate_hs),
                listings::model_efficiency_j_per_th.eq(model.efficiency_j_per_th),
                listings::model_tier.eq(&model.tier),
                listings::reference_unit_price_cents.eq(reference),
                listings::published_reference_unit_price_cents.eq(reference),
                listings::published_discount_bps.eq(discount_bps(price, Some(reference))),
                listings::created_at.eq(at - Duration::days(2)),
                listings::updated_at.eq(at),
                listings::submitted_at.eq(at - Duration::days(1)),
                listings::published_at.eq(at),
            ))
            .execute(conn)
            .await?;
        if let Some(ratio) = lot.proof_ratio {
            let until = insert_proof(conn, lot, seller_id, &model, ratio).await?;
            diesel::update(listings::table.find(lot.id))
                .set(listings::hashrate_verified_until.eq(until))
                .execute(conn)
                .await?;
        }
        let row = queries::find(conn, lot.id).await?.ok_or(diesel::NotFound)?;
        record_asking(conn, &row.lot_facts(at), AskingEvent::Published, row.asking_price(at), fire_sale_threshold_bps)
            .await?;
        Ok(Some(row))
    })
    .await
}

/// Cuts a live lot's price by `cut_bps` at `at` (its reference refreshed to that
/// day's, as the daily job would), with price history and an observation.
pub async fn cut_price(
    conn: &mut AsyncPgConnection,
    lot_id: Uuid,
    seller_id: Uuid,
    at: DateTime<Utc>,
    cut_bps: i64,
    fire_sale_threshold_bps: i64,
) -> anyhow::Result<bool> {
    conn.transaction(async |conn| {
        let Some(row) = queries::lock(conn, lot_id).await? else { return Ok(false) };
        if row.status() != ListingStatus::Active {
            return Ok(false);
        }
        let model: RigModelRow =
            rig_models::table.find(row.rig_model_id).select(RigModelRow::as_select()).first(conn).await?;
        let reference = queries::reference_for(conn, &model, at).await?;
        let price = round_to_ten_dollars(row.unit_price_cents * (10_000 - cut_bps) / 10_000);
        let updated: ListingRow = diesel::update(listings::table.find(lot_id))
            .set((
                listings::unit_price_cents.eq(price),
                listings::reference_unit_price_cents.eq(reference),
                listings::updated_at.eq(at),
            ))
            .returning(ListingRow::as_returning())
            .get_result(conn)
            .await?;
        diesel::insert_into(listing_price_changes::table)
            .values((
                listing_price_changes::listing_id.eq(lot_id),
                listing_price_changes::old_price_cents.eq(row.unit_price_cents),
                listing_price_changes::new_price_cents.eq(price),
                listing_price_changes::changed_by.eq(seller_id),
                listing_price_changes::changed_at.eq(at),
            ))
            .execute(conn)
            .await?;
        record_asking(
            conn,
            &updated.lot_facts(at),
            AskingEvent::PriceChanged,
            updated.asking_price(at),
            fire_sale_threshold_bps,
        )
        .await?;
        Ok(true)
    })
    .await
}

/// Ends a historic lot that still has units: withdrawn by the seller, or expired
/// at its hosting deadline.
pub async fn close_lot(conn: &mut AsyncPgConnection, lot: &LotPlan, at: DateTime<Utc>) -> QueryResult<()> {
    let status = if lot.withdrawn { ListingStatus::Withdrawn } else { ListingStatus::Expired };
    diesel::update(listings::table.find(lot.id).filter(listings::status.eq(ListingStatus::Active.as_str())))
        .set((listings::status.eq(status.as_str()), listings::updated_at.eq(at)))
        .execute(conn)
        .await?;
    Ok(())
}
