//! Schema ids (`shipment-event@1.0`) and major pins (`shipment-event@1`).

use std::fmt;
use std::str::FromStr;

/// Why a schema id or pin did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schema id {input:?}: {reason}")]
pub struct SchemaIdError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// One canonical schema version: `<entity>@<major>.<minor>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaId {
    /// Entity name, e.g. `shipment-event`.
    pub entity: String,
    /// Major version: a breaking change needs a new one.
    pub major: u32,
    /// Minor version: backward compatible within the major.
    pub minor: u32,
}

/// A version requirement: `<entity>@<major>` (any minor of that major) or
/// `<entity>@<major>.<minor>` (that minor or a later one of the same major).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaPin {
    /// Entity name.
    pub entity: String,
    /// Required major.
    pub major: u32,
    /// Lowest acceptable minor, when the pin names one.
    pub min_minor: Option<u32>,
}

fn split(input: &str) -> Result<(&str, &str), SchemaIdError> {
    let err = |reason| SchemaIdError {
        input: input.to_string(),
        reason,
    };
    let (entity, version) = input
        .rsplit_once('@')
        .ok_or_else(|| err("expected <entity>@<version>"))?;
    if entity.is_empty() {
        return Err(err("empty entity name"));
    }
    if !entity
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(err(
            "entity name may hold only letters, digits, '-', '_', '.', ':'",
        ));
    }
    Ok((entity, version))
}

fn number(input: &str, s: &str) -> Result<u32, SchemaIdError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SchemaIdError {
            input: input.to_string(),
            reason: "version parts must be decimal numbers",
        });
    }
    s.parse().map_err(|_| SchemaIdError {
        input: input.to_string(),
        reason: "version number too large",
    })
}

impl SchemaId {
    /// Parses `<entity>@<major>.<minor>`.
    pub fn parse(input: &str) -> Result<Self, SchemaIdError> {
        let (entity, version) = split(input)?;
        let (major, minor) = version.split_once('.').ok_or_else(|| SchemaIdError {
            input: input.to_string(),
            reason: "expected <major>.<minor> after '@'",
        })?;
        Ok(Self {
            entity: entity.to_string(),
            major: number(input, major)?,
            minor: number(input, minor)?,
        })
    }

    /// Whether this id satisfies `pin`.
    pub fn satisfies(&self, pin: &SchemaPin) -> bool {
        self.entity == pin.entity
            && self.major == pin.major
            && pin.min_minor.is_none_or(|m| self.minor >= m)
    }
}

impl SchemaPin {
    /// Parses `<entity>@<major>` or `<entity>@<major>.<minor>`.
    pub fn parse(input: &str) -> Result<Self, SchemaIdError> {
        let (entity, version) = split(input)?;
        let (major, min_minor) = match version.split_once('.') {
            Some((major, minor)) => (major, Some(number(input, minor)?)),
            None => (version, None),
        };
        Ok(Self {
            entity: entity.to_string(),
            major: number(input, major)?,
            min_minor,
        })
    }
}

impl FromStr for SchemaId {
    type Err = SchemaIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl FromStr for SchemaPin {
    type Err = SchemaIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SchemaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}.{}", self.entity, self.major, self.minor)
    }
}

impl fmt::Display for SchemaPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.min_minor {
            Some(m) => write!(f, "{}@{}.{}", self.entity, self.major, m),
            None => write!(f, "{}@{}", self.entity, self.major),
        }
    }
}
