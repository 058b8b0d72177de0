//! Dead letters and their replay: re-runs a dead-lettered message through
//! the active (or a named) plugin version, rate-limited, each dead letter at
//! most once. Admin routes: `GET /admin/v1/dead-letters`,
//! `POST /admin/v1/dead-letters/replay`.

pub mod admin;
mod run;

pub use admin::ReplayRequest;
pub use run::{ALREADY_REPLAYED, ReplayError, ReplayReport, replay, replay_key};
