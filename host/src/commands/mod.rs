//! The answer side of synchronous commands and the sync patterns' delivery
//! outcomes: the delivery worker's [`FlowHooks`] map a command target's
//! answer back through the route's response plugin and wake the waiting
//! caller, record the state a system confirmed, and start the route's
//! compensation when a target refuses a delivery for good. The admin route
//! `GET /admin/v1/state/{system}` shows the confirmed state. The command
//! endpoint itself is in [`crate::ingest::commands`].

pub mod admin;
mod hooks;

pub use hooks::FlowHooks;
