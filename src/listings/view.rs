//! Turning listing rows into the JSON buyers see, in batches: one query each for
//! sellers, reputations, models, latest condition reports, photos and proofs,
//! whatever the page size, all sent at once on the page's connection
//! (pipelined: one round trip for the lot, PostgreSQL runs them in order).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::decorations::{LatestProof, LatestProofs};
use super::model::{
    ConditionSummary, Currency, Hosting, Incoterm, ListingModelSummary, ListingRow, ListingView, PhotoRow, PhotoStatus,
    PhotoView, SellerSummary,
};
use crate::accounts::{Reputation, Reputations};
use crate::catalog::discount::{bps_to_pct, is_fire_sale};
use crate::catalog::queries::ModelLabel;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::{ListingId, RigModelId, UserId};
use crate::db::schema::{condition_reports, listing_photos};
use crate::storage::ObjectStore;

const PHOTO_URL_TTL: Duration = Duration::from_secs(15 * 60);

/// Renders listing pages: what it needs from other capabilities and the kernel,
/// built once by the composition root (handlers extract `web::Data<ListingRenderer>`).
#[derive(Clone)]
pub struct ListingRenderer {
    pub reputations: Arc<dyn Reputations>,
    pub proofs: Arc<dyn LatestProofs>,
    pub storage: ObjectStore,
    pub fire_sale_threshold_bps: i64,
}

/// Everything the rows of one page show besides their own columns.
struct Decorations {
    sellers: HashMap<UserId, String>,
    reputations: HashMap<UserId, Reputation>,
    models: HashMap<RigModelId, ModelLabel>,
    conditions: HashMap<ListingId, ConditionSummary>,
    photos: HashMap<ListingId, Vec<PhotoView>>,
    proofs: HashMap<ListingId, LatestProof>,
}

impl ListingRenderer {
    pub async fn render(
        &self,
        conn: &mut AsyncPgConnection,
        rows: Vec<ListingRow>,
    ) -> anyhow::Result<Vec<ListingView>> {
        let mut decorations = self.decorations(conn, &rows).await?;
        Ok(rows.into_iter().map(|row| self.view(row, &mut decorations)).collect())
    }

    pub async fn render_one(&self, conn: &mut AsyncPgConnection, row: ListingRow) -> anyhow::Result<ListingView> {
        Ok(self.render(conn, vec![row]).await?.remove(0))
    }

    async fn decorations(&self, conn: &AsyncPgConnection, rows: &[ListingRow]) -> anyhow::Result<Decorations> {
        let listing_ids: Vec<ListingId> = rows.iter().map(|r| r.id).collect();
        let mut seller_ids: Vec<UserId> = rows.iter().map(|r| r.seller_id).collect();
        seller_ids.sort();
        seller_ids.dedup();
        let model_ids: Vec<RigModelId> = rows.iter().map(|r| r.rig_model_id).collect();
        let (sellers, reputations, models, conditions, photos, proofs) = futures_util::try_join!(
            async { Ok::<_, anyhow::Error>(crate::accounts::display_names(conn, &seller_ids).await?) },
            async { Ok(self.reputations.of_sellers(conn, &seller_ids).await?) },
            async { Ok(crate::catalog::queries::model_labels(conn, &model_ids).await?) },
            async { Ok(latest_conditions(conn, &listing_ids).await?) },
            self.photos(conn, &listing_ids),
            async { Ok(self.proofs.of_listings(conn, &listing_ids).await?) },
        )?;
        Ok(Decorations { sellers, reputations, models, conditions, photos, proofs })
    }

    /// Attached photos with short-lived signed URLs.
    async fn photos(
        &self,
        mut conn: &AsyncPgConnection,
        listing_ids: &[ListingId],
    ) -> anyhow::Result<HashMap<ListingId, Vec<PhotoView>>> {
        let rows: Vec<PhotoRow> = listing_photos::table
            .filter(listing_photos::listing_id.eq_any(listing_ids))
            .filter(listing_photos::status.eq(PhotoStatus::Attached))
            .order((listing_photos::listing_id, listing_photos::created_at))
            .select(PhotoRow::as_select())
            .load(&mut conn)
            .await?;
        let mut photos: HashMap<ListingId, Vec<PhotoView>> = HashMap::new();
        for photo in rows {
            let url = self.storage.presign_get(&photo.object_key, PHOTO_URL_TTL).await?.to_string();
            photos.entry(photo.listing_id).or_default().push(PhotoView {
                id: photo.id,
                content_type: photo.content_type,
                size_bytes: photo.size_bytes,
                url,
            });
        }
        Ok(photos)
    }

