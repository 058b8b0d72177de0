//! Admission of a version that arrives as bytes (a push, or a decision
//! naming a version this host has not loaded): load it, write its fixtures
//! into the plugin cache and run the registry's admission (its own fixtures
//! plus the registered checks). Blocking: call it off the async threads.

use super::files::{FixtureFileError, materialize};
use crate::plugins::{LoadError, PluginVersion, Registry};
use crate::store::NewPluginVersion;
use std::path::Path;
use std::sync::Arc;

/// A version that passed admission, with the record that stores it.
pub struct Candidate {
    /// The loaded version, ready to activate.
    pub version: Arc<PluginVersion>,
    /// What the store keeps of it.
    pub record: NewPluginVersion,
}

/// Why a candidate was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// It did not load: not a component, not the world, describe failed.
    #[error("{0}")]
    Load(#[source] LoadError),
    /// It failed its own fixtures.
    #[error("{0}")]
    Fixtures(#[source] LoadError),
    /// A registered check refused it (e.g. a schema it produces).
    #[error("{0}")]
    Check(#[source] LoadError),
    /// Its fixtures could not be used.
    #[error("fixtures: {0}")]
    FixtureFiles(#[source] FixtureFileError),
}

impl Refusal {
    /// The stage that refused: `load`, `fixtures`, `check`, `fixture-files`.
    pub fn stage(&self) -> &'static str {
        match self {
            Self::Load(_) => "load",
            Self::Fixtures(_) => "fixtures",
            Self::Check(_) => "check",
            Self::FixtureFiles(_) => "fixture-files",
        }
    }

    fn admission(e: LoadError) -> Self {
        match e {
            LoadError::Fixtures { .. } => Self::Fixtures(e),
            LoadError::Registry(_) => Self::Check(e),
            other => Self::Load(other),
        }
    }
}

/// Loads `component` (or takes `loaded`, the same bytes loaded already)
/// and admits it with `fixtures`, written under `fixtures_root`.
pub fn admit_candidate(
    registry: &Registry,
    fixtures_root: &Path,
    component: Vec<u8>,
    fixtures: Vec<(String, Vec<u8>)>,
    pushed_by: &str,
    loaded: Option<Arc<PluginVersion>>,
) -> Result<Candidate, Refusal> {
    let version = match loaded {
        Some(v) => v,
        None => registry
            .load_bytes(&component, None)
            .map_err(Refusal::Load)?,
    };
    let dir = materialize(fixtures_root, &fixtures).map_err(Refusal::FixtureFiles)?;
    let none = fixtures_root.join("none");
    registry
        .admit(&version, dir.as_deref().unwrap_or(&none))
        .map_err(Refusal::admission)?;
    let record = NewPluginVersion {
        name: version.id.name.clone(),
        version: version.id.version.clone(),
        sha256: version.id.sha256.clone(),
        component,
        fixtures,
        pushed_by: pushed_by.to_string(),
    };
    Ok(Candidate { version, record })
}
