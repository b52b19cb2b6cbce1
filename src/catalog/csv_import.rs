//! CSV parsing for catalog imports. A file is accepted whole or not at all: every
//! row is validated first and all problems are reported with their line numbers.

use std::io::Read;

use chrono::NaiveDate;

use super::queries::{ModelSpec, TierPriceRow};
use super::tiers::{efficiency_j_per_th, TierBand};
use crate::decimal::parse_scaled_decimal;
use crate::error::FieldError;

/// Rows read from a CSV file, or every problem found in it.
pub type Parsed<T> = Result<Vec<T>, Vec<RowError>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.column, self.message)
    }
}

impl From<RowError> for FieldError {
    fn from(err: RowError) -> Self {
        FieldError::new(format!("line {} {}", err.line, err.column), err.message)
    }
}

/// Allowed difference between a file's stated efficiency and power / hashrate.
const EFFICIENCY_TOLERANCE: f64 = 0.01;
pub const MAX_NAME_LEN: usize = 120;

/// Validates the fields every model must satisfy, wherever it comes from.
pub fn check_model_spec(spec: &ModelSpec) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let text = |field: &'static str, value: &str, max: usize, problems: &mut Vec<(&'static str, String)>| {
        if value.trim().is_empty() {
            problems.push((field, "must not be empty".to_string()));
        } else if value.chars().count() > max {
            problems.push((field, format!("must be at most {max} characters")));
        }
    };
    text("manufacturer", &spec.manufacturer, MAX_NAME_LEN, &mut problems);
    text("name", &spec.name, MAX_NAME_LEN, &mut problems);
    text("algorithm", &spec.algorithm, 40, &mut problems);
    if spec.hashrate_hs <= 0 {
        problems.push(("hashrate_hs", "must be positive".into()));
    }
    if !(1..=1_000_000).contains(&spec.power_w) {
        problems.push(("power_w", "must be between 1 and 1000000".into()));
    }
    if let Some(year) = spec.release_year {
        if !(2009..=2100).contains(&year) {
            problems.push(("release_year", "must be between 2009 and 2100".into()));
        }
    }
    problems
}

struct Table {
    headers: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

/// Reads the header and every record. A bad header (or one swallowed by an
/// unterminated quote) rejects the file outright; malformed records are
/// returned as errors beside the good rows, so the caller reports them together
/// with its own checks of those rows.
fn read_table(mut input: impl Read, required: &[&str]) -> Result<(Table, Vec<RowError>), Vec<RowError>> {
    let header_error = |message: String| vec![RowError { line: 1, column: "header".into(), message }];
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| header_error(format!("unreadable file: {e}")))?;
    let unterminated = unterminated_quote(&bytes);
    if unterminated == Some(1) {
        return Err(header_error("unterminated quote".into()));
    }
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| header_error(format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = required.iter().copied().filter(|c| !headers.iter().any(|h| h == c)).collect();
    if !missing.is_empty() {
        return Err(header_error(format!("missing column(s): {}", missing.join(", "))));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // The record's own starting line (a quoted field may span lines).
        let fallback = index + 2;
        match record {
            Ok(record) => {
                let line = record.position().map_or(fallback, |p| p.line() as usize);
                // Everything from the unterminated quote on is one runaway field.
                if unterminated.is_none_or(|opened| line < opened) {
                    rows.push((line, record));
                }
            }
            Err(err) => {
                let line = err.position().map_or(fallback, |p| p.line() as usize);
                if unterminated.is_none_or(|opened| line < opened) {
                    errors.push(RowError { line, column: "row".into(), message: format!("malformed CSV: {err}") });
                }
            }
        }
    }
    if let Some(line) = unterminated {
        let message = "unterminated quote: the quoted field opened on this line never closes".to_string();
        errors.push(RowError { line, column: "row".into(), message });
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(header_error("the file has no data rows".into()));
    }
    Ok((Table { headers, rows }, errors))
}

/// The line on which a quoted field opens and never closes, if any. The csv
/// reader accepts such a field silently, running it to the end of the file and
/// swallowing every later row. Follows the reader's rules: a quote opens a
/// field only as its first character, and `""` inside one is an escaped quote.
fn unterminated_quote(bytes: &[u8]) -> Option<usize> {
    let mut line = 1;
    let mut opened_on = None;
    let mut field_start = true;
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        if opened_on.is_some() {
            match byte {
                b'"' if iter.peek() == Some(&&b'"') => {
                    iter.next();
                }
                b'"' => opened_on = None,
                b'\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' if field_start => {
                opened_on = Some(line);
                field_start = false;
            }
            b',' => field_start = true,
            b'\n' => {
                line += 1;
                field_start = true;
            }
            _ => field_start = false,
        }
    }
    opened_on
}

/// Problems in file order (a row's own problems keep their order).
fn sorted(mut errors: Vec<RowError>) -> Vec<RowError> {
    errors.sort_by_key(|e| e.line);
    errors
}

impl Table {
    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        self.headers.iter().position(|h| h == column).and_then(|i| record.get(i)).unwrap_or("")
    }
}