    fn view(&self, row: ListingRow, decorations: &mut Decorations) -> ListingView {
        let proof = decorations.proofs.get(&row.id);
        ListingView {
            id: row.id,
            seller: SellerSummary {
                id: row.seller_id,
                display_name: decorations.sellers.get(&row.seller_id).cloned().unwrap_or_default(),
                reputation: decorations.reputations.get(&row.seller_id).cloned().unwrap_or_default(),
            },
            status: row.status(),
            rejection_reason: row.rejection_reason.clone(),
            rig_model: model_summary(&row, decorations.models.get(&row.rig_model_id)),
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
            fire_sale: is_fire_sale(row.discount_bps, self.fire_sale_threshold_bps),
            country: row.country.clone(),
            region: row.region.clone(),
            incoterm: row.incoterm.as_deref().and_then(incoterm),
            lead_time_days: row.lead_time_days,
            inspection_days: row.inspection_days,
            doa_allowance_pct: row.doa_allowance_pct,
            serial_numbers: row.serial_numbers.clone(),
            hosting: hosting(&row),
            condition: decorations.conditions.remove(&row.id),
            photos: decorations.photos.remove(&row.id).unwrap_or_default(),
            usd_per_verified_th: verified_usd_per_th(&row, proof),
            hashrate_proof: proof.map(|p| p.summary.clone()),
            offers: super::offer_settings::OfferTermsView {
                enabled: row.offers_enabled,
                floor_unit_price_cents: row.offer_floor_unit_price_cents,
                floor_discount_pct: row.offer_floor_discount_pct,
            },
            created_at: row.created_at,
            submitted_at: row.submitted_at,
            published_at: row.published_at,
            title: row.title,
            description: row.description,
        }
    }
}

fn incoterm(text: &str) -> Option<Incoterm> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
}

fn hosting(row: &ListingRow) -> Option<Hosting> {
    row.hosting_facility.clone().map(|facility| Hosting {
        facility,
        country: row.hosting_country.clone().unwrap_or_default(),
        contract_ends_on: row.hosting_contract_ends_on,
        power_off_at: row.power_off_at,
    })
}

fn model_summary(row: &ListingRow, label: Option<&ModelLabel>) -> ListingModelSummary {
    let label = label.cloned().unwrap_or_default();
    ListingModelSummary {
        id: row.rig_model_id,
        manufacturer: label.manufacturer,
        name: label.name,
        hashrate_ths: row.model_hashrate_hs as f64 / 1e12,
        hashrate_hs: row.model_hashrate_hs,
        power_w: label.power_w,
        efficiency_j_per_th: (row.model_efficiency_j_per_th * 10.0).round() / 10.0,
        tier: EfficiencyTier::from_key(&row.model_tier).unwrap_or(EfficiencyTier::Above68),
    }
}

/// The columns of a condition report that its summary shows, listing id first.
type ConditionColumns = (ListingId, Uuid, i32, String, i32, i32, i32, i32, String, DateTime<Utc>);

/// The latest condition report of each listing, summarised.
async fn latest_conditions(
    mut conn: &AsyncPgConnection,
    listing_ids: &[ListingId],
) -> QueryResult<HashMap<ListingId, ConditionSummary>> {
    let rows: Vec<ConditionColumns> = condition_reports::table
        .filter(condition_reports::listing_id.eq_any(listing_ids))
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
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(listing_id, report_id, version, grade, hb_w, hb_t, f_w, f_t, role, at)| {
            let summary = ConditionSummary {
                report_id,
                version,
                cosmetic_grade: grade,
                hashboards_working: hb_w,
                hashboards_total: hb_t,
                fans_working: f_w,
                fans_total: f_t,
                author_role: role,
                created_at: at,
            };
            (listing_id, summary)
        })
        .collect())
}

/// Price per measured TH/s while a verified proof is valid.
fn verified_usd_per_th(row: &ListingRow, proof: Option<&LatestProof>) -> Option<f64> {
    let per_unit_hs = proof?.verified_unit_hashrate_hs()?;
    (per_unit_hs > 0.0).then(|| (row.unit_price_cents as f64 / 100.0) / (per_unit_hs / 1e12))
}
