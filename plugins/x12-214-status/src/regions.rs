//! Which time zone a US state or Canadian province keeps, for `LT` (local
//! time) stamps.
//!
//! A state gives its predominant zone. States and provinces split between
//! zones list the cities of their minority part that freight commonly moves
//! through (El Paso TX, Pensacola FL, Rapid City SD, Kenora ON, ...); a city
//! not listed gets the predominant zone. Nunavut has no predominant zone, so
//! it resolves only for listed cities.

use crate::calendar::Date;
use crate::time_zone::Zone::{self, Fixed, NorthAmerican as Na};

const EASTERN: Zone = Na(-300);
const CENTRAL: Zone = Na(-360);
const MOUNTAIN: Zone = Na(-420);
const PACIFIC: Zone = Na(-480);

/// The country (ISO 3166-1 alpha-2) a state or province code belongs to.
pub fn country_of_region(region: &str) -> Option<&'static str> {
    if us_zone(region, "").is_some() {
        Some("US")
    } else if canada_zone(region, "", None).is_some() || region == "NU" {
        Some("CA")
    } else {
        None
    }
}

/// The zone of `city`, `region` in `country` on `date`; `None` when unknown.
pub fn zone_for(country: &str, region: &str, city: Option<&str>, date: Date) -> Option<Zone> {
    let city = city.map(normalize_city).unwrap_or_default();
    match country {
        "US" => us_zone(region, &city),
        "CA" => canada_zone(region, &city, Some(date)),
        _ => None,
    }
}

/// Upper-case letters and digits separated by single spaces, so `Coeur
/// d'Alene`, `COEUR D ALENE` and `Fort St. John` match the lists.
fn normalize_city(city: &str) -> String {
    let kept: String = city
        .chars()
        .filter(|c| *c != '\'' && *c != '.')
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                ' '
            }
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn us_zone(state: &str, city: &str) -> Option<Zone> {
    let within = |cities: &[&str], minority: Zone, majority: Zone| {
        if cities.contains(&city) {
            minority
        } else {
            majority
        }
    };
    let zone = match state {
        "CT" | "DC" | "DE" | "GA" | "MA" | "MD" | "ME" | "NC" | "NH" | "NJ" | "NY" | "OH"
        | "PA" | "RI" | "SC" | "VA" | "VT" | "WV" => EASTERN,
        "AL" | "AR" | "IA" | "IL" | "LA" | "MN" | "MO" | "MS" | "OK" | "WI" => CENTRAL,
        "CO" | "MT" | "NM" | "UT" | "WY" => MOUNTAIN,
        "CA" | "WA" => PACIFIC,
        "FL" => within(FL_CENTRAL, CENTRAL, EASTERN),
        "IN" => within(IN_CENTRAL, CENTRAL, EASTERN),
        "KY" => within(KY_CENTRAL, CENTRAL, EASTERN),
        "MI" => within(MI_CENTRAL, CENTRAL, EASTERN),
        "TN" => within(TN_EASTERN, EASTERN, CENTRAL),
        "TX" => within(TX_MOUNTAIN, MOUNTAIN, CENTRAL),
        "KS" => within(KS_MOUNTAIN, MOUNTAIN, CENTRAL),
        "NE" => within(NE_MOUNTAIN, MOUNTAIN, CENTRAL),
        "ND" => within(ND_MOUNTAIN, MOUNTAIN, CENTRAL),
        "SD" => within(SD_MOUNTAIN, MOUNTAIN, CENTRAL),
        "ID" => within(ID_PACIFIC, PACIFIC, MOUNTAIN),
        "OR" => within(OR_MOUNTAIN, MOUNTAIN, PACIFIC),
        "NV" => within(NV_MOUNTAIN, MOUNTAIN, PACIFIC),
        // Arizona keeps standard time, except the Navajo Nation.
        "AZ" => within(AZ_NAVAJO, MOUNTAIN, Fixed(-420)),
        "AK" => within(AK_ALEUTIAN, Na(-600), Na(-540)),
        "HI" => Fixed(-600),
        "PR" | "VI" => Fixed(-240),
        "GU" | "MP" => Fixed(600),
        "AS" => Fixed(-660),
        _ => return None,
    };
    Some(zone)
}