/// What is wrong with a file's stated efficiency (J/TH), if anything: it is
/// optional, but when given it must agree with power / hashrate.
fn stated_efficiency_problem(stated: &str, spec: &ModelSpec) -> Option<String> {
    if stated.is_empty() {
        return None;
    }
    let Ok(stated) = stated.parse::<f64>() else {
        return Some("must be a number".into());
    };
    let derived = efficiency_j_per_th(spec.hashrate_hs, spec.power_w);
    ((derived - stated).abs() > stated.abs() * EFFICIENCY_TOLERANCE)
        .then(|| format!("{stated} disagrees with power / hashrate = {derived:.1}"))
}

/// Reads the rig model catalog format of `data/rig_models.csv`:
/// `manufacturer,model,algorithm,hashrate_ths,power_w,efficiency_j_per_th,release_year,source`.
pub fn parse_models(input: impl Read) -> Parsed<ModelSpec> {
    let (table, mut errors) = read_table(input, &["manufacturer", "model", "algorithm", "hashrate_ths", "power_w"])?;
    let mut specs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, record) in &table.rows {
        let line = *line;
        let mut fail = |column: &str, message: String| errors.push(RowError { line, column: column.into(), message });
        let hashrate_hs = parse_scaled_decimal(table.get(record, "hashrate_ths"), 12);
        if hashrate_hs.is_none() {
            fail("hashrate_ths", "must be a positive decimal number of TH/s with at most 12 decimals".into());
        }
        let power_w = table.get(record, "power_w").parse::<i32>().ok();
        if power_w.is_none() {
            fail("power_w", "must be a whole number of watts".into());
        }
        let release_year = match table.get(record, "release_year") {
            "" => Some(None),
            year => year.parse::<i16>().ok().map(Some),
        };
        if release_year.is_none() {
            fail("release_year", "must be a year".into());
        }
        let (Some(hashrate_hs), Some(power_w), Some(release_year)) = (hashrate_hs, power_w, release_year) else {
            continue;
        };
        let spec = ModelSpec {
            manufacturer: table.get(record, "manufacturer").to_string(),
            name: table.get(record, "model").to_string(),
            algorithm: table.get(record, "algorithm").to_string(),
            hashrate_hs,
            power_w,
            release_year,
            source: Some(table.get(record, "source").to_string()).filter(|s| !s.is_empty()),
        };
        let problems = check_model_spec(&spec);
        let valid = problems.is_empty();
        for (field, message) in problems {
            fail(field, message);
        }
        if !valid {
            continue;
        }
        if let Some(message) = stated_efficiency_problem(table.get(record, "efficiency_j_per_th"), &spec) {
            fail("efficiency_j_per_th", message);
            continue;
        }
        if !seen.insert((spec.manufacturer.to_lowercase(), spec.name.to_lowercase())) {
            fail("model", format!("{} {} appears more than once", spec.manufacturer, spec.name));
            continue;
        }
        specs.push(spec);
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(sorted(errors))
    }
}

