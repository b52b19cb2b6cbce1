//! Request bodies for listings and their validation (pure: every rule that needs
//! no database lives here, so it is unit-tested directly).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::model::{Currency, Hosting, Incoterm, ListingRow};
use super::offer_settings::{OfferSettings, OfferSettingsInput};
use crate::db::ids::RigModelId;
use crate::validation::Problems;

pub const MAX_QUANTITY: i32 = 100_000;
pub const MAX_UNIT_PRICE_CENTS: i64 = 100_000_000_000; // $1 billion
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_SERIAL_NUMBERS: usize = 10_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "rig_model_id": "0190f0c4-1d90-728d-b552-b7280abaab69",
    "title": "120x S19 Pro, Ekibastuz, must go by July 15",
    "description": "Air-cooled since 2020, stock firmware, all hashboards working.",
    "quantity": 120,
    "unit_price_cents": 95000,
    "currency": "USD",
    "country": "KZ",
    "region": "Pavlodar",
    "incoterm": "EXW",
    "lead_time_days": 5,
    "inspection_days": 3,
    "hosting": {"facility": "Ekibastuz DC-2", "country": "KZ", "contract_ends_on": "2021-07-31", "power_off_at": "2021-07-15T00:00:00Z"}
}))]
pub struct CreateListing {
    #[schema(value_type = uuid::Uuid)]
    pub rig_model_id: RigModelId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub currency: Currency,
    /// ISO 3166-1 alpha-2 country where the rigs are.
    pub country: String,
    pub region: Option<String>,
    pub incoterm: Option<Incoterm>,
    pub lead_time_days: Option<i32>,
    /// Days the buyer has to inspect after delivery (1-14, default 3).
    pub inspection_days: Option<i32>,
    /// Units (in percent of an order's quantity, rounded down) the buyer takes
    /// dead on arrival without a refund: 0-10, default 0.
    pub doa_allowance_pct: Option<i32>,
    #[serde(default)]
    pub serial_numbers: Vec<String>,
    pub hosting: Option<Hosting>,
    /// Offer settings (default: offers on, no floor, no auto-accept).
    pub offers: Option<OfferSettingsInput>,
}

/// Changes to a listing: absent fields stay as they are; `null` clears optional
/// ones. Live listings accept only price, quantity and description.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"unit_price_cents": 89000, "quantity": 100}))]
pub struct UpdateListing {
    #[schema(value_type = Option<uuid::Uuid>)]
    pub rig_model_id: Option<RigModelId>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub quantity: Option<i32>,
    pub unit_price_cents: Option<i64>,
    pub country: Option<String>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<Incoterm>)]
    pub incoterm: Option<Option<Incoterm>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub lead_time_days: Option<Option<i32>>,
    pub inspection_days: Option<i32>,
    pub doa_allowance_pct: Option<i32>,
    pub serial_numbers: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<Hosting>)]
    pub hosting: Option<Option<Hosting>>,
    /// Offer settings; editable in every status.
    pub offers: Option<OfferSettingsInput>,
}

impl UpdateListing {
    /// Fields a live listing may not change, by JSON name.
    pub fn locked_fields_present(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut check = |present: bool, name: &'static str| {
            if present {
                fields.push(name);
            }
        };
        check(self.rig_model_id.is_some(), "rig_model_id");
        check(self.title.is_some(), "title");
        check(self.country.is_some(), "country");
        check(self.region.is_some(), "region");
        check(self.incoterm.is_some(), "incoterm");
        check(self.lead_time_days.is_some(), "lead_time_days");
        check(self.inspection_days.is_some(), "inspection_days");
        check(self.doa_allowance_pct.is_some(), "doa_allowance_pct");
        check(self.serial_numbers.is_some(), "serial_numbers");
        check(self.hosting.is_some(), "hosting");
        fields
    }
}

/// A title of 3 to 140 characters.
fn check_title(problems: &mut Problems, title: &str) {
    problems.text("title", title, 3, 140);
}

