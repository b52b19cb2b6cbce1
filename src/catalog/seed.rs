//! Imports that write: the start-up seed of the shipped catalog and tier history
//! (insert what is missing, never overwrite) and the CLI imports (all rows in one
//! transaction, so a failure writes nothing).

use chrono::NaiveDate;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::csv_import::{self, ModelPriceRow, RowError};
use super::model::{NewReferencePrice, ReferenceSource};
use super::queries::{self, ModelSpec, OnExisting, TierPriceRow};

const SEED_MODELS_CSV: &str = include_str!("../../data/rig_models.csv");
const SEED_TIER_PRICES_CSV: &str = include_str!("../../data/tier_price_history.csv");

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub models_added: usize,
    pub tier_prices_added: usize,
}

impl SeedReport {
    pub fn any(&self) -> bool {
        self.models_added + self.tier_prices_added > 0
    }
}

fn shipped<T>(parsed: csv_import::Parsed<T>, file: &str) -> anyhow::Result<Vec<T>> {
    parsed.map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("shipped {file} is invalid:\n{}", lines.join("\n"))
    })
}

/// Seeds the shipped catalog and tier price history. Idempotent: rows that exist
/// (possibly edited by an admin since) are left alone.
pub async fn seed_reference_data(conn: &mut AsyncPgConnection) -> anyhow::Result<SeedReport> {
    let models = shipped(csv_import::parse_models(SEED_MODELS_CSV.as_bytes()), "rig_models.csv")?;
    let tiers = shipped(csv_import::parse_tier_prices(SEED_TIER_PRICES_CSV.as_bytes()), "tier_price_history.csv")?;
    conn.transaction(async move |conn| {
        let mut report = SeedReport::default();
        for spec in &models {
            if queries::save_model(conn, spec, OnExisting::Keep).await? {
                report.models_added += 1;
            }
        }
        report.tier_prices_added = queries::save_tier_prices(conn, &tiers, OnExisting::Keep).await?;
        Ok(report)
    })
    .await
}

/// Listings copy their reference price; after an import a job recomputes them
/// (committed with the import, so it cannot be forgotten).
async fn enqueue_reference_refresh(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    crate::jobs::enqueue(conn, &super::events::ReferencesChanged::default(), chrono::Utc::now()).await?;
    Ok(())
}

/// Reports progress of a long import (a progress bar in the CLI).
pub trait Progress: Send {
    fn advance(&mut self);
}

impl Progress for () {
    fn advance(&mut self) {}
}

/// Writes imported models in one transaction (existing models are updated).
pub async fn import_models(
    conn: &mut AsyncPgConnection,
    specs: &[ModelSpec],
    progress: &mut dyn Progress,
) -> anyhow::Result<ImportCounts> {
    conn.transaction(async move |conn| {
        let mut counts = ImportCounts::default();
        for spec in specs {
            match queries::find_model_by_name(conn, &spec.manufacturer, &spec.name).await? {
                None => {
                    queries::save_model(conn, spec, OnExisting::Keep).await?;
                    counts.inserted += 1;
                }
                Some(existing) if has_spec(&existing, spec) => counts.unchanged += 1,
                Some(_) => {
                    queries::save_model(conn, spec, OnExisting::Update).await?;
                    counts.updated += 1;
                }
            }
            progress.advance();
        }
        if counts.inserted + counts.updated > 0 {
            enqueue_reference_refresh(conn).await?;
        }
        Ok(counts)
    })
    .await
}

/// What an import did with each row, so re-importing a file says so.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl std::fmt::Display for ImportCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} inserted, {} updated, {} unchanged", self.inserted, self.updated, self.unchanged)
    }
}

fn has_spec(row: &super::model::RigModelRow, spec: &ModelSpec) -> bool {
    row.algorithm == spec.algorithm
        && row.hashrate_hs == spec.hashrate_hs
        && row.power_w == spec.power_w
        && row.release_year == spec.release_year
        && row.source == spec.source
}

pub async fn import_tier_prices(
    conn: &mut AsyncPgConnection,
    rows: &[TierPriceRow],
    progress: &mut dyn Progress,
) -> anyhow::Result<usize> {
    conn.transaction(async move |conn| {
        for row in rows {
            queries::save_tier_prices(conn, std::slice::from_ref(row), OnExisting::Update).await?;
            progress.advance();
        }
        enqueue_reference_refresh(conn).await?;
        Ok(rows.len())
    })
    .await
}

/// Resolves model names to ids; unknown models are row errors (returned beside
/// the resolved prices), so the whole file is rejected before anything is written.
pub async fn resolve_model_prices(
    conn: &mut AsyncPgConnection,
    rows: &[ModelPriceRow],
    today: NaiveDate,
) -> anyhow::Result<(Vec<NewReferencePrice>, Vec<RowError>)> {
    let mut prices = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for row in rows {
        if row.priced_on > today {
            errors.push(RowError {
                line: row.line,
                column: "date".into(),
                message: "must not be in the future".into(),
            });
            continue;
        }
        match queries::find_model_by_name(conn, &row.manufacturer, &row.model).await? {
            Some(model) => prices.push(NewReferencePrice {
                id: Uuid::now_v7(),
                rig_model_id: model.id,
                priced_on: row.priced_on,
                basis: row.basis.as_str().to_string(),
                amount_cents: row.amount_cents,
                source: ReferenceSource::Import.as_str().to_string(),
                note: row.note.clone(),
                created_by: None,
            }),
            None => errors.push(RowError {
                line: row.line,
                column: "model".into(),
                message: format!("no model {} {} in the catalog", row.manufacturer, row.model),
            }),
        }
    }
    Ok((prices, errors))
}

pub async fn import_model_prices(
    conn: &mut AsyncPgConnection,
    prices: &[NewReferencePrice],
    progress: &mut dyn Progress,
) -> anyhow::Result<usize> {
    conn.transaction(async move |conn| {
        for price in prices {
            queries::save_reference_prices(conn, std::slice::from_ref(price)).await?;
            progress.advance();
        }
        enqueue_reference_refresh(conn).await?;
        Ok(prices.len())
    })
    .await
}
