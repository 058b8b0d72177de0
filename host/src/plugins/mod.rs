//! The plugin runtime: one wasmtime engine, a compiled component and
//! pre-instantiated `InstancePre` per plugin version, a fresh sandboxed
//! instance per call with CPU, memory and input limits, an atomic registry of
//! active versions, a watcher that hot-swaps plugins dropped on disk, and
//! shadow runs that diff a candidate's answers against the active version's.

mod bench_support;
mod cache;
mod call;
mod call_times;
mod canary;
mod diff;
mod engine;
mod error;
mod fixtures;
mod imports;
mod language;
mod limits;
mod loader;
mod outcome;
mod registry;
mod shadow;
mod shadow_report;
mod state;
mod watcher;
mod world;

pub use bench_support::ReusedInstance;
pub use cache::CacheError;
pub use call::{CallReport, CallStats};
pub use canary::{BUCKETS, Canary, Sides, Tally, basis_points, bucket, takes_candidate};
pub use diff::{Change, Difference, Ignore, IgnoreError, diff};
pub use engine::{Runtime, RuntimeOptions};
pub use error::{CallError, LimitKind, LoadError, RuntimeError};
pub use fixtures::{CaseReport, FixtureReport, run_fixtures};
pub use language::{LANGUAGE_SECTION, Language};
pub use limits::{LimitOverrides, Limits};
pub use loader::{PluginId, PluginVersion};
pub use outcome::{PluginFailure, PluginOutcome};
pub use registry::{PluginStatus, Registry, VersionStatus, fixtures_dir_for};
pub use shadow::{ActiveCall, ShadowLimits, ShadowRun, ShadowSettings, Shadows};
pub use shadow_report::{CallSite, Example, Latency, ShadowReport, Side};
pub use state::PluginConfig;
pub use watcher::{WatchHandle, watch_directory};
pub use world::{CONTRACT_VERSION, CONTRACT_VERSIONS, WORLD_NAME};

/// Re-exported SDK values that cross the host's API.
pub use waybill_sdk::{
    Document, Header, Message, Output, PluginError, PluginInfo, Role, Violation,
};
