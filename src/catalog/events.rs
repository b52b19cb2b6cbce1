//! What the catalog tells the capabilities that copy from it. Listings copy a
//! model's specs and reference price: [`ReferencesChanged`] is a job whose
//! handler the composition root wires, and [`FollowModelSpecs`] is told inside
//! the transaction that changed a model's specs.

use chrono::Duration;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use super::model::RigModelRow;

use crate::db::ids::RigModelId;
use crate::jobs::{Job, PeriodicJob};

/// Reference prices changed for one model (or, without a model, possibly for
/// all: tier references are dated, so a new day can change them; this also runs
/// every six hours).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ReferencesChanged {
    #[serde(default)]
    pub rig_model_id: Option<RigModelId>,
}

impl Job for ReferencesChanged {
    // The name predates the typed jobs; queued rows still carry it.
    const KIND: &'static str = "refresh_listing_references";
}

impl PeriodicJob for ReferencesChanged {
    const EVERY: Duration = Duration::hours(6);
}

/// Whoever copies a model's specs (hashrate, efficiency, tier) follows changes
/// here, in the transaction that made them.
#[async_trait::async_trait]
pub trait FollowModelSpecs: Send + Sync {
    async fn specs_changed(
        &self,
        conn: &mut AsyncPgConnection,
        model: &RigModelRow,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

/// The registered followers, as the catalog's handlers extract them.
#[derive(Clone)]
pub struct SpecFollowers(pub Arc<dyn FollowModelSpecs>);
