//! Token-budgeted context packs: what an LLM is shown about a codebase for one request.
//!
//! [`build_pack`] takes the store ([`ploke_db::Db`]), the request, and the items a search
//! ranked for it (best first), and returns a [`Pack`] whose rendered markdown
//! ([`Pack::to_markdown`]) fits a token budget, counted by a real tokenizer
//! ([`TokenCounter`]; [`Cl100k`] by default). The pack also serialises to JSON (serde).
//!
//! # Packing policy
//!
//! Items are never cut mid-text: an entry is an item's exact source text (sliced from the
//! stored file by its span, so doc comments and attributes come with it, and widened to the
//! start of its first line so that every line keeps its indentation) or an outline built
//! from stored signatures (a function's signature; a container's header with its members'
//! signatures). Greedy passes fill the budget:
//!
//! 1. **Primaries.** Ranked items in rank order get their full text while the pack stays within
//!    [`PackOptions::primary_share`] of the budget (70% by default). A ranked container
//!    (impl, trait, module, type) whose text does not fit is outlined instead, on the spot;
//!    any other item that does not fit waits for pass 4. Smaller items further down still get
//!    their turn.
//! 2. **Tests** (only with [`PackOptions::tests_per_item`], as for an edit). For each item
//!    placed in pass 1, the tests that reach it through calls (the index's test map), nearest
//!    first, as text when it fits (else an outline): `test of X (calls it)`, `test of X
//!    (reaches it in 2 calls)`.
//! 3. **Neighbours.** For each item placed in pass 1, in rank order, up to
//!    [`PackOptions::max_neighbours_per_item`] related items as outlines, each tagged with why
//!    it is there: `callee of X` and `caller of X` (interleaved), `type of method X`,
//!    `trait implemented by X` (showing the trait's declaration of that method),
//!    `implementation of X (2 of 5)`, `impl of X`.
//! 4. **Outlines.** The ranked items pass 1 could not place, as outlines, in rank order.
//!
//! An item appears once: a primary wins over a neighbour, and an item inside a primary's text
//! (a method of an included impl) is not repeated; a primary placed after an item it contains
//! replaces that entry. Ranked items that appear nowhere are counted in [`Pack::omitted`] and
//! mentioned in the header.
//!
//! The budget covers everything rendered, headers included. Entry sizes are counted as their
//! rendered sections; at the end the whole markdown is counted again (tokens can merge across
//! section boundaries) and the last-placed entries are dropped until it fits, so
//! `Pack::tokens` is the exact count of `to_markdown()` and never exceeds the budget.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ploke_context::{build_pack, Cl100k, PackOptions};
//! let db = ploke_db::Db::open(std::path::Path::new(".ploke"))?;
//! let ranked = vec![]; // (NodeId, score) pairs from the search engine, best first
//! let pack = build_pack(&db, "where are points built", &ranked, &PackOptions::default(), &Cl100k::new()?)?;
//! println!("{}", pack.to_markdown());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod build;
mod error;
mod neighbours;
mod pack;
mod tokens;
mod view;

use ploke_core::NodeId;
use ploke_db::Db;
use serde::{Deserialize, Serialize};

pub use error::ContextError;
pub use pack::{Pack, PackItem, Role};
pub use tokens::{Cl100k, TokenCounter};

/// How a pack is filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PackOptions {
    /// Tokens of the whole rendered markdown, at most.
    pub budget: usize,
    /// The share of the budget that pass 1 (full text of ranked items) may fill, in `0..=1`.
    pub primary_share: f32,
    /// How many ranked items are considered at all (the rest of the ranking is ignored).
    pub max_primaries: usize,
    /// How many neighbours one primary brings in at most.
    pub max_neighbours_per_item: usize,
    /// How many of the tests that reach a primary item (the index's test map, nearest
    /// first) it brings in at most, after the neighbours: for an edit, the tests that will
    /// tell whether it still works. 0 (the default) for none.
    pub tests_per_item: usize,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            budget: 8000,
            primary_share: 0.7,
            max_primaries: 10,
            max_neighbours_per_item: 6,
            tests_per_item: 0,
        }
    }
}

impl PackOptions {
    /// Checks the ranges: `primary_share` within `0..=1`.
    pub fn validate(&self) -> Result<(), ContextError> {
        if !(0.0..=1.0).contains(&self.primary_share) {
            return Err(ContextError::InvalidOptions(format!(
                "primary_share is {}; it must be between 0 and 1",
                self.primary_share
            )));
        }
        Ok(())
    }
}

/// Builds the context pack for `request` from `ranked` items (best first, with their search
/// scores) within `opts.budget` tokens as counted by `counter`. See the crate docs for the
/// policy.
///
/// Ranked ids that are not in the index are skipped (with a warning), and repeated ids count
/// once. Fails when the index cannot be read, when the options are out of range, or when the
/// budget cannot hold even the pack's header ([`ContextError::BudgetTooSmall`]).
pub fn build_pack(
    db: &Db,
    request: &str,
    ranked: &[(NodeId, f32)],
    opts: &PackOptions,
    counter: &dyn TokenCounter,
) -> Result<Pack, ContextError> {
    build::build(db, request, ranked, opts, counter)
}
