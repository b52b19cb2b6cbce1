//! The price index (product section F): USD per TH/s by efficiency tier, rig
//! model and country, from asking prices (listing publications and price
//! changes) and settled prices (orders), with discount against the reference and
//! the fire-sale share.
//!
//! - `observations`: what the listings and orders code call, inside the
//!   transaction of the event, to record one observation.
//! - The database keeps per-bucket aggregates (UTC days and ISO weeks, per tier,
//!   country, model, tier x country, model x country): the view
//!   `price_index_buckets`, exact in every snapshot, over rows that `materialize`
//!   folds in every second; see the migrations `2026-12-01-000010_price_index` and
//!   `2026-12-07-000030_price_index_pending`. Reads never scan the observations,
//!   except `latest`'s 7-day window and the buckets written since the last fold.
//! - `stats` (pure): exact `percentile_cont` from two order statistics, buckets,
//!   time ranges; `params`, `series`, `render` (JSON), `csv_export`: requests
//!   and answers;
//!   `access`: quotas; `http_cache`: ETag / Cache-Control / 304.
//! - `current` (tiers, latest) and `history` (series, fire sales): the reads
//!   behind the endpoints; `queries`: their SQL; `handlers`: the HTTP API.
//!
//! Reads `RIGMARKET_PRICE_INDEX_IP_PER_MINUTE`, `RIGMARKET_PRICE_INDEX_USER_PER_MINUTE`
//! and `RIGMARKET_FIRE_SALE_THRESHOLD_PCT` through `Config`.

mod access;
pub mod answers;
pub mod bucket;
mod csv_export;
pub mod current;
mod handlers;
pub mod history;
pub mod http_cache;
pub mod materialize;
pub mod model;
pub mod observations;
pub mod packed;
pub mod params;
pub mod queries;
pub mod render;
pub mod series;
pub mod stats;

pub use answers::IndexAnswers;
pub use handlers::configure;
pub use materialize::register_jobs;
