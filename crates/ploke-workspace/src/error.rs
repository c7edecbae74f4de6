//! Why a workspace could not be discovered.

use std::path::PathBuf;

/// Why [`discover`](crate::discover) found no workspace.
///
/// Failures of `cargo metadata` are not errors: they switch discovery to reading the manifests
/// directly. These errors come from that direct reading, or from the path itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// The path given to `discover` does not exist or cannot be resolved.
    #[error("cannot open `{path}`: {source}; check that the path exists and is readable")]
    PathNotFound {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Neither the path nor any directory above it holds a `Cargo.toml`.
    #[error(
        "no Cargo.toml in `{path}` or any directory above it; point at a Cargo package or \
         workspace (a directory with a Cargo.toml, or something inside one)"
    )]
    NoManifest { path: PathBuf },

    /// A manifest could not be read.
    #[error("cannot read `{path}`: {source}; check the file's permissions")]
    ReadManifest {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A manifest is not valid TOML.
    #[error(
        "{}:{line}: not valid TOML: {message}; fix the manifest (`cargo metadata` in its \
         directory shows Cargo's own diagnosis)", path.display()
    )]
    ParseManifest {
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What TOML's parser says, in one line.
        message: String,
    },

    /// A manifest is valid TOML but not a usable Cargo manifest.
    #[error("`{path}` is not a usable Cargo manifest: {reason}; fix the manifest")]
    InvalidManifest { path: PathBuf, reason: String },
}
