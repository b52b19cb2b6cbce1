//! Turning listing rows into the JSON buyers see, in batches: one query each for
//! sellers, models, latest condition reports and photos, whatever the page size.

use std::collections::HashMap;
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::catalog::discount::{bps_to_pct, is_fire_sale};
use super::model::{
    ConditionSummary, Currency, Hosting, Incoterm, ListingModelSummary, ListingRow, ListingView, PhotoRow, PhotoView,
    SellerSummary,
};
use crate::catalog::tiers::EfficiencyTier;
use crate::db::schema::{condition_reports, listing_photos, manufacturers, rig_models, users};
use crate::proofs::records::ProofRow;
use crate::state::AppState;

const PHOTO_URL_TTL: Duration = Duration::from_secs(15 * 60);

fn incoterm(text: &str) -> Option<Incoterm> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
}

pub async fn render(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    rows: Vec<ListingRow>,
) -> anyhow::Result<Vec<ListingView>> {
    let listing_ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let seller_ids: Vec<Uuid> = rows.iter().map(|r| r.seller_id).collect();
    let model_ids: Vec<Uuid> = rows.iter().map(|r| r.rig_model_id).collect();

    let sellers: HashMap<Uuid, String> = users::table
        .filter(users::id.eq_any(&seller_ids))
        .select((users::id, users::display_name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let reputations = crate::orders::reviews::seller_reputations(conn, &seller_ids).await?;
    let models: HashMap<Uuid, (String, String, i32)> = rig_models::table
        .inner_join(manufacturers::table)
        .filter(rig_models::id.eq_any(&model_ids))
        .select((rig_models::id, manufacturers::name, rig_models::name, rig_models::power_w))
        .load::<(Uuid, String, String, i32)>(conn)
        .await?
        .into_iter()
        .map(|(id, maker, name, power)| (id, (maker, name, power)))
        .collect();
    let conditions: HashMap<Uuid, ConditionSummary> = condition_reports::table
        .filter(condition_reports::listing_id.eq_any(&listing_ids))
        .order((condition_reports::listing_id, condition_reports::version.desc()))
        .distinct_on(condition_reports::listing_id)
        .select((
            condition_reports::listing_id,
            condition_reports::id,
            condition_reports::version,
            condition_reports::cosmetic_grade,
            condition_reports::hashboards_working,
            condition_reports::hashboards_total,
            condition_reports::fans_working,
            condition_reports::fans_total,
            condition_reports::author_role,
            condition_reports::created_at,
        ))
        .load::<(Uuid, Uuid, i32, String, i32, i32, i32, i32, String, chrono::DateTime<chrono::Utc>)>(conn)
        .await?
        .into_iter()
        .map(|(listing_id, report_id, version, grade, hb_w, hb_t, f_w, f_t, role, at)| {
            (
                listing_id,
                ConditionSummary {
                    report_id,
                    version,
                    cosmetic_grade: grade,
                    hashboards_working: hb_w,
                    hashboards_total: hb_t,
                    fans_working: f_w,
                    fans_total: f_t,
                    author_role: role,
                    created_at: at,
                },
            )
        })
        .collect();
    let photo_rows: Vec<PhotoRow> = listing_photos::table
        .filter(listing_photos::listing_id.eq_any(&listing_ids))
        .filter(listing_photos::status.eq("attached"))
        .order((listing_photos::listing_id, listing_photos::created_at))
        .select(PhotoRow::as_select())
        .load(conn)
        .await?;
    let mut photos: HashMap<Uuid, Vec<PhotoView>> = HashMap::new();
    for photo in photo_rows {
        let url = state.storage.presign_get(&photo.object_key, PHOTO_URL_TTL).await?.to_string();
        photos.entry(photo.listing_id).or_default().push(PhotoView {
            id: photo.id,
            content_type: photo.content_type,
            size_bytes: photo.size_bytes,
            url,
        });
    }

    let proofs = latest_proofs(conn, &listing_ids).await?;
    let threshold = state.config.fire_sale_threshold_bps;
    let mut conditions = conditions;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (maker, name, power_w) = models.get(&row.rig_model_id).cloned().unwrap_or_default();
            let hosting = row.hosting_facility.clone().map(|facility| Hosting {
                facility,
                country: row.hosting_country.clone().unwrap_or_default(),
                contract_ends_on: row.hosting_contract_ends_on,
                power_off_at: row.power_off_at,
            });
            ListingView {
                id: row.id,
                seller: SellerSummary {
                    id: row.seller_id,
                    display_name: sellers.get(&row.seller_id).cloned().unwrap_or_default(),
                    reputation: reputations.get(&row.seller_id).cloned().unwrap_or_default(),
                },
                status: row.status(),
                rejection_reason: row.rejection_reason.clone(),
                rig_model: ListingModelSummary {
                    id: row.rig_model_id,
                    manufacturer: maker,
                    name,
                    hashrate_ths: row.model_hashrate_hs as f64 / 1e12,
                    hashrate_hs: row.model_hashrate_hs,
                    power_w,
                    efficiency_j_per_th: (row.model_efficiency_j_per_th * 10.0).round() / 10.0,
                    tier: EfficiencyTier::from_key(&row.model_tier).unwrap_or(EfficiencyTier::Above68),
                },
                quantity: row.quantity,
                quantity_available: row.quantity_available,
                quantity_reserved: row.quantity_reserved,
                quantity_sold: row.quantity_sold,
                unit_price_cents: row.unit_price_cents,
                currency: Currency::USD,
                usd_per_th_cents: row.usd_per_th_cents,
                usd_per_th: row.usd_per_th_cents as f64 / 100.0,
                reference_unit_price_cents: row.reference_unit_price_cents,
                discount_pct: row.discount_bps.map(bps_to_pct),
                discount_at_publication_pct: row.published_discount_bps.map(bps_to_pct),
                fire_sale: is_fire_sale(row.discount_bps, threshold),
                country: row.country.clone(),
                region: row.region.clone(),
                incoterm: row.incoterm.as_deref().and_then(incoterm),
                lead_time_days: row.lead_time_days,
                inspection_days: row.inspection_days,
                serial_numbers: row.serial_numbers.clone(),
                hosting,
                condition: conditions.remove(&row.id),
                photos: photos.remove(&row.id).unwrap_or_default(),
                usd_per_verified_th: verified_usd_per_th(&row, proofs.get(&row.id)),
                hashrate_proof: proofs.get(&row.id).map(|p| p.summary()),
                created_at: row.created_at,
                submitted_at: row.submitted_at,
                published_at: row.published_at,
                title: row.title,
                description: row.description,
            }
        })
        .collect())
}

