//! A workspace opened for work.

pub mod settings;

/// Placeholder while the crate is assembled.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{}: invalid config: {message}", file.as_ref().map_or("settings".to_string(), |f| f.display().to_string()))]
    Config {
        file: Option<std::path::PathBuf>,
        message: String,
    },
}