fn canada_zone(province: &str, city: &str, date: Option<Date>) -> Option<Zone> {
    let within = |cities: &[&str], minority: Zone, majority: Zone| {
        if cities.contains(&city) {
            minority
        } else {
            majority
        }
    };
    let zone = match province {
        "NL" => within(NL_ATLANTIC, Na(-240), Na(-210)),
        "NS" | "NB" | "PE" => Na(-240),
        "QC" => EASTERN,
        "ON" => within(ON_CENTRAL, CENTRAL, EASTERN),
        "MB" => CENTRAL,
        // Saskatchewan keeps central standard time, except Lloydminster.
        "SK" => within(&["LLOYDMINSTER"], MOUNTAIN, Fixed(-360)),
        "AB" | "NT" => MOUNTAIN,
        "BC" if BC_MOUNTAIN_STANDARD.contains(&city) => Fixed(-420),
        "BC" => within(BC_MOUNTAIN, MOUNTAIN, PACIFIC),
        // Yukon moved to permanent UTC-7 on 2020-11-01.
        "YT" => match date {
            Some(d)
                if d < Date {
                    year: 2020,
                    month: 11,
                    day: 1,
                } =>
            {
                PACIFIC
            }
            _ => Fixed(-420),
        },
        "NU" if NU_EASTERN.contains(&city) => EASTERN,
        "NU" if NU_CENTRAL.contains(&city) => CENTRAL,
        "NU" if NU_MOUNTAIN.contains(&city) => MOUNTAIN,
        _ => return None,
    };
    Some(zone)
}

const FL_CENTRAL: &[&str] = &[
    "PENSACOLA",
    "PANAMA CITY",
    "PANAMA CITY BEACH",
    "FORT WALTON BEACH",
    "DESTIN",
    "CRESTVIEW",
    "NICEVILLE",
    "MILTON",
    "NAVARRE",
    "GULF BREEZE",
    "MARIANNA",
    "CHIPLEY",
    "DEFUNIAK SPRINGS",
    "LYNN HAVEN",
    "CALLAWAY",
];
const IN_CENTRAL: &[&str] = &[
    "GARY",
    "HAMMOND",
    "EAST CHICAGO",
    "MERRILLVILLE",
    "VALPARAISO",
    "MICHIGAN CITY",
    "CROWN POINT",
    "PORTAGE",
    "HOBART",
    "SCHERERVILLE",
    "MUNSTER",
    "LA PORTE",
    "EVANSVILLE",
    "NEWBURGH",
    "MOUNT VERNON",
    "BOONVILLE",
    "PRINCETON",
    "TELL CITY",
];
const KY_CENTRAL: &[&str] = &[
    "BOWLING GREEN",
    "PADUCAH",
    "OWENSBORO",
    "HOPKINSVILLE",
    "HENDERSON",
    "MADISONVILLE",
    "MURRAY",
    "GLASGOW",
    "MAYFIELD",
    "RUSSELLVILLE",
];
const MI_CENTRAL: &[&str] = &[
    "IRON MOUNTAIN",
    "KINGSFORD",
    "MENOMINEE",
    "IRONWOOD",
    "NORWAY",
];
const TN_EASTERN: &[&str] = &[
    "KNOXVILLE",
    "CHATTANOOGA",
    "JOHNSON CITY",
    "KINGSPORT",
    "BRISTOL",
    "OAK RIDGE",
    "MARYVILLE",
    "ALCOA",
    "CLEVELAND",
    "MORRISTOWN",
    "ATHENS",
    "GREENEVILLE",
    "ELIZABETHTON",
    "SEVIERVILLE",
    "PIGEON FORGE",
    "GATLINBURG",
    "LENOIR CITY",
];
const TX_MOUNTAIN: &[&str] = &[
    "EL PASO",
    "HORIZON CITY",
    "SOCORRO",
    "ANTHONY",
    "CANUTILLO",
    "CLINT",
    "FABENS",
    "SIERRA BLANCA",
    "VAN HORN",
    "DELL CITY",
];
const KS_MOUNTAIN: &[&str] = &["GOODLAND", "SHARON SPRINGS", "TRIBUNE"];
const NE_MOUNTAIN: &[&str] = &[
    "SCOTTSBLUFF",
    "GERING",
    "SIDNEY",
    "ALLIANCE",
    "CHADRON",
    "KIMBALL",
    "OGALLALA",
];
const ND_MOUNTAIN: &[&str] = &["DICKINSON", "BOWMAN", "BEACH", "HETTINGER"];
const SD_MOUNTAIN: &[&str] = &[
    "RAPID CITY",
    "SPEARFISH",
    "STURGIS",
    "BELLE FOURCHE",
    "HOT SPRINGS",
    "CUSTER",
    "LEAD",
    "DEADWOOD",
    "BOX ELDER",
];
const ID_PACIFIC: &[&str] = &[
    "COEUR DALENE",
    "POST FALLS",
    "HAYDEN",
    "SANDPOINT",
    "LEWISTON",
    "MOSCOW",
    "BONNERS FERRY",
    "KELLOGG",
    "GRANGEVILLE",
];
const OR_MOUNTAIN: &[&str] = &["ONTARIO", "NYSSA", "VALE"];
const NV_MOUNTAIN: &[&str] = &["WEST WENDOVER", "JACKPOT"];
const AZ_NAVAJO: &[&str] = &["WINDOW ROCK", "TUBA CITY", "KAYENTA", "CHINLE"];
const AK_ALEUTIAN: &[&str] = &["ADAK", "ATKA"];
const NL_ATLANTIC: &[&str] = &["LABRADOR CITY", "WABUSH", "HAPPY VALLEY GOOSE BAY"];
const ON_CENTRAL: &[&str] = &[
    "KENORA",
    "DRYDEN",
    "FORT FRANCES",
    "SIOUX LOOKOUT",
    "RED LAKE",
];
const BC_MOUNTAIN_STANDARD: &[&str] = &["DAWSON CREEK", "FORT ST JOHN", "CHETWYND", "FORT NELSON"];
const BC_MOUNTAIN: &[&str] = &["CRANBROOK", "GOLDEN", "FERNIE", "INVERMERE", "KIMBERLEY"];
const NU_EASTERN: &[&str] = &["IQALUIT", "PANGNIRTUNG", "POND INLET", "IGLOOLIK"];
const NU_CENTRAL: &[&str] = &["RANKIN INLET", "ARVIAT", "BAKER LAKE"];
const NU_MOUNTAIN: &[&str] = &["CAMBRIDGE BAY", "KUGLUKTUK", "GJOA HAVEN"];

