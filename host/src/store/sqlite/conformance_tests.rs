//! The SQLite store passes the backend-neutral conformance suite: one
//! test per case, each on a fresh database file.

use super::{SqliteOptions, SqliteStore};
use crate::store::conformance::{self, StoreFactory};
use crate::store::{Clock, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fresh SQLite files in one temporary directory.
struct Files {
    dir: tempfile::TempDir,
    next: AtomicUsize,
}

#[async_trait::async_trait]
impl StoreFactory for Files {
    async fn open(&self, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let options = SqliteOptions {
            path: self.dir.path().join(format!("conformance-{n}.db")),
            group_commit_max: 16,
            host: crate::store::conformance::fixtures::HOST.into(),
        };
        SqliteStore::open_with_clock(&options, clock).expect("open a fresh SQLite store")
    }
}

fn files() -> Files {
    Files {
        dir: tempfile::tempdir().expect("tempdir"),
        next: AtomicUsize::new(0),
    }
}

macro_rules! cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                conformance::$module::$case(&files()).await;
            }
        )*
    };
}

conformance::with_cases!(cases);
