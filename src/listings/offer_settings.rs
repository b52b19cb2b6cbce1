//! A listing's offer settings (product section H): whether buyers may make
//! offers, the floor below which offers are declined at once (an absolute unit
//! price, or a discount against the price index's tier median), and the unit
//! price at or above which an offer is accepted at once. Listings only store and
//! validate them; the offers capability applies them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::Problems;

/// The widest discount a floor may allow against the index.
pub const MAX_FLOOR_DISCOUNT_PCT: i32 = 95;

/// Offer settings in a create or PATCH body: absent fields keep their value
/// (on create: offers on, no floor, no auto-accept); `null` clears a price.
/// Editable in every status, live listings included.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "floor_discount_pct": 30, "auto_accept_unit_price_cents": 90000}))]
pub struct OfferSettingsInput {
    pub enabled: Option<bool>,
    /// Offers below this unit price are declined at once.
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<i64>)]
    pub floor_unit_price_cents: Option<Option<i64>>,
    /// Offers more than this many percent below the tier median of the price
    /// index (per unit, at the model's nominal hashrate) are declined at once.
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub floor_discount_pct: Option<Option<i32>>,
    /// Offers at or above this unit price are accepted at once (an order is made).
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<i64>)]
    pub auto_accept_unit_price_cents: Option<Option<i64>>,
}

/// The stored settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfferSettings {
    pub enabled: bool,
    pub floor_unit_price_cents: Option<i64>,
    pub floor_discount_pct: Option<i32>,
    pub auto_accept_unit_price_cents: Option<i64>,
}

impl OfferSettings {
    pub const DEFAULT: Self = Self {
        enabled: true,
        floor_unit_price_cents: None,
        floor_discount_pct: None,
        auto_accept_unit_price_cents: None,
    };

    /// These settings with `input` applied.
    pub fn with(self, input: &OfferSettingsInput) -> Self {
        Self {
            enabled: input.enabled.unwrap_or(self.enabled),
            floor_unit_price_cents: input.floor_unit_price_cents.unwrap_or(self.floor_unit_price_cents),
            floor_discount_pct: input.floor_discount_pct.unwrap_or(self.floor_discount_pct),
            auto_accept_unit_price_cents: input
                .auto_accept_unit_price_cents
                .unwrap_or(self.auto_accept_unit_price_cents),
        }
    }

    /// Every problem with these settings, under `offers.` (prices up to `max_price_cents`).
    pub fn validate(&self, problems: &mut Problems, max_price_cents: i64) {
        if let Some(floor) = self.floor_unit_price_cents {
            problems.within("offers.floor_unit_price_cents", floor, 1..=max_price_cents);
        }
        if let Some(pct) = self.floor_discount_pct {
            problems.within("offers.floor_discount_pct", pct, 1..=MAX_FLOOR_DISCOUNT_PCT);
        }
        if self.floor_unit_price_cents.is_some() && self.floor_discount_pct.is_some() {
            problems.add("offers.floor_discount_pct", "set either an absolute floor or a discount floor, not both");
        }
        if let Some(auto) = self.auto_accept_unit_price_cents {
            problems.within("offers.auto_accept_unit_price_cents", auto, 1..=max_price_cents);
            if self.floor_unit_price_cents.is_some_and(|floor| auto < floor) {
                problems.add("offers.auto_accept_unit_price_cents", "must not be below the floor");
            }
        }
    }
}

/// What buyers see of a listing's offer settings (the auto-accept price stays
/// private: publishing it would make it the only offer anyone makes).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"enabled": true, "floor_unit_price_cents": null, "floor_discount_pct": 30}))]
pub struct OfferTermsView {
    pub enabled: bool,
    pub floor_unit_price_cents: Option<i64>,
    pub floor_discount_pct: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> OfferSettingsInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn absent_fields_keep_and_null_clears() {
        let set = OfferSettings::DEFAULT.with(&input(serde_json::json!({"floor_unit_price_cents": 500})));
        assert_eq!(set.floor_unit_price_cents, Some(500));
        assert!(set.enabled);
        let cleared = set.with(&input(serde_json::json!({"floor_unit_price_cents": null, "enabled": false})));
        assert_eq!(cleared, OfferSettings { enabled: false, ..OfferSettings::DEFAULT });
    }

    #[test]
    fn one_floor_at_a_time_and_auto_accept_above_it() {
        let bad = OfferSettings {
            enabled: true,
            floor_unit_price_cents: Some(1000),
            floor_discount_pct: Some(96),
            auto_accept_unit_price_cents: Some(900),
        };
        let mut problems = Problems::default();
        bad.validate(&mut problems, 100_000_000_000);
        assert_eq!(
            problems.fields(),
            vec!["offers.floor_discount_pct", "offers.floor_discount_pct", "offers.auto_accept_unit_price_cents"]
        );
    }
}