/// Reads a tier price series: `date,tier,usd_per_th,source`.
pub fn parse_tier_prices(input: impl Read) -> Parsed<TierPriceRow> {
    let (table, mut errors) = read_table(input, &["date", "tier", "usd_per_th"])?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, record) in &table.rows {
        let mut fail =
            |column: &str, message: String| errors.push(RowError { line: *line, column: column.into(), message });
        let date = NaiveDate::parse_from_str(table.get(record, "date"), "%Y-%m-%d").ok();
        if date.is_none() {
            fail("date", "must be a date like 2021-05-07".into());
        }
        let band = TierBand::parse(table.get(record, "tier"));
        if band.is_none() {
            fail("tier", "must be a band like under19, 25to38 or above68".into());
        }
        let cents = parse_scaled_decimal(table.get(record, "usd_per_th"), 2).filter(|c| *c > 0);
        if cents.is_none() {
            fail("usd_per_th", "must be a positive USD amount with at most 2 decimals".into());
        }
        let (Some(priced_on), Some(band), Some(usd_per_th_cents)) = (date, band, cents) else {
            continue;
        };
        if !seen.insert((band.key.clone(), priced_on)) {
            fail("tier", format!("{} on {priced_on} appears more than once", band.key));
            continue;
        }
        rows.push(TierPriceRow {
            band,
            priced_on,
            usd_per_th_cents,
            source: Some(table.get(record, "source").to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "import".into()),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(sorted(errors))
    }
}

/// A model reference price row before the model name is resolved to an id.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPriceRow {
    pub line: usize,
    pub manufacturer: String,
    pub model: String,
    pub priced_on: NaiveDate,
    pub basis: super::model::PriceBasis,
    pub amount_cents: i64,
    pub note: Option<String>,
}

/// Reads per-model reference prices: `manufacturer,model,date,basis,amount_usd,note`
/// where `basis` is `unit` (price of one rig) or `th` (price of one TH/s).
/// Returns the good rows AND the problems: the caller still resolves the good
/// rows' models, so an unknown model is reported together with syntax errors.
pub fn parse_model_prices(input: impl Read) -> (Vec<ModelPriceRow>, Vec<RowError>) {
    let (table, mut errors) = match read_table(input, &["manufacturer", "model", "date", "basis", "amount_usd"]) {
        Ok(read) => read,
        Err(fatal) => return (Vec::new(), fatal),
    };
    let mut rows = Vec::new();
    for (line, record) in &table.rows {
        let mut fail =
            |column: &str, message: String| errors.push(RowError { line: *line, column: column.into(), message });
        let date = NaiveDate::parse_from_str(table.get(record, "date"), "%Y-%m-%d").ok();
        if date.is_none() {
            fail("date", "must be a date like 2021-05-07".into());
        }
        let basis = super::model::PriceBasis::parse(table.get(record, "basis"));
        if basis.is_none() {
            fail("basis", "must be `unit` or `th`".into());
        }
        let cents = parse_scaled_decimal(table.get(record, "amount_usd"), 2).filter(|c| *c > 0);
        if cents.is_none() {
            fail("amount_usd", "must be a positive USD amount with at most 2 decimals".into());
        }
        for column in ["manufacturer", "model"] {
            if table.get(record, column).is_empty() {
                fail(column, "must not be empty".into());
            }
        }
        let (Some(priced_on), Some(basis), Some(amount_cents)) = (date, basis, cents) else {
            continue;
        };
        rows.push(ModelPriceRow {
            line: *line,
            manufacturer: table.get(record, "manufacturer").to_string(),
            model: table.get(record, "model").to_string(),
            priced_on,
            basis,
            amount_cents,
            note: Some(table.get(record, "note").to_string()).filter(|s| !s.is_empty()),
        });
    }
    (rows, sorted(errors))
}

/// Merges two lists of problems into file order.
pub fn in_file_order(first: Vec<RowError>, second: Vec<RowError>) -> Vec<RowError> {
    sorted(first.into_iter().chain(second).collect())
}

/// What kind of reference-price file this is, from its header.
#[derive(Debug, PartialEq, Eq)]
pub enum PriceFileKind {
    Tier,
    Model,
}

