//! Find the crates, targets and source files of a Cargo workspace
