//! What the catalog tells the capabilities that copy from it. Listings copy a
//! reference price when they are created; these jobs tell whoever handles them
//! (the composition root wires it) that references may have changed.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{Job, PeriodicJob};

/// Reference prices changed for one model (or, without a model, possibly for
/// all: tier references are dated, so a new day can change them; this also runs
/// every six hours).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ReferencesChanged {
    #[serde(default)]
    pub rig_model_id: Option<Uuid>,
}

impl Job for ReferencesChanged {
    // The name predates the typed jobs; queued rows still carry it.
    const KIND: &'static str = "refresh_listing_references";
}

impl PeriodicJob for ReferencesChanged {
    const EVERY: Duration = Duration::hours(6);
}