/// The latest proof of each listing.
async fn latest_proofs(conn: &mut AsyncPgConnection, listing_ids: &[Uuid]) -> QueryResult<HashMap<Uuid, ProofRow>> {
    use crate::db::schema::hashrate_proofs;
    Ok(hashrate_proofs::table
        .filter(hashrate_proofs::listing_id.eq_any(listing_ids))
        .filter(hashrate_proofs::purpose.eq("listing"))
        .order((hashrate_proofs::listing_id, hashrate_proofs::created_at.desc()))
        .distinct_on(hashrate_proofs::listing_id)
        .select(ProofRow::as_select())
        .load::<ProofRow>(conn)
        .await?
        .into_iter()
        .map(|proof| (proof.listing_id, proof))
        .collect())
}

/// Price per measured TH/s while a verified proof is valid.
fn verified_usd_per_th(row: &ListingRow, proof: Option<&ProofRow>) -> Option<f64> {
    let proof = proof.filter(|p| p.status == "verified")?;
    let per_unit_hs = proof.estimated_hashrate_hs? / f64::from(proof.units.max(1));
    (per_unit_hs > 0.0).then(|| (row.unit_price_cents as f64 / 100.0) / (per_unit_hs / 1e12))
}

pub async fn render_one(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    row: ListingRow,
) -> anyhow::Result<ListingView> {
    Ok(render(state, conn, vec![row]).await?.remove(0))
}
