//! Errors raised while loading the schema directory.

use std::path::PathBuf;

/// A schema directory that cannot be loaded. Every variant names the file;
/// schema problems also name the JSON pointer inside it.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The directory or a file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{}: line {line}, column {column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A file is JSON but not a valid schema (or index) at `pointer`.
    #[error("{}: {}: {message}", path.display(), if pointer.is_empty() { "(root)" } else { pointer.as_str() })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// JSON pointer inside the file.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A file name does not follow `<entity>/<major>.<minor>.json`.
    #[error("{}: {message}", path.display())]
    Layout {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}
