//! The rules of saved searches and their alerts, with no I/O: alert modes,
//! triggers and their thresholds, the bucket a search is indexed under, and
//! which triggers a listing change sets off.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::discount::discount_bps;
use crate::db::text_enum;
use crate::error::FieldError;
use crate::listings::search::Filters;
use crate::listings::MarketChange;

/// Saved searches one user may keep.
pub const MAX_SAVED_SEARCHES: i64 = 50;
pub const MAX_NAME_CHARS: usize = 100;

text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum AlertMode {
        // A notification and an email within seconds.
        Instant = "instant",
        // One digest email per day listing every match (and the notification).
        Daily = "daily",
        // Matches are not reported.
        Off = "off",
    }
}

text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TriggerKind {
        NewMatch = "new_match",
        PriceDrop = "price_drop",
        DiscountAtLeast = "discount_at_least",
    }
}

/// What makes a search alert, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Triggers {
    /// A listing it matches is published.
    pub new_match: bool,
    /// A listing it matches gets cheaper.
    pub price_drop: bool,
    /// A listing it matches reaches this discount (basis points) against the
    /// reference price, at publication or by a price drop.
    pub discount_at_least_bps: Option<i64>,
}

/// `discount_at_least` takes a percentage strictly between 0 and 100 (two
/// decimals at most count).
pub fn threshold_bps(pct: f64) -> Option<i64> {
    let bps = (pct * 100.0).round();
    (pct.is_finite() && (1.0..=9999.0).contains(&bps)).then_some(bps as i64)
}

impl Triggers {
    /// Parses the wire form: `["new_match", "price_drop", {"discount_at_least": 30}]`.
    /// Every bad entry is reported, by index.
    pub fn parse(items: &[serde_json::Value]) -> Result<Self, Vec<FieldError>> {
        let mut triggers = Self::default();
        let mut errors = Vec::new();
        if items.is_empty() {
            errors.push(FieldError::new("triggers", "name at least one trigger"));
        }
        for (index, item) in items.iter().enumerate() {
            let field = format!("triggers[{index}]");
            match item {
                serde_json::Value::String(name) if name == "new_match" => triggers.new_match = true,
                serde_json::Value::String(name) if name == "price_drop" => triggers.price_drop = true,
                serde_json::Value::Object(map) if map.len() == 1 && map.contains_key("discount_at_least") => {
                    match map["discount_at_least"].as_f64().and_then(threshold_bps) {
                        Some(bps) => triggers.discount_at_least_bps = Some(bps),
                        None => errors.push(FieldError::new(
                            format!("{field}.discount_at_least"),
                            "must be a percentage greater than 0 and less than 100",
                        )),
                    }
                }
                _ => errors.push(FieldError::new(
                    field,
                    "is not a trigger: use \"new_match\", \"price_drop\" or {\"discount_at_least\": <percent>}",
                )),
            }
        }
        if errors.is_empty() {
            Ok(triggers)
        } else {
            Err(errors)
        }
    }

    /// The wire form, in a fixed order.
    pub fn to_json(self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        if self.new_match {
            out.push(serde_json::json!("new_match"));
        }
        if self.price_drop {
            out.push(serde_json::json!("price_drop"));
        }
        if let Some(bps) = self.discount_at_least_bps {
            out.push(serde_json::json!({"discount_at_least": crate::catalog::discount::bps_to_pct(bps)}));
        }
        out
    }

    /// The triggers `change` sets off for a listing the search matches, now
    /// priced `unit_price_cents` against `reference` (cents per unit).
    pub fn set_off(self, change: MarketChange, unit_price_cents: i64, reference: Option<i64>) -> Vec<TriggerKind> {
        let reaches = |price: i64| {
            let discount = discount_bps(price, reference);
            self.discount_at_least_bps.is_some_and(|min| discount.is_some_and(|d| d >= min))
        };
        let mut fired = Vec::new();
        match change {
            MarketChange::Published => {
                if self.new_match {
                    fired.push(TriggerKind::NewMatch);
                }
                if reaches(unit_price_cents) {
                    fired.push(TriggerKind::DiscountAtLeast);
                }
            }
            MarketChange::PriceDropped { old_unit_price_cents } => {
                if self.price_drop && unit_price_cents < old_unit_price_cents {
                    fired.push(TriggerKind::PriceDrop);
                }
                // Crossing: below the threshold before, at or above it now.
                if reaches(unit_price_cents) && !reaches(old_unit_price_cents) {
                    fired.push(TriggerKind::DiscountAtLeast);
                }
            }
        }
        fired
    }
}

