//! Turning listing rows into the JSON buyers see, in batches: one statement
//! brings the decorations of a whole page (sellers, reputations, models, latest
//! condition reports, photos, latest proofs), whatever its size. Each owner
//! writes its own part as a scalar SQL expression over an array of ids, giving a
//! JSON object keyed by id (`accounts::display_names_json_sql`,
//! `Reputations::json_sql`, ...), and the statement is composed once, when the
//! renderer is built. One statement instead of one per decoration: each costs
//! PostgreSQL and the service about as much as the small lookup it runs
//! (docs/BENCHMARKS.md, issue 17, eighth step).
//!
//! Pages read outside a transaction (the buyers' search) go further
//! ([`ListingRenderer::render_shared`]): the pages being rendered at the same
//! time share one decorations statement for all their ids (`db::fresh_read`'s
//! batches). The statement's cost is mostly its own, not its ids': for eight
//! pages it costs PostgreSQL about a fifth of eight statements
//! (docs/BENCHMARKS.md, issue 17, ninth step).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;

use super::decorations::{LatestProof, LatestProofs};
use super::model::{
    ConditionSummary, Currency, Hosting, Incoterm, ListingModelSummary, ListingRow, ListingView, PhotoStatus,
    PhotoView, SellerSummary,
};
use crate::accounts::{Reputation, Reputations};
use crate::catalog::discount::{bps_to_pct, is_fire_sale};
use crate::catalog::queries::ModelLabel;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::fresh_read::{Answer, FreshBatch, PerKey, Replay};
use crate::db::ids::{ListingId, RigModelId, UserId};
use crate::db::keyed_json::read_keyed;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::storage::ObjectStore;

const PHOTO_URL_TTL: Duration = Duration::from_secs(15 * 60);

/// Renders listing pages: what it needs from other capabilities and the kernel,
/// built once by the composition root (handlers extract `web::Data<ListingRenderer>`).
#[derive(Clone)]
pub struct ListingRenderer {
    storage: ObjectStore,
    fire_sale_threshold_bps: i64,
    /// The decorations statement, composed from its owners' parts.
    decorations_sql: Arc<str>,
    /// The decorations of the pages rendered at the same time from one read
    /// target, read in one statement.
    batches: PerKey<FreshBatch<PageIds, Answer<Arc<Decorations>, ApiError>>>,
}

/// A page's decorations as the statement returns them: each owner's part, the
/// JSON text of an object keyed by id (NULL when it found nothing).
#[derive(QueryableByName)]
struct DecorationsRow {
    #[diesel(sql_type = Nullable<Text>)]
    sellers: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    reputations: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    models: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    conditions: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    photos: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    proofs: Option<String>,
}

/// An attached photo as the decorations statement lists it.
#[derive(Deserialize)]
struct PhotoPart {
    id: uuid::Uuid,
    object_key: String,
    content_type: String,
    size_bytes: i64,
}

/// Everything the rows of one page (or of the pages of a batch) show besides
/// their own columns; photos are signed for each page when it is rendered.
struct Decorations {
    sellers: HashMap<UserId, String>,
    reputations: HashMap<UserId, Reputation>,
    models: HashMap<RigModelId, ModelLabel>,
    conditions: HashMap<ListingId, ConditionSummary>,
    photos: HashMap<ListingId, Vec<PhotoPart>>,
    proofs: HashMap<ListingId, LatestProof>,
}

/// The ids whose decorations a page (or a batch of pages) needs, each listed
/// once.
struct PageIds {
    listings: Vec<ListingId>,
    sellers: Vec<UserId>,
    models: Vec<RigModelId>,
}

impl PageIds {
    fn of(rows: &[ListingRow]) -> Self {
        Self::listed_once(
            rows.iter().map(|r| r.id).collect(),
            rows.iter().map(|r| r.seller_id).collect(),
            rows.iter().map(|r| r.rig_model_id).collect(),
        )
    }

    fn union(pages: Vec<PageIds>) -> Self {
        let (mut listings, mut sellers, mut models) = (Vec::new(), Vec::new(), Vec::new());
        for page in pages {
            listings.extend(page.listings);
            sellers.extend(page.sellers);
            models.extend(page.models);
        }
        Self::listed_once(listings, sellers, models)
    }

    fn listed_once(listings: Vec<ListingId>, sellers: Vec<UserId>, models: Vec<RigModelId>) -> Self {
        Self { listings: listed_once(listings), sellers: listed_once(sellers), models: listed_once(models) }
    }
}