#[cfg(test)]
mod tests {
    use super::*;

    fn july() -> Date {
        Date {
            year: 2016,
            month: 7,
            day: 26,
        }
    }

    #[test]
    fn states_resolve_to_their_zone() {
        assert_eq!(
            zone_for("US", "VT", Some("BRATTLEBORO"), july()),
            Some(EASTERN)
        );
        assert_eq!(zone_for("US", "IL", None, july()), Some(CENTRAL));
        assert_eq!(
            zone_for("US", "AZ", Some("PHOENIX"), july()),
            Some(Fixed(-420))
        );
        assert_eq!(zone_for("US", "HI", None, july()), Some(Fixed(-600)));
        assert_eq!(zone_for("US", "ZZ", None, july()), None);
        assert_eq!(zone_for("MX", "NL", None, july()), None);
    }

    #[test]
    fn split_states_use_listed_cities() {
        assert_eq!(zone_for("US", "TX", Some("Dallas"), july()), Some(CENTRAL));
        assert_eq!(
            zone_for("US", "TX", Some("El Paso"), july()),
            Some(MOUNTAIN)
        );
        assert_eq!(
            zone_for("US", "FL", Some("PENSACOLA"), july()),
            Some(CENTRAL)
        );
        assert_eq!(
            zone_for("US", "TN", Some("KNOXVILLE"), july()),
            Some(EASTERN)
        );
        assert_eq!(
            zone_for("US", "TN", Some("NASHVILLE"), july()),
            Some(CENTRAL)
        );
        assert_eq!(
            zone_for("US", "ID", Some("Coeur d'Alene"), july()),
            Some(PACIFIC)
        );
        assert_eq!(zone_for("US", "ID", Some("BOISE"), july()), Some(MOUNTAIN));
    }

    #[test]
    fn provinces_resolve_to_their_zone() {
        assert_eq!(zone_for("CA", "ON", Some("TORONTO"), july()), Some(EASTERN));
        assert_eq!(zone_for("CA", "ON", Some("KENORA"), july()), Some(CENTRAL));
        assert_eq!(zone_for("CA", "NL", None, july()), Some(Na(-210)));
        assert_eq!(
            zone_for("CA", "SK", Some("REGINA"), july()),
            Some(Fixed(-360))
        );
        assert_eq!(
            zone_for("CA", "BC", Some("Fort St. John"), july()),
            Some(Fixed(-420))
        );
        assert_eq!(zone_for("CA", "YT", None, july()), Some(PACIFIC));
        assert_eq!(
            zone_for(
                "CA",
                "YT",
                None,
                Date {
                    year: 2021,
                    month: 7,
                    day: 1
                }
            ),
            Some(Fixed(-420))
        );
        assert_eq!(zone_for("CA", "NU", Some("IQALUIT"), july()), Some(EASTERN));
        assert_eq!(zone_for("CA", "NU", Some("ALERT"), july()), None);
    }

    #[test]
    fn regions_tell_their_country() {
        assert_eq!(country_of_region("VT"), Some("US"));
        assert_eq!(country_of_region("QC"), Some("CA"));
        assert_eq!(country_of_region("NU"), Some("CA"));
        assert_eq!(country_of_region("XX"), None);
    }
}
