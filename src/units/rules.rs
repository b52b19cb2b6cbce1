//! The rules of a unit's identity and description, with no I/O: serials and
//! MACs normalised (trimmed, upper case, MAC as `AA:BB:CC:DD:EE:FF`), grades A
//! to D, and a batch checked whole so that every bad row is named at once.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, FieldError};

/// The most units one call (or one CSV file) may register.
pub const MAX_UNITS_PER_CALL: usize = 5_000;
pub const MAX_SERIAL_LEN: usize = 64;
const MAX_NOTES_LEN: usize = 1_000;
const MAX_HASHBOARDS: i32 = 16;

/// One unit as a seller sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "serial": "HTM3X1234567", "mac": "a4:5e:60:12:34:56", "hashboard_serials": ["HB1A001", "HB1A002", "HB1A003"],
    "psu_serial": "APW12-0042", "grade": "B", "hashboards_working": 3, "notes": "one fan replaced"
}))]
pub struct UnitInput {
    pub serial: String,
    pub mac: Option<String>,
    pub hashboard_serials: Option<Vec<String>>,
    pub psu_serial: Option<String>,
    /// `A` (as new) to `D` (worn).
    pub grade: Option<String>,
    pub hashboards_working: Option<i32>,
    pub notes: Option<String>,
}

/// A unit after its rules: normalised and ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    pub serial: String,
    pub mac: Option<String>,
    pub hashboard_serials: Vec<String>,
    pub psu_serial: Option<String>,
    pub grade: Option<String>,
    pub hashboards_working: Option<i32>,
    pub notes: Option<String>,
}

/// What is wrong with a field of a row (the `code` of its error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowProblem {
    SerialRequired,
    SerialTooLong,
    SerialInvalid,
    SerialRepeated,
    MacInvalid,
    MacRepeated,
    GradeUnknown,
    OutOfRange,
    TooLong,
    /// The serial or MAC is already registered in this lot.
    AlreadyInLot,
}

impl RowProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SerialRequired => "serial_required",
            Self::SerialTooLong => "serial_too_long",
            Self::SerialInvalid => "serial_invalid",
            Self::SerialRepeated => "serial_repeated",
            Self::MacInvalid => "mac_invalid",
            Self::MacRepeated => "mac_repeated",
            Self::GradeUnknown => "grade_unknown",
            Self::OutOfRange => "out_of_range",
            Self::TooLong => "too_long",
            Self::AlreadyInLot => "already_in_lot",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::SerialRequired => "must not be empty",
            Self::SerialTooLong => "must be at most 64 characters",
            Self::SerialInvalid => "must be letters, digits, '.', '_', '/' or '-', starting with a letter or digit",
            Self::SerialRepeated => "appears more than once",
            Self::MacInvalid => "must be six hexadecimal bytes (AA:BB:CC:DD:EE:FF)",
            Self::MacRepeated => "appears more than once",
            Self::GradeUnknown => "must be A, B, C or D",
            Self::OutOfRange => "must be between 0 and 16",
            Self::TooLong => "is too long",
            Self::AlreadyInLot => "is already registered in this lot",
        }
    }

    /// The error for `field` of `row`.
    pub fn at(self, row: usize, field: &str) -> FieldError {
        FieldError::in_row(row, field, self.as_str(), self.message())
    }
}

/// A serial trimmed and upper-cased, or why it cannot be one.
pub fn normalise_serial(raw: &str) -> Result<String, RowProblem> {
    let serial = raw.trim().to_uppercase();
    if serial.is_empty() {
        return Err(RowProblem::SerialRequired);
    }
    if serial.chars().count() > MAX_SERIAL_LEN {
        return Err(RowProblem::SerialTooLong);
    }
    let allowed = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '/' | '-');
    let starts_well = serial.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !starts_well || !serial.chars().all(allowed) {
        return Err(RowProblem::SerialInvalid);
    }
    Ok(serial)
}

/// Normalises serials named in a request, refusing duplicates; errors name
/// the field of the `i`th serial as `field_of(i)` says.
pub fn normalised_serials<'a>(
    field_of: impl Fn(usize) -> String,
    raw: impl IntoIterator<Item = &'a str>,
) -> ApiResult<Vec<String>> {
    let mut serials: Vec<String> = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let serial = normalise_serial(raw).map_err(|p| ApiError::validation(field_of(i), p.as_str().to_string()))?;
        if serials.contains(&serial) {
            return Err(ApiError::validation(field_of(i), "appears more than once"));
        }
        serials.push(serial);
    }
    Ok(serials)
}

/// A MAC in any usual spelling (`aa:bb:..`, `AA-BB-..`, `aabb.ccdd.eeff`,
/// twelve bare digits) as `AA:BB:CC:DD:EE:FF`.
pub fn normalise_mac(raw: &str) -> Result<String, RowProblem> {
    let digits: String = raw.trim().chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(RowProblem::MacInvalid);
    }
    let upper = digits.to_ascii_uppercase();
    Ok(upper.as_bytes().chunks(2).map(|pair| std::str::from_utf8(pair).expect("ASCII")).collect::<Vec<_>>().join(":"))
}

pub fn normalise_grade(raw: &str) -> Result<String, RowProblem> {
    let grade = raw.trim().to_uppercase();
    match grade.as_str() {
        "A" | "B" | "C" | "D" => Ok(grade),
        _ => Err(RowProblem::GradeUnknown),
    }
}

