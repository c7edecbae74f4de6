//! The shared vocabulary of ploke.
//!
//! Every other crate speaks in these types: [`NodeId`] (a stable, deterministic id for an
//! item), [`ItemKind`], [`Span`], [`ContentHash`], and the graph records [`Node`], [`Edge`],
//! [`FileRecord`] and [`CrateRecord`] that the parser and resolver produce and the database
//! stores. This crate depends on no runtime, no database and no parser.

mod delta;
mod graph;
mod hash;
mod id;
mod kind;
pub mod redact;

pub use delta::GraphDelta;
pub use graph::{
    is_dependency_path, CrateRecord, Edge, EdgeKind, FileRecord, FileStatus, Graph, Node, Skipped,
    TargetKind, Unresolved, Visibility,
};
pub use hash::ContentHash;
pub use id::NodeId;
pub use kind::ItemKind;

/// A byte and line range in one source file. Lines are 1-based and inclusive; bytes are a
/// half-open range `[start_byte, end_byte)`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Span {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_line: u32,
    pub end_line: u32,
}

impl Span {
    /// Whether `other` lies entirely inside this span.
    pub fn contains(&self, other: &Span) -> bool {
        self.start_byte <= other.start_byte && other.end_byte <= self.end_byte
    }
}
