//! Geography shared by accounts, listings and the price index: ISO 3166-1
//! alpha-2 country codes (the officially assigned 249).

const COUNTRY_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

pub fn is_country_code(code: &str) -> bool {
    COUNTRY_CODES.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_knows_exactly_the_assigned_codes() {
        let mut theirs: Vec<&str> = rust_iso3166::ALL_ALPHA2.to_vec();
        theirs.sort_unstable();
        assert_eq!(theirs, COUNTRY_CODES.to_vec());
        for code in COUNTRY_CODES {
            assert!(rust_iso3166::from_alpha2(code).is_some(), "{code}");
        }
        for code in ["XK", "EU", "UK", "ZZ", "zz", "us", "kz", "XX", "AAA", "", "U"] {
            assert!(rust_iso3166::from_alpha2(code).is_none(), "{code}");
        }
        // Every two-letter upper-case pair: the lookup agrees with the list.
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(rust_iso3166::from_alpha2(&code).is_some(), is_country_code(&code), "{code}");
            }
        }
    }

    #[test]
    fn knows_assigned_codes_only() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]), "sorted for binary search");
        for code in ["CN", "KZ", "US", "CA", "RU", "AX"] {
            assert!(is_country_code(code), "{code}");
        }
        for code in ["XX", "UK", "kz", "KAZ", "", "EU"] {
            assert!(!is_country_code(code), "{code}");
        }
    }
}
