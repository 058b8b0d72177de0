//! The plugin runtime: one wasmtime engine, a compiled component and
//! pre-instantiated `InstancePre` per plugin version, a fresh sandboxed
//! instance per call with CPU, memory and input limits, an atomic registry of
//! active versions, and a watcher that hot-swaps plugins dropped on disk.

mod bench_support;
mod cache;
mod call;
mod engine;
mod error;
mod fixtures;
mod imports;
mod language;
mod limits;
mod loader;
mod outcome;
mod registry;
mod state;
mod watcher;
mod world;

pub use bench_support::ReusedInstance;
pub use cache::CacheError;
pub use call::{CallReport, CallStats};
pub use engine::{Runtime, RuntimeOptions};
pub use error::{CallError, LimitKind, LoadError, RuntimeError};
pub use fixtures::{CaseReport, FixtureReport, run_fixtures};
pub use language::{LANGUAGE_SECTION, Language};
pub use limits::{LimitOverrides, Limits};
pub use loader::{PluginId, PluginVersion};
pub use outcome::{PluginFailure, PluginOutcome};
pub use registry::{PluginStatus, Registry, VersionStatus, fixtures_dir_for};
pub use state::PluginConfig;
pub use watcher::{WatchHandle, watch_directory};
pub use world::WORLD_NAME;

/// Re-exported SDK values that cross the host's API.
pub use waybill_sdk::{
    Document, Header, Message, Output, PluginError, PluginInfo, Role, Violation,
};