fn check_description(problems: &mut Problems, description: &str) {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        problems.add("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters"));
    }
}

pub fn check_quantity(problems: &mut Problems, quantity: i32) {
    problems.within("quantity", quantity, 1..=MAX_QUANTITY);
}

pub fn check_unit_price(problems: &mut Problems, cents: i64) {
    problems.within("unit_price_cents", cents, 1..=MAX_UNIT_PRICE_CENTS);
}

fn check_lead_time(problems: &mut Problems, days: Option<i32>) {
    if let Some(days) = days {
        problems.within("lead_time_days", days, 0..=365);
    }
}

pub fn check_inspection_days(problems: &mut Problems, days: i32) {
    problems.within("inspection_days", days, 1..=14);
}

pub fn check_doa_allowance(problems: &mut Problems, pct: i32) {
    problems.within("doa_allowance_pct", pct, 0..=10);
}

/// Serial numbers: at most one per unit, unique, printable ASCII of 1-64
/// characters. Reports only the first few bad entries.
pub fn check_serial_numbers(problems: &mut Problems, serials: &[String], quantity: i32) {
    if serials.len() > MAX_SERIAL_NUMBERS || serials.len() > quantity.max(0) as usize {
        problems.add("serial_numbers", "must list at most one serial number per unit");
        return;
    }
    let mut seen = std::collections::HashSet::new();
    let mut reported = 0;
    for (index, serial) in serials.iter().enumerate() {
        let well_formed = (1..=64).contains(&serial.len())
            && serial.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
        let message = if !well_formed {
            Some("must be 1-64 characters of letters, digits, '-', '_', '.', '/'")
        } else if !seen.insert(serial.as_str()) {
            Some("is listed twice")
        } else {
            None
        };
        if let Some(message) = message {
            problems.add(format!("serial_numbers[{index}]"), message);
            reported += 1;
            if reported == 5 {
                break;
            }
        }
    }
}

pub fn check_hosting(problems: &mut Problems, hosting: &Hosting, now: DateTime<Utc>) {
    problems.text("hosting.facility", &hosting.facility, 1, 120);
    problems.country("hosting.country", &hosting.country);
    if hosting.power_off_at.is_some_and(|at| at <= now) {
        problems.add("hosting.power_off_at", "must be in the future");
    }
    if hosting.contract_ends_on.is_some_and(|on| on < now.date_naive() - chrono::Days::new(365 * 10)) {
        problems.add("hosting.contract_ends_on", "is implausibly old");
    }
}

/// Normalises a hosting block (upper-case country, trimmed facility).
pub fn normalize_hosting(hosting: Hosting) -> Hosting {
    Hosting {
        facility: hosting.facility.trim().to_string(),
        country: hosting.country.trim().to_ascii_uppercase(),
        contract_ends_on: hosting.contract_ends_on,
        power_off_at: hosting.power_off_at,
    }
}

pub fn validate_create(input: &CreateListing, now: DateTime<Utc>) -> Problems {
    let mut problems = Problems::default();
    check_title(&mut problems, &input.title);
    check_description(&mut problems, &input.description);
    check_quantity(&mut problems, input.quantity);
    check_unit_price(&mut problems, input.unit_price_cents);
    problems.country("country", &input.country);
    problems.optional_text("region", input.region.as_deref(), 120);
    check_lead_time(&mut problems, input.lead_time_days);
    check_inspection_days(&mut problems, input.inspection_days.unwrap_or(3));
    check_doa_allowance(&mut problems, input.doa_allowance_pct.unwrap_or(0));
    check_serial_numbers(&mut problems, &input.serial_numbers, input.quantity);
    if let Some(hosting) = &input.hosting {
        check_hosting(&mut problems, hosting, now);
    }
    if let Some(offers) = &input.offers {
        OfferSettings::DEFAULT.with(offers).validate(&mut problems, MAX_UNIT_PRICE_CENTS);
    }
    problems
}

