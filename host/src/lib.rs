//! The Waybill host: everything generic about keeping ERP, TMS and billing in
//! sync. Vendor rules live in sandboxed Wasm plugins loaded by [`plugins`].
//!
//! `ls host/src` reads as the path of a message: [`ingest`] (partner HTTP in)
//! -> [`process`] (map, validate, route, outbox) -> [`deliver`] (outbox ->
//! target), with the sync patterns beside it: [`commands`], [`exceptions`],
//! [`refsync`], [`reconcile`] and [`replay`]. ARCHITECTURE.md at the
//! repository root walks one message through these folders.
//!
//! Layers, bottom to top; a module uses only modules of lower layers (or of
//! its own layer where the arrow says so), never one above it:
//!
//! 1. [`store`], [`plugins`]: durable records; the Wasm runtime. Neither
//!    uses another module of the crate.
//! 2. [`schemas`]: canonical JSON Schemas and plugin contracts.
//! 3. [`config`]: `waybill.toml`, parsed and validated (the `[reconcile]`
//!    types too).
//! 4. [`http`] (problem bodies, body reading, credential checks, listener
//!    TLS) and [`ratelimit`] (token buckets): edge primitives, no state.
//! 5. [`process`], [`deliver`]: the two workers of the message path; neither
//!    knows the HTTP surface nor the other. [`distribution`] beside them:
//!    the follower of the store's plugin decisions (store and plugins only).
//! 6. [`context`]: [`context::App`], the state a running host shares between
//!    handlers, workers and flows.
//! 7. The features, each with its own admin routes: [`ingest`], [`replay`],
//!    [`exceptions`], [`refsync`], [`reconcile`], and [`commands`] (the one
//!    sideways use: its delivery hooks start `exceptions`' compensations).
//! 8. [`runtime`]: start-up wiring ([`runtime::start`]), the router and admin
//!    dispatch, listeners, health and metrics.
//!
//! The `waybill` binary (`src/bin/waybill`) sits on top of all of it.
//! `layers_tests.rs` fails when a `crate::` path breaks this order.

pub mod commands;
pub mod config;
pub mod context;
pub mod deliver;
pub mod distribution;
pub mod exceptions;
pub mod http;
pub mod ingest;
pub mod plugins;
pub mod process;
pub mod ratelimit;
pub mod reconcile;
pub mod refsync;
pub mod replay;
pub mod runtime;
pub mod schemas;
pub mod store;

#[cfg(test)]
mod layers_tests;