fn optional_text(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// One row's rules; every problem of the row is pushed to `errors`.
pub fn check_unit(row: usize, input: &UnitInput, errors: &mut Vec<FieldError>) -> Option<NewUnit> {
    let before = errors.len();
    let serial = normalise_serial(&input.serial).map_err(|p| errors.push(p.at(row, "serial"))).ok();
    let mac = match optional_text(input.mac.as_deref()) {
        Some(mac) => normalise_mac(&mac).map_err(|p| errors.push(p.at(row, "mac"))).ok(),
        None => None,
    };
    let grade = match optional_text(input.grade.as_deref()) {
        Some(grade) => normalise_grade(&grade).map_err(|p| errors.push(p.at(row, "grade"))).ok(),
        None => None,
    };
    let mut hashboard_serials = Vec::new();
    for (i, raw) in input.hashboard_serials.iter().flatten().enumerate() {
        match normalise_serial(raw) {
            Ok(serial) => hashboard_serials.push(serial),
            Err(p) => errors.push(p.at(row, &format!("hashboard_serials[{i}]"))),
        }
    }
    if hashboard_serials.len() > MAX_HASHBOARDS as usize {
        errors.push(RowProblem::TooLong.at(row, "hashboard_serials"));
    }
    let psu_serial = match optional_text(input.psu_serial.as_deref()) {
        Some(psu) => normalise_serial(&psu).map_err(|p| errors.push(p.at(row, "psu_serial"))).ok(),
        None => None,
    };
    if input.hashboards_working.is_some_and(|n| !(0..=MAX_HASHBOARDS).contains(&n)) {
        errors.push(RowProblem::OutOfRange.at(row, "hashboards_working"));
    }
    let notes = optional_text(input.notes.as_deref());
    if notes.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTES_LEN) {
        errors.push(RowProblem::TooLong.at(row, "notes"));
    }
    if errors.len() > before {
        return None;
    }
    Some(NewUnit {
        serial: serial?,
        mac,
        hashboard_serials,
        psu_serial,
        grade,
        hashboards_working: input.hashboards_working,
        notes,
    })
}

/// A whole batch: every row checked, serials and MACs unique within it. `rows`
/// pairs each input with the row number its errors carry.
pub fn check_batch<'a>(
    rows: impl IntoIterator<Item = (usize, &'a UnitInput)>,
) -> Result<Vec<NewUnit>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut units = Vec::new();
    let mut serials = std::collections::HashSet::new();
    let mut macs = std::collections::HashSet::new();
    for (row, input) in rows {
        let Some(unit) = check_unit(row, input, &mut errors) else {
            continue;
        };
        if !serials.insert(unit.serial.clone()) {
            errors.push(RowProblem::SerialRepeated.at(row, "serial"));
        }
        if unit.mac.as_ref().is_some_and(|mac| !macs.insert(mac.clone())) {
            errors.push(RowProblem::MacRepeated.at(row, "mac"));
        }
        units.push(unit);
    }
    if errors.is_empty() {
        Ok(units)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(serial: &str) -> UnitInput {
        UnitInput { serial: serial.into(), ..Default::default() }
    }

    #[test]
    fn serials_are_trimmed_and_upper_cased() {
        assert_eq!(normalise_serial("  htm3x-0001 "), Ok("HTM3X-0001".into()));
        assert_eq!(normalise_serial("   "), Err(RowProblem::SerialRequired));
        assert_eq!(normalise_serial(&"A".repeat(65)), Err(RowProblem::SerialTooLong));
        assert_eq!(normalise_serial(&"a".repeat(64)), Ok("A".repeat(64)));
        assert_eq!(normalise_serial("AB CD"), Err(RowProblem::SerialInvalid));
        assert_eq!(normalise_serial("-AB"), Err(RowProblem::SerialInvalid));
    }

    #[test]
    fn macs_take_any_usual_spelling() {
        for raw in ["a4:5e:60:12:34:56", "A4-5E-60-12-34-56", "a45e.6012.3456", "a45e60123456"] {
            assert_eq!(normalise_mac(raw), Ok("A4:5E:60:12:34:56".into()), "{raw}");
        }
        for raw in ["a4:5e:60:12:34", "g4:5e:60:12:34:56", "", "a4:5e:60:12:34:56:78"] {
            assert_eq!(normalise_mac(raw), Err(RowProblem::MacInvalid), "{raw}");
        }
    }

    #[test]
    fn a_batch_names_every_bad_row_and_repeats() {
        let rows = [
            unit("A1"),
            UnitInput { mac: Some("zz".into()), ..unit("a2") },
            unit(" a1 "),
            UnitInput { grade: Some("E".into()), hashboards_working: Some(17), ..unit("") },
        ];
        let errors = check_batch(rows.iter().enumerate()).unwrap_err();
        let found: Vec<_> =
            errors.iter().map(|e| (e.row.unwrap(), e.field.as_str(), e.code.clone().unwrap())).collect();
        assert_eq!(
            found,
            vec![
                (1, "mac", "mac_invalid".to_string()),
                (2, "serial", "serial_repeated".to_string()),
                (3, "serial", "serial_required".to_string()),
                (3, "grade", "grade_unknown".to_string()),
                (3, "hashboards_working", "out_of_range".to_string()),
            ]
        );
    }

    #[test]
    fn a_good_batch_comes_back_normalised() {
        let rows = [UnitInput { grade: Some("b".into()), mac: Some("a45e60123456".into()), ..unit(" x1 ") }];
        let units = check_batch(rows.iter().enumerate()).unwrap();
        assert_eq!(units[0].serial, "X1");
        assert_eq!(units[0].grade.as_deref(), Some("B"));
        assert_eq!(units[0].mac.as_deref(), Some("A4:5E:60:12:34:56"));
    }
}
