//! The Waybill plugin SDK.
//!
//! A partner team writes one plain Rust type implementing [`Plugin`] (a
//! `describe` function plus `map` or `validate`) and exports it with one line:
//!
//! ```ignore
//! struct AcmeMilestone;
//! impl waybill_sdk::Plugin for AcmeMilestone { /* ... */ }
//! waybill_sdk::export!(AcmeMilestone);
//! ```
//!
//! Built for `wasm32-wasip2` the crate becomes a component of the
//! `waybill:plugin` world (the crate carries its own copy of the contract,
//! `wit/plugin.wit`, checked equal to the repository's `wit/` by a test, so
//! it builds outside this repository); built natively the same code is an
//! ordinary library, so mappings are unit-tested and benchmarked without
//! Wasm. The WIT bindings never leak into plugin code: the SDK owns them.

mod error;
mod message;
mod plugin;

pub mod canonical;
pub mod config;
pub mod country;
#[cfg(not(target_arch = "wasm32"))]
pub mod fixtures;
pub mod log;
pub mod master_data;
pub mod ndjson;
pub mod problems;
pub mod snapshot;
pub mod time;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod guest;

pub use error::{PluginError, Violation};
pub use message::{Document, Header, Message, Output};
pub use plugin::{Plugin, PluginInfo, Role};

/// Re-exported so plugins use the same serde as the SDK.
pub use serde;
pub use serde_json;

/// Exports a [`Plugin`] implementation as the component's `describe`, `mapper`
/// and `validator` interfaces. On native targets it expands to nothing, so the
/// plugin crate stays an ordinary library for tests and benchmarks.
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            $crate::guest::export_plugin!($plugin);
        };
    };
}
