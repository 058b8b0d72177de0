//! Dead letters and their replay: re-runs a dead-lettered message through
//! the active (or a named) plugin version, rate-limited, each dead letter at
//! most once. Admin routes: `GET /admin/v1/dead-letters`,
//! `POST /admin/v1/dead-letters/replay`. A recorded replay re-runs stored
//! production messages through a candidate offline and diffs its answers
//! with the recorded version's.

pub mod admin;
mod recorded;
mod run;

pub use admin::ReplayRequest;
pub use recorded::{RecordedError, RecordedReport, RecordedRequest, replay_recorded};
pub use run::{ALREADY_REPLAYED, ReplayError, ReplayReport, replay, replay_key};
