//! Token counting: what the budget is measured in.
//!
//! [`TokenCounter`] is the seam where a model's own tokenizer plugs in; [`Cl100k`] (OpenAI's
//! `cl100k_base`, the BPE of GPT-4-era models) is the default. Its ranks are compiled into
//! `tiktoken-rs`, so counting never touches the network or the file system.

use crate::ContextError;

/// Counts the tokens a model would see for a text.
pub trait TokenCounter {
    /// The number of tokens of `text`, encoded as plain text (special-token markers such as
    /// `<|endoftext|>` count as the ordinary characters they are).
    fn count(&self, text: &str) -> usize;
}

/// OpenAI's `cl100k_base` byte-pair encoding.
pub struct Cl100k {
    bpe: tiktoken_rs::CoreBPE,
}

impl Cl100k {
    /// Loads the bundled ranks (about 100k entries; tens of milliseconds). Build one and share
    /// it: counting takes `&self`.
    pub fn new() -> Result<Cl100k, ContextError> {
        let bpe = tiktoken_rs::cl100k_base().map_err(|e| ContextError::Tokenizer {
            name: "cl100k_base",
            message: e.to_string(),
        })?;
        Ok(Cl100k { bpe })
    }
}

impl std::fmt::Debug for Cl100k {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cl100k")
    }
}

impl TokenCounter for Cl100k {
    fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cl100k_counts_known_texts() {
        let c = Cl100k::new().unwrap();
        assert_eq!(c.count(""), 0);
        // Reference counts from OpenAI's tiktoken for cl100k_base.
        assert_eq!(c.count("hello world"), 2);
        assert_eq!(c.count("tiktoken is great!"), 6);
        // A special-token marker is plain text here, not one special token.
        assert!(c.count("<|endoftext|>") > 1);
    }
}