pub fn detect_price_file(contents: &str) -> Option<PriceFileKind> {
    let header = contents.lines().next()?.trim_start_matches('\u{feff}').to_ascii_lowercase();
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    if columns.contains(&"tier") && columns.contains(&"usd_per_th") {
        Some(PriceFileKind::Tier)
    } else if columns.contains(&"model") && columns.contains(&"amount_usd") {
        Some(PriceFileKind::Model)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_MODELS: &str = include_str!("../../data/rig_models.csv");
    const SEED_TIERS: &str = include_str!("../../data/tier_price_history.csv");

    #[test]
    fn the_shipped_catalog_parses_to_31_models() {
        let models = parse_models(SEED_MODELS.as_bytes()).expect("seed catalog is valid");
        assert_eq!(models.len(), 31);
        let s7 = &models[0];
        assert_eq!((s7.name.as_str(), s7.hashrate_hs, s7.power_w), ("Antminer S7", 4_730_000_000_000, 1293));
    }

    #[test]
    fn the_shipped_tier_history_parses() {
        let rows = parse_tier_prices(SEED_TIERS.as_bytes()).expect("tier history is valid");
        assert_eq!(rows.len(), 9);
        assert_eq!(rows[0].band.key, "under38");
        assert_eq!(rows[0].usd_per_th_cents, 11925);
    }

    #[test]
    fn bad_rows_are_all_reported_with_line_numbers() {
        let csv = "manufacturer,model,algorithm,hashrate_ths,power_w,efficiency_j_per_th,release_year,source\n\
                   Bitmain,Good,SHA-256,100,3000,30,2020,x\n\
                   Bitmain,NegPower,SHA-256,100,-5,,2020,x\n\
                   Bitmain,BadRate,SHA-256,abc,3000,,2020,x\n\
                   Bitmain,WrongEff,SHA-256,100,3000,45,2020,x\n\
                   ,NoMaker,SHA-256,100,3000,30,1990,x\n";
        let errors = parse_models(csv.as_bytes()).unwrap_err();
        let summary: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                (3, "power_w"),
                (4, "hashrate_ths"),
                (5, "efficiency_j_per_th"),
                (6, "manufacturer"),
                (6, "release_year"),
            ]
        );
    }

    #[test]
    fn duplicate_models_and_missing_columns_are_rejected() {
        let csv = "manufacturer,model,algorithm,hashrate_ths,power_w\nA,X,SHA-256,1,10\nA,x,SHA-256,1,10\n";
        assert_eq!(parse_models(csv.as_bytes()).unwrap_err()[0].line, 3);
        let errors = parse_models("manufacturer,model\nA,B\n".as_bytes()).unwrap_err();
        assert!(errors[0].message.contains("hashrate_ths"));
    }

    #[test]
    fn tier_rows_validate_band_date_and_amount() {
        let csv = "date,tier,usd_per_th,source\n2021-13-01,under38,10,x\n2021-05-01,weird,10,x\n2021-05-01,under38,0,x\n2021-05-01,25to38,1.999,x\n";
        let lines: Vec<usize> = parse_tier_prices(csv.as_bytes()).unwrap_err().iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5]);
    }

    #[test]
    fn an_unterminated_quote_is_refused_at_its_line_with_the_other_problems() {
        let csv = "manufacturer,model,algorithm,hashrate_ths,power_w\n\
                   Bitmain,\"Antminer, S9\",SHA-256,14,1372\n\
                   Bitmain,Bad,SHA-256,abc,1372\n\
                   Bitmain,\"Runaway,SHA-256,14,1372\n\
                   Bitmain,Swallowed,SHA-256,14,1372\n";
        let errors = parse_models(csv.as_bytes()).unwrap_err();
        let summary: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(summary, vec![(3, "hashrate_ths"), (4, "row")], "{errors:?}");
        assert!(errors[1].message.contains("unterminated quote"), "{errors:?}");
        // Closed quotes, escaped quotes and quotes inside a field are fine.
        let fine = "manufacturer,model,algorithm,hashrate_ths,power_w\nBitmain,\"S9 \"\"j\"\"\nrev\",SHA-256,14,1372\nBit\"main,S7,SHA-256,5,1300\n";
        assert_eq!(parse_models(fine.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn model_price_syntax_errors_come_with_the_good_rows() {
        let csv = "manufacturer,model,date,basis,amount_usd\nA,X,2021-05-01,unit,10\nA,Y,2021-05-01,weird,10\n";
        let (rows, errors) = parse_model_prices(csv.as_bytes());
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2]);
        assert_eq!(errors.iter().map(|e| (e.line, e.column.as_str())).collect::<Vec<_>>(), vec![(3, "basis")]);
    }

    #[test]
    fn price_files_are_told_apart_by_header() {
        assert_eq!(detect_price_file(SEED_TIERS), Some(PriceFileKind::Tier));
        assert_eq!(detect_price_file("manufacturer,model,date,basis,amount_usd\n"), Some(PriceFileKind::Model));
        assert_eq!(detect_price_file("a,b\n"), None);
    }
}
