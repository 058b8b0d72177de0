//! PostgreSQL errors as [`StoreError`]s, so callers tell retryable from
//! permanent the same way for both backends: a lost connection, a server
//! shutting down, an unreachable or exhausted database are
//! [`StoreError::Unavailable`] (ingest answers 503 with `Retry-After`); a
//! serialization failure, a deadlock or a lock timeout are
//! [`StoreError::Busy`]; a constraint or a bad statement stays
//! [`StoreError::Database`].

use super::super::error::StoreError;
use deadpool_postgres::PoolError;
use std::fmt;
use tokio_postgres::error::SqlState;

/// A client error as a [`StoreError`], kept as its source where it has one.
pub(crate) fn db_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(kind) = e.code().map(kind_of) {
        let e = ServerError(e);
        return match kind {
            Kind::Busy => StoreError::Busy(Box::new(e)),
            Kind::Unavailable => StoreError::Unavailable(e.to_string()),
            Kind::Permanent => StoreError::Database(Box::new(e)),
        };
    }
    // No SQLSTATE: the client's own failure. Anything about the connection
    // (closed, I/O, connect, timeout) may work on a new one.
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    let text = e.to_string();
    if e.is_closed()
        || io
        || text.starts_with("error connecting")
        || text.starts_with("timeout")
        || text.starts_with("error communicating")
    {
        StoreError::Unavailable(format!("database connection lost: {text}"))
    } else if text.starts_with("error deserializing") {
        StoreError::Corrupt(text)
    } else {
        StoreError::Database(Box::new(e))
    }
}

/// An error the server answered, shown with what it said: the client's
/// own text is only "db error" (the server's message is its source), which
/// is all a dead letter, a log line or an answer would have shown.
#[derive(Debug)]
struct ServerError(tokio_postgres::Error);

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_db_error() {
            Some(db) => {
                write!(f, "{}: {}", db.severity(), db.message())?;
                if let Some(detail) = db.detail() {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            None => self.0.fmt(f),
        }
    }
}

impl std::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A pool error: no connection could be had (timeout, the database is
/// down) is retryable; a closed pool is [`StoreError::Closed`].
pub(crate) fn pool_err(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => match db_err(e) {
            StoreError::Database(e) => StoreError::Unavailable(e.to_string()),
            other => other,
        },
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Unavailable(format!("no database connection: {other}")),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Busy,
    Unavailable,
    Permanent,
}

fn kind_of(code: &SqlState) -> Kind {
    let busy = [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::QUERY_CANCELED,
    ];
    if busy.contains(code) {
        return Kind::Busy;
    }
    let class = &code.code()[..2];
    // 08: connection exception; 53: insufficient resources (disk full, out
    // of memory, too many connections); 57P0x: the server is shutting down
    // or starting; 58: system error (I/O).
    let unavailable = matches!(class, "08" | "53" | "58")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code);
    if unavailable {
        Kind::Unavailable
    } else {
        Kind::Permanent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_sorted_into_retryable_and_permanent() {
        assert_eq!(kind_of(&SqlState::T_R_DEADLOCK_DETECTED), Kind::Busy);
        assert_eq!(kind_of(&SqlState::T_R_SERIALIZATION_FAILURE), Kind::Busy);
        assert_eq!(kind_of(&SqlState::ADMIN_SHUTDOWN), Kind::Unavailable);
        assert_eq!(kind_of(&SqlState::CONNECTION_FAILURE), Kind::Unavailable);
        assert_eq!(kind_of(&SqlState::TOO_MANY_CONNECTIONS), Kind::Unavailable);
        assert_eq!(kind_of(&SqlState::DISK_FULL), Kind::Unavailable);
        assert_eq!(kind_of(&SqlState::UNIQUE_VIOLATION), Kind::Permanent);
        assert_eq!(kind_of(&SqlState::SYNTAX_ERROR), Kind::Permanent);
    }

    #[test]
    fn a_pool_without_a_database_is_retryable_and_a_closed_one_is_closed() {
        let timeout = pool_err(PoolError::Timeout(deadpool_postgres::TimeoutType::Wait));
        assert!(timeout.is_retryable(), "{timeout}");
        assert!(matches!(pool_err(PoolError::Closed), StoreError::Closed));
    }
}
