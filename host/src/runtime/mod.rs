//! The running host, top layer: [`start`] builds it from a
//! [`crate::config::Config`] (store, plugins and watcher, processing loop,
//! delivery workers, schedules, listeners) and [`Service::shutdown`] stops it
//! in order; the router sends each request to the feature that owns it and
//! the admin router dispatches `/admin/v1/...` to each feature's admin
//! routes. The shared state is [`crate::context::App`], re-exported here.

mod admin;
mod canary_admin;
mod console;
mod health;
mod listener;
mod logging;
mod messages_admin;
mod overview_admin;
mod plugins_admin;
mod router;
mod schedule;
mod shadow_admin;
mod start;

pub use crate::context::App;
pub use listener::{AcceptBackoff, Listener, Surface, serve};
pub use logging::init_tracing;
pub use router::handle;
pub use start::{Service, StartError, load_plugins, open_store, start};

#[cfg(test)]
mod postgres_tests;
