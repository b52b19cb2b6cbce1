//! Unit rows from a CSV file (`rigmarket units import`): a header naming the
//! columns (`serial` required; `mac`, `hashboard_serials` separated by `;`,
//! `psu_serial`, `grade`, `hashboards_working`, `notes` optional), one unit per
//! line. Problems carry the file's line number (the header is line 1), so the
//! report names every bad row the way the API does.

use crate::error::FieldError;

use super::rules::UnitInput;

const COLUMNS: [&str; 7] = ["serial", "mac", "hashboard_serials", "psu_serial", "grade", "hashboards_working", "notes"];

/// The units of a file with the line of each, or every problem the file's
/// shape has (unknown columns, unreadable lines, numbers that are not).
pub fn parse_units(contents: &[u8]) -> Result<Vec<(usize, UnitInput)>, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(contents);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(err) => return Err(vec![FieldError::in_row(1, "header", "unreadable", err.to_string())]),
    };
    let mut errors = Vec::new();
    let unknown: Vec<&str> = headers.iter().filter(|h| !COLUMNS.contains(h)).collect();
    if !unknown.is_empty() || !headers.iter().any(|h| h == "serial") {
        let message = format!("columns must be {} (serial required); unknown: {unknown:?}", COLUMNS.join(", "));
        return Err(vec![FieldError::in_row(1, "header", "unknown_columns", message)]);
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                errors.push(FieldError::in_row(line, "line", "unreadable", err.to_string()));
                continue;
            }
        };
        let text = |name: &str| column(name).and_then(|i| record.get(i)).filter(|v| !v.is_empty()).map(str::to_string);
        let hashboards_working = match text("hashboards_working").map(|v| v.parse::<i32>()) {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                errors.push(FieldError::in_row(line, "hashboards_working", "not_a_number", "must be a whole number"));
                None
            }
            None => None,
        };
        let hashboard_serials = text("hashboard_serials")
            .map(|v| v.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect());
        rows.push((
            line,
            UnitInput {
                serial: text("serial").unwrap_or_default(),
                mac: text("mac"),
                hashboard_serials,
                psu_serial: text("psu_serial"),
                grade: text("grade"),
                hashboards_working,
                notes: text("notes"),
            },
        ));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_carry_their_line_numbers() {
        let file = "serial,mac,grade,hashboards_working,hashboard_serials\nA1,a45e60123456,b,3,HB1;HB2\nA2,,,x,\n";
        let errors = parse_units(file.as_bytes()).unwrap_err();
        assert_eq!((errors[0].row, errors[0].field.as_str()), (Some(3), "hashboards_working"));
        let rows = parse_units(b"serial,grade\nA1,b\n A2 ,\n").unwrap();
        assert_eq!(rows.iter().map(|(line, _)| *line).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(rows[1].1.serial, "A2");
        assert_eq!(rows[0].1.grade.as_deref(), Some("b"));
    }

    #[test]
    fn unknown_columns_refuse_the_file() {
        assert_eq!(parse_units(b"serial,colour\nA1,red\n").unwrap_err()[0].field, "header");
        assert_eq!(parse_units(b"mac\nA1\n").unwrap_err()[0].field, "header");
    }
}
