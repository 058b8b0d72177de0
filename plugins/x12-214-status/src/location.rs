//! Where a status happened: the MS1 segment (city, state/province, country)
//! as a canonical location, with the country filled in from the state or
//! province when the carrier left MS1-03 out.

use crate::regions::country_of_region;
use waybill_sdk::canonical::Location;
use waybill_x12::{Segment, X12Error};

/// The MS1 of one status, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    /// MS1-01 city, as sent.
    pub city: Option<String>,
    /// MS1-02 state or province code, upper case.
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country: MS1-03, or inferred from the region.
    pub country: Option<String>,
}

impl Place {
    /// Reads an MS1 segment.
    pub fn from_ms1(ms1: &Segment) -> Result<Self, X12Error> {
        let city = ms1.value(1).map(str::to_string);
        let region = ms1.value(2).map(str::to_ascii_uppercase);
        let country = match ms1.value(3) {
            Some(raw) => Some(alpha2(raw).ok_or_else(|| {
                ms1.error(
                    Some(3),
                    "invalid-country",
                    format!(
                        "MS1-03 country {raw:?} is neither an ISO alpha-2 code nor USA/CAN/MEX"
                    ),
                )
            })?),
            None => region
                .as_deref()
                .and_then(country_of_region)
                .map(str::to_string),
        };
        Ok(Self {
            city,
            region,
            country,
        })
    }

    /// The canonical location, `None` when MS1 said nothing.
    pub fn to_location(&self) -> Option<Location> {
        if self.city.is_none() && self.region.is_none() && self.country.is_none() {
            return None;
        }
        Some(Location {
            city: self.city.clone(),
            region: self.region.clone(),
            country: self.country.clone(),
            ..Location::default()
        })
    }
}

/// X12 country codes (element 26) are 2 or 3 letters; canonical is alpha-2.
fn alpha2(raw: &str) -> Option<String> {
    let upper = raw.to_ascii_uppercase();
    match upper.as_str() {
        "USA" => Some("US".into()),
        "CAN" => Some("CA".into()),
        "MEX" => Some("MX".into()),
        c if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => Some(upper),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_x12::Interchange;

    fn ms1(elements: &str) -> Result<Place, X12Error> {
        let text = format!(
            "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*1303*U*00403*000082265*0*T*>~MS1*{elements}~IEA*1*000082265~"
        );
        let ix = Interchange::parse(&text).expect("tokenizes");
        Place::from_ms1(&ix.segments()[1])
    }

    #[test]
    fn country_defaults_from_the_region() {
        let p = ms1("BRATTLEBORO*VT").expect("valid");
        assert_eq!(p.country.as_deref(), Some("US"));
        assert_eq!(
            ms1("MONTREAL*QC").expect("valid").country.as_deref(),
            Some("CA")
        );
        assert_eq!(
            ms1("MONTERREY*NL*MEX").expect("valid").country.as_deref(),
            Some("MX")
        );
        assert_eq!(
            ms1("LAREDO*tx*usa").expect("valid").region.as_deref(),
            Some("TX")
        );
        assert_eq!(ms1("SOMEWHERE*XX").expect("valid").country, None);
        let err = ms1("X*VT*UNITED").expect_err("bad country");
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/MS1/03", "invalid-country")
        );
    }

    #[test]
    fn becomes_a_canonical_location() {
        let loc = ms1("BRATTLEBORO*VT")
            .expect("valid")
            .to_location()
            .expect("some");
        assert_eq!(loc.city.as_deref(), Some("BRATTLEBORO"));
        assert_eq!(loc.region.as_deref(), Some("VT"));
        assert_eq!(loc.country.as_deref(), Some("US"));
        assert_eq!(Place::default().to_location(), None);
    }
}