/// Normalises an edit (country, hosting) and checks it against the listing as
/// it is (a quantity may not fall below what is reserved or sold).
pub fn validate_update(body: &mut UpdateListing, current: &ListingRow, now: DateTime<Utc>) -> Problems {
    let mut problems = Problems::default();
    if let Some(title) = &body.title {
        check_title(&mut problems, title);
    }
    if let Some(description) = &body.description {
        check_description(&mut problems, description);
    }
    if let Some(quantity) = body.quantity {
        check_quantity(&mut problems, quantity);
        if quantity < current.quantity_reserved + current.quantity_sold {
            problems.add("quantity", "cannot be below the units already reserved or sold");
        }
    }
    if let Some(price) = body.unit_price_cents {
        check_unit_price(&mut problems, price);
    }
    body.country = body.country.take().map(|c| c.trim().to_ascii_uppercase());
    if let Some(country) = &body.country {
        problems.country("country", country);
    }
    problems.optional_text("region", body.region.as_ref().and_then(|r| r.as_deref()), 120);
    check_lead_time(&mut problems, body.lead_time_days.flatten());
    if let Some(days) = body.inspection_days {
        check_inspection_days(&mut problems, days);
    }
    if let Some(pct) = body.doa_allowance_pct {
        check_doa_allowance(&mut problems, pct);
    }
    if let Some(serials) = &body.serial_numbers {
        check_serial_numbers(&mut problems, serials, body.quantity.unwrap_or(current.quantity));
    }
    body.hosting = body.hosting.take().map(|h| h.map(normalize_hosting));
    if let Some(Some(hosting)) = &body.hosting {
        check_hosting(&mut problems, hosting, now);
    }
    if let Some(offers) = &body.offers {
        current.offer_settings().with(offers).validate(&mut problems, MAX_UNIT_PRICE_CENTS);
    }
    problems
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
pub enum CosmeticGrade {
    A,
    B,
    C,
    D,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Firmware {
    Stock,
    Custom,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cooling {
    Air,
    Hydro,
    Immersion,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "cosmetic_grade": "B", "hashboards_total": 3, "hashboards_working": 3, "fans_total": 4, "fans_working": 4,
    "psu_included": true, "psu_model": "APW12", "firmware": "stock", "firmware_version": "2021-03-12",
    "cooling_history": "air", "operating_hours": 9800, "last_hashrate_hs": 108000000000000_i64,
    "last_power_w": 3270, "max_chip_temp_c": 78, "repairs": "one fan replaced", "notes": "dusty"
}))]
pub struct ConditionReportInput {
    pub cosmetic_grade: CosmeticGrade,
    pub hashboards_total: i32,
    pub hashboards_working: i32,
    pub fans_total: i32,
    pub fans_working: i32,
    pub psu_included: bool,
    pub psu_model: Option<String>,
    pub firmware: Firmware,
    pub firmware_version: Option<String>,
    pub cooling_history: Cooling,
    pub operating_hours: Option<i32>,
    /// Last measured hashrate in H/s.
    pub last_hashrate_hs: Option<i64>,
    pub last_power_w: Option<i32>,
    pub max_chip_temp_c: Option<i32>,
    pub repairs: Option<String>,
    pub notes: Option<String>,
}

pub fn validate_condition_report(input: &ConditionReportInput) -> Problems {
    let mut problems = Problems::default();
    if !(1..=16).contains(&input.hashboards_total) {
        problems.add("hashboards_total", "must be between 1 and 16");
    }
    if !(0..=input.hashboards_total.max(0)).contains(&input.hashboards_working) {
        problems.add("hashboards_working", "must be between 0 and hashboards_total");
    }
    if !(0..=16).contains(&input.fans_total) {
        problems.add("fans_total", "must be between 0 and 16");
    }
    if !(0..=input.fans_total.max(0)).contains(&input.fans_working) {
        problems.add("fans_working", "must be between 0 and fans_total");
    }
    if input.operating_hours.is_some_and(|h| !(0..=500_000).contains(&h)) {
        problems.add("operating_hours", "must be between 0 and 500000");
    }
    if input.last_hashrate_hs.is_some_and(|h| h <= 0) {
        problems.add("last_hashrate_hs", "must be positive");
    }
    if input.last_power_w.is_some_and(|p| !(1..=1_000_000).contains(&p)) {
        problems.add("last_power_w", "must be between 1 and 1000000");
    }
    if input.max_chip_temp_c.is_some_and(|t| !(-40..=200).contains(&t)) {
        problems.add("max_chip_temp_c", "must be between -40 and 200");
    }
    problems.optional_text("psu_model", input.psu_model.as_deref(), 80);
    problems.optional_text("firmware_version", input.firmware_version.as_deref(), 80);
    problems.optional_text("repairs", input.repairs.as_deref(), 4000);
    problems.optional_text("notes", input.notes.as_deref(), 4000);
    problems
}

