//! The errors of pack building.

/// Everything that can go wrong building a [`crate::Pack`].
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The index could not be read.
    #[error("cannot read the index while building a context pack: {0}")]
    Db(#[from] ploke_db::DbError),
    /// The options are out of range (the caller's fault).
    #[error("invalid context pack options: {0}")]
    InvalidOptions(String),
    /// The budget cannot hold even the pack's header.
    #[error(
        "a budget of {budget} tokens cannot hold even the context pack header ({needed} \
         tokens); ask for a larger budget"
    )]
    BudgetTooSmall {
        /// The budget asked for.
        budget: usize,
        /// Tokens of the header of an empty pack.
        needed: usize,
    },
    /// A bundled tokenizer could not be loaded.
    #[error("cannot load the {name} tokenizer: {message}")]
    Tokenizer {
        /// The tokenizer's name (`cl100k_base`).
        name: &'static str,
        /// What went wrong.
        message: String,
    },
}