/// The index bucket a search is found in: its rig model, else its tier, else
/// `any`. A listing probes the three buckets it could be in ([`probe_keys`]).
pub fn match_key(filters: &Filters) -> String {
    match (filters.rig_model_id(), filters.tier()) {
        (Some(model), _) => format!("model:{model}"),
        (None, Some(tier)) => format!("tier:{}", tier.key()),
        (None, None) => "any".to_string(),
    }
}

/// The buckets that may hold searches matching a listing of this model and tier.
pub fn probe_keys(rig_model_id: &str, tier_key: &str) -> [String; 3] {
    [format!("model:{rig_model_id}"), format!("tier:{tier_key}"), "any".to_string()]
}

/// What a saved search is indexed by, copied out of its parsed query on every
/// write: its bucket, and the three filters that most narrow a market (where
/// the rigs are, the price, the discount). A listing reads only the searches
/// whose facts it meets ([`CandidateProbe`]); the exact filters decide after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFacts {
    pub match_key: String,
    /// `None`: anywhere.
    pub country: Option<String>,
    pub max_price_cents: Option<i64>,
    /// `None`: no floor.
    pub min_discount_bps: Option<i64>,
}

impl IndexedFacts {
    pub fn of(filters: &Filters) -> Self {
        Self {
            match_key: match_key(filters),
            country: filters.country().map(str::to_string),
            max_price_cents: filters.max_price_cents(),
            min_discount_bps: filters.min_discount_bps(),
        }
    }
}

/// How one listing looks the searches up: every search it could match is
/// within these bounds (a superset, never less: a missing fact is no bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateProbe {
    /// [`probe_keys`].
    pub buckets: [String; 3],
    /// Its country, and `""` (a search that names none).
    pub countries: [String; 2],
    /// Searches whose maximum price is at least this.
    pub unit_price_cents: i64,
    /// Searches whose discount floor is at most this: the lot's discount, or
    /// `i64::MIN` when it has none (no reference), which only searches without
    /// a floor meet, as [`Filters::admits`] decides.
    pub discount_bps: i64,
}

impl CandidateProbe {
    pub fn new(
        rig_model_id: &str,
        tier_key: &str,
        country: &str,
        unit_price_cents: i64,
        discount_bps: Option<i64>,
    ) -> Self {
        Self {
            buckets: probe_keys(rig_model_id, tier_key),
            countries: [country.to_string(), String::new()],
            unit_price_cents,
            discount_bps: discount_bps.unwrap_or(i64::MIN),
        }
    }
}