fn listed_once<T: Ord>(mut ids: Vec<T>) -> Vec<T> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl ListingRenderer {
    pub fn new(
        reputations: &dyn Reputations,
        proofs: &dyn LatestProofs,
        storage: ObjectStore,
        fire_sale_threshold_bps: i64,
    ) -> Self {
        let decorations_sql = decorations_sql(reputations, proofs).into();
        Self { storage, fire_sale_threshold_bps, decorations_sql, batches: PerKey::default() }
    }

    /// Renders rows read on `conn`, decorated on it too (inside the caller's
    /// transaction when there is one).
    pub async fn render(
        &self,
        conn: &mut AsyncPgConnection,
        rows: Vec<ListingRow>,
    ) -> anyhow::Result<Vec<ListingView>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let decorations = read_decorations(conn, &self.decorations_sql, PageIds::of(&rows)).await?;
        self.views(rows, &decorations).await
    }

    pub async fn render_one(&self, conn: &mut AsyncPgConnection, row: ListingRow) -> anyhow::Result<ListingView> {
        Ok(self.render(conn, vec![row]).await?.remove(0))
    }

    /// Renders rows read outside a transaction on `conn`, from the read target
    /// `target`: their decorations are read with those of the other pages
    /// being rendered from it at the same time. `conn` reads them if this
    /// page's batch is the one it queues; otherwise it goes back to the pool
    /// at once, and the page waits holding none. The batch starts after this
    /// call, so the decorations are at least as fresh as the rows.
    pub async fn render_shared(
        &self,
        target: &str,
        conn: DbConn,
        rows: Vec<ListingRow>,
    ) -> Result<Vec<ListingView>, ApiError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let sql = self.decorations_sql.clone();
        let read = move |pages: Vec<PageIds>| async move {
            read_decorations(&conn, &sql, PageIds::union(pages)).await.map(Arc::new).map_err(|err| Arc::new(err.into()))
        };
        let batches = self.batches.of(target);
        let decorations = batches.join(PageIds::of(&rows), read).await.map_err(|failure| failure.replay())?;
        Ok(self.views(rows, &decorations).await?)
    }

    async fn views(&self, rows: Vec<ListingRow>, decorations: &Decorations) -> anyhow::Result<Vec<ListingView>> {
        let mut photos = self.signed(&rows, &decorations.photos).await?;
        Ok(rows.into_iter().map(|row| self.view(row, decorations, &mut photos)).collect())
    }

    /// The page's attached photos with short-lived signed URLs.
    async fn signed(
        &self,
        rows: &[ListingRow],
        photos: &HashMap<ListingId, Vec<PhotoPart>>,
    ) -> anyhow::Result<HashMap<ListingId, Vec<PhotoView>>> {
        let mut signed = HashMap::new();
        for row in rows {
            let Some(parts) = photos.get(&row.id) else { continue };
            let mut views = Vec::with_capacity(parts.len());
            for photo in parts {
                let url = self.storage.presign_get(&photo.object_key, PHOTO_URL_TTL).await?.to_string();
                views.push(PhotoView {
                    id: photo.id,
                    content_type: photo.content_type.clone(),
                    size_bytes: photo.size_bytes,
                    url,
                });
            }
            signed.insert(row.id, views);
        }
        Ok(signed)
    }

    fn view(
        &self,
        row: ListingRow,
        decorations: &Decorations,
        photos: &mut HashMap<ListingId, Vec<PhotoView>>,
    ) -> ListingView {
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
            condition: decorations.conditions.get(&row.id).cloned(),
            photos: photos.remove(&row.id).unwrap_or_default(),
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

/// Runs the decorations statement for `ids`.
async fn read_decorations(mut conn: &AsyncPgConnection, statement: &str, ids: PageIds) -> QueryResult<Decorations> {
    let found: DecorationsRow = diesel::sql_query(statement)
        .bind::<Array<diesel::sql_types::Uuid>, _>(&ids.listings)
        .bind::<Array<diesel::sql_types::Uuid>, _>(&ids.sellers)
        .bind::<Array<diesel::sql_types::Uuid>, _>(&ids.models)
        .get_result(&mut conn)
        .await?;
    Ok(Decorations {
        sellers: read_keyed(found.sellers.as_deref())?,
        reputations: read_keyed(found.reputations.as_deref())?,
        models: read_keyed(found.models.as_deref())?,
        conditions: read_keyed(found.conditions.as_deref())?,
        photos: read_keyed(found.photos.as_deref())?,
        proofs: read_keyed(found.proofs.as_deref())?,
    })
}

/// The decorations statement: one row, one part per owner, over the arrays of
/// the page's listing ids ($1), seller ids ($2) and model ids ($3). The
/// listings' own parts (each listing's latest condition report, its attached
/// photos in upload order) are written here.
fn decorations_sql(reputations: &dyn Reputations, proofs: &dyn LatestProofs) -> String {
    let attached = PhotoStatus::Attached.as_str();
    format!(
        "SELECT {sellers} AS sellers, {reputations} AS reputations, {models} AS models, \
         (SELECT json_object_agg(listing_id, json_build_object('report_id', id, 'version', version, \
           'cosmetic_grade', cosmetic_grade, 'hashboards_working', hashboards_working, \
           'hashboards_total', hashboards_total, 'fans_working', fans_working, 'fans_total', fans_total, \
           'author_role', author_role, 'created_at', created_at))::text \
          FROM (SELECT DISTINCT ON (listing_id) * FROM condition_reports WHERE listing_id = ANY($1) \
                ORDER BY listing_id, version DESC) AS latest) AS conditions, \
         (SELECT json_object_agg(listing_id, photos)::text \
          FROM (SELECT listing_id, json_agg(json_build_object('id', id, 'object_key', object_key, \
                  'content_type', content_type, 'size_bytes', size_bytes) ORDER BY created_at) AS photos \
                FROM listing_photos WHERE listing_id = ANY($1) AND status = '{attached}' \
                GROUP BY listing_id) AS attached) AS photos, \
         {proofs} AS proofs",
        sellers = crate::accounts::display_names_json_sql("$2"),
        reputations = reputations.json_sql("$2"),
        models = crate::catalog::queries::model_labels_json_sql("$3"),
        proofs = proofs.latest_json_sql("$1"),
    )
}

/// Price per measured TH/s while a verified proof is valid.
fn verified_usd_per_th(row: &ListingRow, proof: Option<&LatestProof>) -> Option<f64> {
    let per_unit_hs = proof?.verified_unit_hashrate_hs()?;
    (per_unit_hs > 0.0).then(|| (row.unit_price_cents as f64 / 100.0) / (per_unit_hs / 1e12))
}
