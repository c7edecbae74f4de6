//! The errors of the store.

use std::path::PathBuf;

/// Everything that can go wrong opening, writing or reading the store.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The store directory or a file in it could not be created or read.
    #[error("{path}: {source}; check the path and its permissions")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// CozoDB reported an error while running `op`.
    #[error("database error while {op}: {message}")]
    Cozo {
        /// What the store was doing (`opening the database`, `applying a delta`, …).
        op: &'static str,
        /// CozoDB's message, with its causes.
        message: String,
    },
    /// SQLite reported an error while the database file was being created.
    #[error("cannot create the database file: {0}")]
    Sqlite(String),
    /// The database was written by a version of ploke with a different schema.
    #[error(
        "the index database has schema version {found}, but this ploke uses schema version \
         {expected}; delete the index directory or re-run `ploke index --rebuild`"
    )]
    SchemaMismatch {
        /// The version recorded in the store.
        found: i64,
        /// This build's [`crate::SCHEMA_VERSION`].
        expected: i64,
    },
    /// Another ploke process holds the index's write lock.
    #[error(
        "{holder} is writing the index in {dir}; wait for it to finish (or stop it) and try again"
    )]
    Busy {
        /// The index directory.
        dir: PathBuf,
        /// Who holds the lock, as it described itself (`ploke watch (pid 123)`).
        holder: String,
    },
    /// SQLite reports the database file locked by another program.
    #[error("{path}: the database is locked by another program (an open sqlite3 shell?); close it and try again")]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// No index in the directory (or one whose first run has not finished).
    #[error("{dir}: no ploke index here{}; run `ploke index` first", if *.partial { " yet (the first index run has not finished)" } else { "" })]
    NoIndex {
        /// The index directory.
        dir: PathBuf,
        /// A database file exists but its schema is not complete.
        partial: bool,
    },
    /// The index kept changing while it was read.
    #[error("the index changed {attempts} times while it was being read (is a writer running in a loop?); try again")]
    Unstable {
        /// How many consistent reads were attempted.
        attempts: u32,
    },
    /// A dependency's file no longer holds the text it was indexed from (dependency texts are
    /// read from cargo's cache, which should never change).
    #[error("{path}: this dependency source changed since it was indexed; re-run `ploke index`")]
    DependencyChanged {
        /// The file (absolute).
        path: String,
    },
    /// A dependency's file cannot be read (removed from cargo's cache, say).
    #[error("{path}: cannot read this dependency source ({source}); run `cargo fetch`, then re-run `ploke index`")]
    DependencyUnreadable {
        /// The file (absolute).
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A stored value could not be decoded (a row of an unexpected shape, an unknown kind).
    #[error("corrupt index database: {0}; run `ploke index --rebuild`")]
    Corrupt(String),
}

impl DbError {
    /// Wraps a CozoDB error, keeping its chain of causes in the message.
    pub(crate) fn cozo(op: &'static str, err: cozo::Error) -> DbError {
        let mut message = err.to_string();
        for cause in err.chain().skip(1) {
            message.push_str(": ");
            message.push_str(&cause.to_string());
        }
        DbError::Cozo { op, message }
    }
}