/// A saved search's name: 1 to 100 characters once trimmed.
pub fn checked_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if (1..=MAX_NAME_CHARS).contains(&name.chars().count()) {
        Ok(name.to_string())
    } else {
        Err(FieldError::new("name", format!("must be 1 to {MAX_NAME_CHARS} characters")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn triggers_parse_and_report_every_bad_entry() {
        let parsed = Triggers::parse(&[json!("new_match"), json!({"discount_at_least": 30})]).unwrap();
        assert_eq!(parsed, Triggers { new_match: true, price_drop: false, discount_at_least_bps: Some(3000) });
        assert_eq!(parsed.to_json(), vec![json!("new_match"), json!({"discount_at_least": 30.0})]);
        let errors = Triggers::parse(&[
            json!("nope"),
            json!({"discount_at_least": 0}),
            json!({"discount_at_least": 100}),
            json!({"discount_at_least": "30"}),
            json!({"discount_at_least": 30, "x": 1}),
        ])
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "triggers[0]",
                "triggers[1].discount_at_least",
                "triggers[2].discount_at_least",
                "triggers[3].discount_at_least",
                "triggers[4]"
            ]
        );
        assert_eq!(Triggers::parse(&[]).unwrap_err()[0].field, "triggers");
        assert_eq!(threshold_bps(0.01), Some(1));
        assert_eq!(threshold_bps(99.99), Some(9999));
        assert_eq!(threshold_bps(f64::NAN), None);
    }

    #[test]
    fn a_publication_fires_new_match_and_a_reached_discount() {
        let all = Triggers { new_match: true, price_drop: true, discount_at_least_bps: Some(3000) };
        // 70,000 against 100,000 is a 30 % discount: exactly the threshold.
        assert_eq!(
            all.set_off(MarketChange::Published, 70_000, Some(100_000)),
            [TriggerKind::NewMatch, TriggerKind::DiscountAtLeast]
        );
        assert_eq!(all.set_off(MarketChange::Published, 70_100, Some(100_000)), [TriggerKind::NewMatch]);
        assert_eq!(all.set_off(MarketChange::Published, 1, None), [TriggerKind::NewMatch], "no reference, no discount");
    }

    #[test]
    fn a_price_drop_fires_price_drop_and_only_a_crossing_of_the_threshold() {
        let all = Triggers { new_match: true, price_drop: true, discount_at_least_bps: Some(3000) };
        let drop = |old| MarketChange::PriceDropped { old_unit_price_cents: old };
        assert_eq!(
            all.set_off(drop(90_000), 70_000, Some(100_000)),
            [TriggerKind::PriceDrop, TriggerKind::DiscountAtLeast]
        );
        assert_eq!(all.set_off(drop(70_000), 60_000, Some(100_000)), [TriggerKind::PriceDrop], "already past it");
        let only_discount = Triggers { discount_at_least_bps: Some(3000), ..Triggers::default() };
        assert!(only_discount.set_off(drop(90_000), 80_000, Some(100_000)).is_empty());
    }

    /// What the candidate query (`searches::candidates`) asks of the index.
    fn reaches(probe: &CandidateProbe, facts: &IndexedFacts) -> bool {
        probe.buckets.contains(&facts.match_key)
            && probe.countries.iter().any(|c| c == facts.country.as_deref().unwrap_or(""))
            && facts.max_price_cents.unwrap_or(i64::MAX) >= probe.unit_price_cents
            && facts.min_discount_bps.unwrap_or(i64::MIN) <= probe.discount_bps
    }

    fn facts(query: serde_json::Value) -> IndexedFacts {
        let params: crate::listings::search::SearchParams = serde_json::from_value(query).unwrap();
        IndexedFacts::of(&params.filters().unwrap())
    }

    #[test]
    fn a_search_is_indexed_by_its_bucket_country_price_and_discount_floor() {
        let model = "0193f2a4-7c1a-7e42-9b15-6f4d8c3a2e10";
        let named = facts(
            json!({"rig_model_id": model, "country": " kz ", "max_price_cents": 150_000, "min_discount_pct": 20}),
        );
        assert_eq!(
            named,
            IndexedFacts {
                match_key: format!("model:{model}"),
                country: Some("KZ".into()),
                max_price_cents: Some(150_000),
                min_discount_bps: Some(2000),
            }
        );
        let anything = facts(json!({"q": "hydro"}));
        assert_eq!(
            anything,
            IndexedFacts { match_key: "any".into(), country: None, max_price_cents: None, min_discount_bps: None }
        );

        // A KZ lot of that model at $1,400, 19 % below its reference.
        let probe = CandidateProbe::new(model, "25to38", "KZ", 140_000, Some(1900));
        assert!(reaches(&probe, &anything));
        assert!(!reaches(&probe, &named), "below the 20 % floor");
        assert!(reaches(&CandidateProbe::new(model, "25to38", "KZ", 140_000, Some(2000)), &named));
        assert!(!reaches(&CandidateProbe::new(model, "25to38", "US", 140_000, Some(2000)), &named), "elsewhere");
        assert!(!reaches(&CandidateProbe::new(model, "25to38", "KZ", 150_001, Some(2000)), &named), "too dear");
        // Without a reference a lot has no discount: only searches without a floor.
        let no_reference = CandidateProbe::new(model, "25to38", "KZ", 140_000, None);
        assert!(!reaches(&no_reference, &named));
        assert!(reaches(&no_reference, &anything));
        // Dearer than its reference: a negative discount still meets no floor.
        assert!(reaches(&CandidateProbe::new(model, "25to38", "KZ", 140_000, Some(-500)), &anything));
        assert!(reaches(&probe, &facts(json!({"min_discount_pct": -10}))), "a negative floor");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(checked_name("  S19j under $30/TH ").unwrap(), "S19j under $30/TH");
        assert!(checked_name("   ").is_err());
        assert!(checked_name(&"x".repeat(101)).is_err());
    }
}
