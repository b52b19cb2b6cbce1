//! Catalog queries. Each takes a connection so callers can compose them in one
//! transaction; other capabilities read the catalog through these.
//!
//! - [`models`]: rig models and manufacturers.
//! - [`references`]: model and tier reference prices, and the effective one.

pub mod models;
pub mod references;

pub use models::{
    count_models, existing_model_ids, find_model, find_model_by_name, list_models, manufacturer_id,
    manufacturers_named, model_labels, model_labels_json_sql, model_named, model_row, models_in_tier, save_model,
    update_model, ModelCursor, ModelFilter, ModelLabel, ModelSpec, OnExisting,
};
pub use references::{effective_reference, reference_history, save_reference_prices, save_tier_prices, TierPriceRow};