/// The hosting fields as stored (all `None` when there is no hosting block).
pub type HostingColumns = (Option<String>, Option<String>, Option<NaiveDate>, Option<DateTime<Utc>>);

pub fn hosting_columns(hosting: Option<&Hosting>) -> HostingColumns {
    match hosting {
        Some(h) => (Some(h.facility.clone()), Some(h.country.clone()), h.contract_ends_on, h.power_off_at),
        None => (None, None, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2021-06-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn listing() -> CreateListing {
        serde_json::from_value(serde_json::json!({
            "rig_model_id": uuid::Uuid::nil(), "title": "S19 Pro lot", "quantity": 10,
            "unit_price_cents": 95000, "currency": "USD", "country": "KZ"
        }))
        .unwrap()
    }

    fn fields(problems: &Problems) -> Vec<&str> {
        problems.fields()
    }

    #[test]
    fn a_minimal_listing_is_valid() {
        assert!(validate_create(&listing(), now()).is_empty());
    }

    #[test]
    fn zero_negative_and_huge_numbers_are_rejected() {
        let mut bad = listing();
        bad.quantity = 0;
        bad.unit_price_cents = -5;
        bad.inspection_days = Some(15);
        bad.lead_time_days = Some(-1);
        assert_eq!(
            fields(&validate_create(&bad, now())),
            vec!["quantity", "unit_price_cents", "lead_time_days", "inspection_days"]
        );
    }

    #[test]
    fn country_codes_and_hosting_deadlines_are_checked() {
        let mut bad = listing();
        bad.country = "XX".into();
        bad.hosting = Some(Hosting {
            facility: "DC".into(),
            country: "kz".into(),
            contract_ends_on: None,
            power_off_at: Some(now() - chrono::Duration::hours(1)),
        });
        assert_eq!(fields(&validate_create(&bad, now())), vec!["country", "hosting.country", "hosting.power_off_at"]);
    }

    #[test]
    fn garbage_serial_numbers_are_rejected_briefly() {
        let mut bad = listing();
        bad.quantity = 2000;
        bad.serial_numbers = (0..1000).map(|i| format!("bad serial #{i}")).collect();
        let problems = validate_create(&bad, now());
        assert_eq!(problems.fields().len(), 5, "reports the first five, not a thousand");
        let mut too_many = listing();
        too_many.serial_numbers = (0..11).map(|i| format!("SN{i}")).collect();
        assert_eq!(fields(&validate_create(&too_many, now())), vec!["serial_numbers"]);
        let mut dupes = listing();
        dupes.serial_numbers = vec!["SN1".into(), "SN1".into()];
        assert_eq!(fields(&validate_create(&dupes, now())), vec!["serial_numbers[1]"]);
    }

    #[test]
    fn live_listings_lock_everything_but_price_quantity_description() {
        let update = UpdateListing { unit_price_cents: Some(1), description: Some("x".into()), ..Default::default() };
        assert!(update.locked_fields_present().is_empty());
        let update = UpdateListing { title: Some("x".into()), hosting: Some(None), ..Default::default() };
        assert_eq!(update.locked_fields_present(), vec!["title", "hosting"]);
    }
}
