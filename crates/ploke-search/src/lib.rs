//! Lexical BM25 search over items with identifier-aware tokens.
//!
//! [`LexicalIndex`] is an in-memory BM25F index: each item is an [`ItemDoc`] with six
//! fields (name, canonical path, signature, docs, body, file), each with its own weight and
//! length normalisation ([`Bm25Params`]). Text is split by [`Tokenizer`]: identifiers are
//! kept whole and split at `_` and case boundaries, lower-cased, stop-listed and lightly
//! stemmed, so `HTTPServer::parse_u32` and "parsing an http server's u32" meet.
//!
//! Queries are change requests in plain language mixed with code; identifiers the query
//! writes as code (`` `a::b` ``, `snake_case`, `CamelCase`, `call()`) also boost items whose
//! name they equal.
//!
//! The crate is pure and single-threaded: no I/O, no runtime, no logging.

mod index;
mod query;
mod tokenize;

pub use index::{Bm25Params, FieldParams, ItemDoc, LexicalIndex, NUM_FIELDS};
pub use tokenize::{is_stop_word, stem, tokenize, Tokenizer};
