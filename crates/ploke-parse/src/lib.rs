//! Parse Rust source files with syn into per-file item records
