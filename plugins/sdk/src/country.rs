//! Country names and codes -> ISO 3166-1 alpha-2 codes.
//!
//! Canonical locations carry alpha-2 codes, but ERPs write countries both
//! ways: Northwind writes a name in its order events (`"United States"`) and
//! a code or a name in its master data. Every inbound plugin that meets a
//! country reads it through [`to_iso_alpha2`], so one table decides what a
//! name means.

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted.
const ISO_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", //
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR",
    "BS", //
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM",
    "CN", //
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC",
    "EE", //
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE",
    "GF", //
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", //
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE",
    "JM", //
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB",
    "LC", //
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH",
    "MK", //
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", //
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF",
    "PG", //
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU",
    "RW", //
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR",
    "SS", //
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN",
    "TO", //
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG",
    "VI", //
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Country names (normalised: lower case, no dots, single spaces) of the
/// distributor's trading partners and their common variants.
const NAMES: &[(&str, &str)] = &[
    ("united states", "US"),
    ("united states of america", "US"),
    ("usa", "US"),
    ("us", "US"),
    ("america", "US"),
    ("canada", "CA"),
    ("mexico", "MX"),
    ("méxico", "MX"),
    ("united kingdom", "GB"),
    ("great britain", "GB"),
    ("uk", "GB"),
    ("ireland", "IE"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("france", "FR"),
    ("netherlands", "NL"),
    ("the netherlands", "NL"),
    ("belgium", "BE"),
    ("luxembourg", "LU"),
    ("switzerland", "CH"),
    ("austria", "AT"),
    ("italy", "IT"),
    ("spain", "ES"),
    ("portugal", "PT"),
    ("poland", "PL"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("sweden", "SE"),
    ("norway", "NO"),
    ("denmark", "DK"),
    ("finland", "FI"),
    ("china", "CN"),
    ("hong kong", "HK"),
    ("taiwan", "TW"),
    ("japan", "JP"),
    ("south korea", "KR"),
    ("korea, republic of", "KR"),
    ("india", "IN"),
    ("singapore", "SG"),
    ("vietnam", "VN"),
    ("viet nam", "VN"),
    ("thailand", "TH"),
    ("malaysia", "MY"),
    ("indonesia", "ID"),
    ("philippines", "PH"),
    ("australia", "AU"),
    ("new zealand", "NZ"),
    ("brazil", "BR"),
    ("argentina", "AR"),
    ("chile", "CL"),
    ("colombia", "CO"),
    ("peru", "PE"),
    ("guatemala", "GT"),
    ("costa rica", "CR"),
    ("panama", "PA"),
    ("puerto rico", "PR"),
    ("south africa", "ZA"),
    ("israel", "IL"),
    ("turkey", "TR"),
    ("türkiye", "TR"),
    ("united arab emirates", "AE"),
    ("saudi arabia", "SA"),
];

/// The ISO 3166-1 alpha-2 code of a country as a partner system wrote it: a
/// name from the table above (case, dots and extra spaces ignored) or already
/// a code (any case). `None` for anything else.
pub fn to_iso_alpha2(raw: &str) -> Option<&'static str> {
    let key = normalise(raw);
    if let Some((_, code)) = NAMES.iter().find(|(name, _)| *name == key) {
        return Some(code);
    }
    let upper = key.to_ascii_uppercase();
    ISO_CODES
        .binary_search(&upper.as_str())
        .ok()
        .map(|i| ISO_CODES[i])
}

fn normalise(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('.', "")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_list_is_sorted_and_unique() {
        assert!(ISO_CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_name_maps_to_a_real_code() {
        for (name, code) in NAMES {
            assert!(ISO_CODES.contains(code), "{name} -> {code}");
            assert_eq!(normalise(name), *name, "table keys are normalised");
        }
    }

    #[test]
    fn names_and_codes_map() {
        assert_eq!(to_iso_alpha2("United States"), Some("US"));
        assert_eq!(to_iso_alpha2("  united   STATES "), Some("US"));
        assert_eq!(to_iso_alpha2("U.S.A."), Some("US"));
        assert_eq!(to_iso_alpha2("Canada"), Some("CA"));
        assert_eq!(to_iso_alpha2("México"), Some("MX"));
        assert_eq!(to_iso_alpha2("MX"), Some("MX"));
        assert_eq!(to_iso_alpha2("nz"), Some("NZ"));
        assert_eq!(to_iso_alpha2("Atlantis"), None);
        assert_eq!(to_iso_alpha2("XX"), None);
        assert_eq!(to_iso_alpha2(""), None);
    }
}
