//! Lexical BM25 search over items with identifier-aware tokens
