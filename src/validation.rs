//! Field checks that collect every problem of a request before answering, so a
//! client sees all of them at once (`ApiError::Validation` lists them). The rules
//! of each capability (a listing's quantity, an order's address) live with that
//! capability and report through [`Problems`].

use std::fmt::Display;
use std::ops::RangeInclusive;

use crate::error::{ApiError, FieldError};
use crate::geo::is_country_code;

/// Collects field errors; each check appends to it.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Text of `min` to `max` characters, where leading and trailing blanks do
    /// not count towards the minimum.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let length = value.trim().chars().count();
        if length < min || value.chars().count() > max {
            self.add(field, format!("must be {min} to {max} characters"));
        }
    }

    /// Like [`Problems::text`] with a minimum of 1, when the value is present.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.text(field, value, 1, max);
        }
    }

    /// A number within `range` ("must be between a and b").
    pub fn within<T: PartialOrd + Display>(&mut self, field: &str, value: T, range: RangeInclusive<T>) {
        if !range.contains(&value) {
            self.add(field, format!("must be between {} and {}", range.start(), range.end()));
        }
    }

    /// An ISO 3166-1 alpha-2 country code.
    pub fn country(&mut self, field: &str, code: &str) {
        if !is_country_code(code) {
            self.add(field, "must be an ISO 3166-1 alpha-2 code such as KZ");
        }
    }

    /// Adds `other`'s problems after these.
    pub fn merge(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields reported so far, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// A note or reason of 1 to `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let mut problems = Problems::default();
    problems.text(field, value, 1, max);
    problems.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_in_order() {
        let mut problems = Problems::default();
        problems.text("title", "  a  ", 3, 140);
        problems.within("quantity", 0, 1..=10);
        problems.within("quantity_ok", 5, 1..=10);
        problems.country("country", "kz");
        problems.optional_text("region", None, 10);
        problems.optional_text("notes", Some(""), 10);
        assert_eq!(problems.fields(), vec!["title", "quantity", "country", "notes"]);
        assert!(matches!(problems.into_result(), Err(ApiError::Validation(errors)) if errors.len() == 4));
    }

    #[test]
    fn the_maximum_counts_characters_not_bytes() {
        assert!(check_text("note", &"é".repeat(5), 5).is_ok());
        assert!(check_text("note", &"é".repeat(6), 5).is_err());
        assert!(check_text("note", "   ", 5).is_err());
    }
}
