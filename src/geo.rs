//! Geography shared by accounts, listings and the price index: ISO 3166-1
//! alpha-2 country codes (the officially assigned 249), as kept by `rust_iso3166`.

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 code, in upper
/// case: `"KZ"` is, `"kz"` is not, nor are user-assigned (`"XK"`, `"ZZ"`) or
/// reserved (`"EU"`, `"UK"`) codes.
pub fn is_country_code(code: &str) -> bool {
    rust_iso3166::from_alpha2(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_assigned_codes_only() {
        for code in ["CN", "KZ", "US", "CA", "RU", "AX", "GB", "SS", "BQ", "CW"] {
            assert!(is_country_code(code), "{code}");
        }
        for code in ["XX", "XK", "EU", "UK", "ZZ", "zz", "kz", "us", "Us", " US", "KAZ", "K", ""] {
            assert!(!is_country_code(code), "{code:?}");
        }
    }

    #[test]
    fn the_set_is_still_the_249_assigned_codes() {
        // A crate update that added a user-assigned code (Kosovo's XK, say) would show here.
        let mut codes = rust_iso3166::ALL_ALPHA2.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 249);
        assert!(codes.iter().all(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())));
        assert!(codes.iter().all(|code| is_country_code(code)));
    }
}
