//! Plugin distribution through a shared store: a version pushed to one host
//! (`POST /admin/v1/plugins`, `waybill plugin push`) is stored with its
//! fixtures, and activation and rollback are store-wide decisions that
//! every host on the store follows. Each host converges by itself
//! ([`Distributor`]): at start-up before it reports ready, on every
//! decision it hears of (`NOTIFY` on PostgreSQL) and on a one-second poll;
//! it loads the decided version (from its own registry or the store's
//! bytes), admits it with the stored fixtures and the registered checks,
//! activates it or keeps its current version and records why not.
//!
//! Shadow runs are store-wide decisions too ([`ShadowFollower`]): every
//! host installs the running ones and saves its report of each.
//!
//! It sits beside the workers (it uses only the store, the plugin runtime
//! and the configuration) so that `App` can hold it and the admin routes
//! can decide through it.

mod canary;
mod candidate;
mod converge;
mod files;
mod follow;
mod rollback;
mod shadow;

pub use canary::{CanaryError, CanaryFollower};
pub use candidate::{Candidate, Refusal, admit_candidate};
pub use converge::{DecideError, Distributor};
pub use files::{FixtureFileError, MAX_FIXTURE_FILES, check_fixture_path, read_fixture_dir};
pub use rollback::rollback_target;
pub use shadow::ShadowFollower;
