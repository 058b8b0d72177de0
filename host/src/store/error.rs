//! The one error type of every store backend. Each variant says what kind
//! of failure it is, keeps the backend's own error as its `source`, and
//! [`StoreError::is_retryable`] tells a caller whether the same call may
//! succeed later (so ingest answers 503 with `Retry-After`, and a
//! processing failure is not counted against the message).

/// A backend's own error, kept as the source of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed this write or read (a constraint, a
    /// bad statement, an I/O error): trying again will not help.
    #[error("store: {0}")]
    Database(#[source] BoxError),
    /// The database is busy or locked by another writer: try again.
    #[error("store busy: {0}")]
    Busy(#[source] BoxError),
    /// The write was not stored through no fault of its own: its group
    /// transaction failed as a whole (another job's statement rolled it
    /// back, the commit failed, no transaction could begin). Retryable.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store is shutting down or its writer is gone.
    #[error("store is closed")]
    Closed,
    /// A stored value could not be decoded.
    #[error("store: corrupt record: {0}")]
    Corrupt(String),
    /// The record asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The action does not fit the record's state.
    #[error("{0}")]
    Conflict(String),
    /// Opening or migrating failed.
    #[error("store {path}: {source}")]
    Open {
        /// The database path or URL.
        path: String,
        /// Why.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// A [`StoreError::Database`] from any error (or a message).
    pub fn database(e: impl Into<BoxError>) -> Self {
        StoreError::Database(e.into())
    }

    /// Whether the same call may succeed if made again later: the store was
    /// busy, unavailable or closing. A constraint failure, a corrupt record,
    /// a missing record or a state conflict stays what it is.
    /// What one item of a batch hears when the batch as a whole failed:
    /// the same message, and retryable exactly when this error is.
    pub fn for_batch_item(&self) -> StoreError {
        let why = self.to_string();
        if self.is_retryable() {
            StoreError::Unavailable(why)
        } else {
            StoreError::database(why)
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Busy(_) | StoreError::Unavailable(_) | StoreError::Closed => true,
            StoreError::Database(_)
            | StoreError::Corrupt(_)
            | StoreError::NotFound(_)
            | StoreError::Conflict(_)
            | StoreError::Open { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn retryable_kinds_are_told_apart_from_permanent_ones() {
        assert!(StoreError::Busy("locked".into()).is_retryable());
        assert!(StoreError::Unavailable("group rolled back".into()).is_retryable());
        assert!(StoreError::Closed.is_retryable());
        assert!(!StoreError::database("UNIQUE constraint failed").is_retryable());
        assert!(!StoreError::Corrupt("bad json".into()).is_retryable());
        assert!(!StoreError::NotFound("message m".into()).is_retryable());
        assert!(!StoreError::Conflict("not open".into()).is_retryable());
    }

    #[test]
    fn the_backend_error_is_kept_as_the_source() {
        let io = std::io::Error::other("disk on fire");
        let e = StoreError::database(io);
        assert_eq!(e.to_string(), "store: disk on fire");
        let source = e.source().expect("the source is kept");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
    }
}
