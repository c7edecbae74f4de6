//! A real crate from the cargo registry, indexed as published: `either` 1.16.0 (modules,
//! a trait with a blanket impl, inherent and trait impls, re-exports, macros, cfg'd modules).
//!
//! The test materialises the exact version the way `shared/bench/corpus.sh` does (a throwaway
//! project depending on `either = "=1.16.0"`, `cargo fetch`, `cargo metadata`:
//! `ploke_test_support::registry_crate`), copies its source directory to a temp directory,
//! indexes the copy and checks named items with their exact canonical paths, kinds and spans
//! (lines found by searching the source text here, never typed in), and the edges between
//! them. It needs crates.io (or a warm cargo cache); without either it fails and says so.

mod common;

use std::path::PathBuf;

use common::{edge, line_of, load, node, Project};
use ploke_core::{EdgeKind, Graph, ItemKind, Node};
use ploke_test_support::registry_crate;

const CRATE: &str = "either";
const VERSION: &str = "1.16.0";

struct Indexed {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
    graph: Graph,
    report: ploke_index::IndexReport,
}

fn index_either() -> Indexed {
    let src = registry_crate(CRATE, VERSION);
    let p = Project::copy_of(&src, &format!("{CRATE}-{VERSION}"));
    let db = p.db("db");
    let report = p.index(&db);
    let graph = load(&db);
    Indexed {
        _tmp: p.tmp,
        root: p.root,
        db,
        graph,
        report,
    }
}

impl Indexed {
    fn text(&self, file: &str) -> String {
        std::fs::read_to_string(self.root.join(file)).unwrap()
    }

    /// 1-based line of the one line in `file` that contains `needle`.
    fn line(&self, file: &str, needle: &str) -> u32 {
        line_of(&self.text(file), needle)
    }

    /// The span's text, exactly as in the file.
    fn span_text(&self, n: &Node) -> String {
        self.text(&n.file)[n.span.start_byte as usize..n.span.end_byte as usize].to_string()
    }

    /// 1-based line of the first line containing `needle` after the line containing `after`.
    fn line_after(&self, file: &str, after: &str, needle: &str) -> u32 {
        let from = self.line(file, after);
        let text = self.text(file);
        let i = text
            .lines()
            .enumerate()
            .skip(from as usize)
            .find(|(_, l)| l.contains(needle))
            .map(|(i, _)| i);
        i.unwrap_or_else(|| panic!("no `{needle}` after `{after}` in {file}")) as u32 + 1
    }

    /// The line of the first line after `from` that is exactly `closing` (`}` at the item's
    /// indentation): where an item whose header is on line `from` ends.
    fn closing_line(&self, file: &str, from: u32, closing: &str) -> u32 {
        let text = self.text(file);
        let i = text
            .lines()
            .enumerate()
            .skip(from as usize)
            .find(|(_, l)| *l == closing)
            .map(|(i, _)| i);
        i.unwrap_or_else(|| panic!("no `{closing}` after line {from} of {file}")) as u32 + 1
    }

    /// Check the node at `path`: its kind, file, and span from line `first` (its first doc
    /// line or attribute) to the `closing` line after its `header` line (or the header line
    /// itself for one-line items, `closing` empty). The byte span and the line span agree.
    #[track_caller]
    fn check_item(
        &self,
        path: &str,
        kind: ItemKind,
        file: &str,
        first: u32,
        header: &str,
        closing: &str,
    ) -> &Node {
        let n = node(&self.graph, path);
        assert_eq!((n.kind, n.file.as_str()), (kind, file), "{path}");
        let header_line = self.line(file, header);
        let end = if closing.is_empty() {
            header_line
        } else {
            self.closing_line(file, header_line, closing)
        };
        assert_eq!(
            (n.span.start_line, n.span.end_line),
            (first, end),
            "{path}: span lines"
        );
        let text = self.text(file);
        let first_text = text.lines().nth(first as usize - 1).unwrap().trim();
        let line_at = |byte: u32| text[..byte as usize].matches('\n').count() as u32 + 1;
        assert_eq!(
            line_at(n.span.start_byte),
            n.span.start_line,
            "{path}: start byte is on the start line"
        );
        assert_eq!(
            line_at(n.span.end_byte - 1),
            n.span.end_line,
            "{path}: last byte is on the end line"
        );
        let body = self.span_text(n);
        assert!(
            body.starts_with(first_text),
            "{path} starts with `{first_text}`: {body}"
        );
        let header = header.trim().trim_end_matches(',');
        assert!(body.contains(header), "{path} holds `{header}`: {body}");
        n
    }
}

fn ids(g: &Graph, path: &str) -> Vec<ploke_core::NodeId> {
    g.nodes
        .iter()
        .filter(|n| n.path == path)
        .map(|n| n.id)
        .collect()
}

#[test]
fn either_items_paths_kinds_and_spans() {
    let ix = index_either();
    let g = &ix.graph;
    assert!(
        g.skipped.is_empty(),
        "a published crate indexes cleanly: {:?}",
        g.skipped
    );
    assert!(
        ix.report.orphan_files.is_empty(),
        "{:?}",
        ix.report.orphan_files
    );

    // One library target (the published manifest turns target auto-discovery off).
    assert_eq!(g.crates.len(), 1, "{:?}", g.crates);
    let c = &g.crates[0];
    assert_eq!(
        (
            c.name.as_str(),
            c.package.as_str(),
            c.version.as_str(),
            c.kind,
            c.root_file.as_str(),
            c.package_root.as_str()
        ),
        (
            CRATE,
            CRATE,
            VERSION,
            ploke_core::TargetKind::Lib,
            "src/lib.rs",
            ""
        )
    );
    let mut files: Vec<&str> = g.files.iter().map(|f| f.path.as_str()).collect();
    files.sort();
    assert_eq!(
        files,
        [
            "src/into_either.rs",
            "src/iterator.rs",
            "src/lib.rs",
            "src/serde_untagged.rs",
            "src/serde_untagged_optional.rs"
        ]
    );
    for f in &g.files {
        assert_eq!(
            f.lines as usize,
            ix.text(&f.path).lines().count(),
            "{}",
            f.path
        );
    }

    let root = node(g, "either");
    assert_eq!((root.kind, root.parent), (ItemKind::Crate, None));
    assert_eq!(root.id, c.id);

    let either = ix.check_item(
        "either::Either",
        ItemKind::Enum,
        "src/lib.rs",
        ix.line(
            "src/lib.rs",
            "/// The enum `Either` with variants `Left` and `Right` is a general purpose",
        ),
        "pub enum Either<L, R> {",
        "}",
    );
    assert_eq!(either.visibility, ploke_core::Visibility::Public);
    assert!(
        either.docs.starts_with("The enum `Either` with variants"),
        "{}",
        either.docs
    );
    assert!(
        either.attrs.iter().any(|a| a.contains("derive(Copy")),
        "{:?}",
        either.attrs
    );
    ix.check_item(
        "either::Either::Left",
        ItemKind::Variant,
        "src/lib.rs",
        ix.line("src/lib.rs", "/// A value of type `L`."),
        "    Left(L),",
        "",
    );

    let flip = ix.check_item(
        "either::Either::flip",
        ItemKind::Method,
        "src/lib.rs",
        ix.line(
            "src/lib.rs",
            "    /// Convert `Either<L, R>` to `Either<R, L>`.",
        ),
        "    pub fn flip(self) -> Either<R, L> {",
        "    }",
    );
    assert_eq!(flip.display_name, "Either::flip");
    assert_eq!(flip.signature, "pub fn flip(self) -> Either<R, L>");

    let trait_ = ix.check_item(
        "either::into_either::IntoEither",
        ItemKind::Trait,
        "src/into_either.rs",
        ix.line(
            "src/into_either.rs",
            "/// Provides methods for converting a type `Self` into either a [`Left`] or [`Right`]",
        ),
        "pub trait IntoEither: Sized {",
        "}",
    );
    assert_eq!(trait_.module, "into_either");
    let m = ix.check_item(
        "either::into_either::IntoEither::into_either",
        ItemKind::Method,
        "src/into_either.rs",
        // The first doc line after the trait's header.
        ix.line_after(
            "src/into_either.rs",
            "pub trait IntoEither",
            "/// Converts `self` into a [`Left`] variant",
        ),
        "    fn into_either(self, into_left: bool) -> Either<Self, Self> {",
        "    }",
    );
    assert_eq!(m.display_name, "IntoEither::into_either");

    ix.check_item(
        "either::iterator::IterEither",
        ItemKind::Struct,
        "src/iterator.rs",
        ix.line("src/iterator.rs", "/// Iterator that maps left or right iterators to corresponding `Either`-wrapped items."),
        "pub struct IterEither<L, R> {",
        "}",
    );
    let new = ix.check_item(
        "either::iterator::IterEither::new",
        ItemKind::Method,
        "src/iterator.rs",
        ix.line(
            "src/iterator.rs",
            "    pub(crate) fn new(inner: Either<L, R>) -> Self {",
        ),
        "    pub(crate) fn new(inner: Either<L, R>) -> Self {",
        "    }",
    );
    assert_eq!(new.visibility, ploke_core::Visibility::Crate);

    // A trait impl method: the canonical path names the trait, the display name the type.
    let clone = ix.check_item(
        "either::<Either as Clone>::clone",
        ItemKind::Method,
        "src/lib.rs",
        ix.line("src/lib.rs", "    fn clone(&self) -> Self {"),
        "    fn clone(&self) -> Self {",
        "    }",
    );
    assert_eq!(clone.display_name, "Either::clone");
    let clone_impl = ix.check_item(
        "either::<impl Clone for Either>",
        ItemKind::Impl,
        "src/lib.rs",
        ix.line(
            "src/lib.rs",
            "impl<L: Clone, R: Clone> Clone for Either<L, R> {",
        ),
        "impl<L: Clone, R: Clone> Clone for Either<L, R> {",
        "}",
    );
    assert_eq!(clone.parent, Some(clone_impl.id));

    // `#[macro_export]` macros live at the crate root.
    ix.check_item(
        "either::for_both",
        ItemKind::Macro,
        "src/lib.rs",
        ix.line(
            "src/lib.rs",
            "/// Evaluate the provided expression for both [`Either::Left`] and [`Either::Right`].",
        ),
        "macro_rules! for_both {",
        "}",
    );

    // Modules: declared in lib.rs; the cfg'd ones carry their predicate.
    let it = node(g, "either::iterator");
    assert_eq!(
        (it.kind, it.file.as_str(), it.span.start_line),
        (
            ItemKind::Module,
            "src/lib.rs",
            ix.line("src/lib.rs", "mod iterator;")
        )
    );
    let serde = node(g, "either::serde_untagged");
    assert_eq!(serde.kind, ItemKind::Module);
    assert_eq!(serde.cfg, "feature = \"serde\"");
    assert_eq!(
        serde.span.end_line,
        ix.line("src/lib.rs", "pub mod serde_untagged;")
    );

    // Two `impl` blocks define `cloned` (for `Either<&L, &R>` and `Either<&mut L, &mut R>`):
    // one path, two items, two ids.
    assert_eq!(ids(g, "either::Either::cloned").len(), 2);
    // Test functions are marked as such.
    assert!(node(g, "either::basic").is_test);
    assert!(!flip.is_test);
}

#[test]
fn either_edges_and_reexports() {
    let ix = index_either();
    let g = &ix.graph;
    let lib = "src/lib.rs";

    // Calls: a method call on `self` inside the same impl, a trait default method calling its
    // sibling, and a path call into another module.
    let e = edge(
        g,
        "either::Either::is_right",
        EdgeKind::Calls,
        "either::Either::is_left",
    );
    assert_eq!(e.line, ix.line(lib, "        !self.is_left()"));
    let e = edge(
        g,
        "either::into_either::IntoEither::into_either_with",
        EdgeKind::Calls,
        "either::into_either::IntoEither::into_either",
    );
    assert_eq!(
        e.line,
        ix.line("src/into_either.rs", "        self.into_either(into_left)")
    );
    let e = edge(
        g,
        "either::Either::factor_into_iter",
        EdgeKind::Calls,
        "either::iterator::IterEither::new",
    );
    assert_eq!(
        e.line,
        ix.line_after(lib, "pub fn factor_into_iter(self)", "IterEither::new(")
    );
    // A macro used in a body is a call of the macro.
    edge(
        g,
        "either::Either::factor_into_iter",
        EdgeKind::Calls,
        "either::map_both",
    );

    // impl → self type, and impl → trait, for a trait of this crate.
    let e = edge(
        g,
        "either::<impl Clone for Either>",
        EdgeKind::ImplFor,
        "either::Either",
    );
    assert_eq!(
        e.line,
        ix.line(lib, "impl<L: Clone, R: Clone> Clone for Either<L, R> {")
    );
    let e = edge(
        g,
        "either::into_either::<impl IntoEither for T>",
        EdgeKind::ImplementsTrait,
        "either::into_either::IntoEither",
    );
    assert_eq!(
        e.line,
        ix.line("src/into_either.rs", "impl<T> IntoEither for T {}")
    );
    // `Either` is the self type of many impls in two files.
    let either = node(g, "either::Either").id;
    let impls: Vec<&Node> = g
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::ImplFor && e.dst == either)
        .map(|e| common::node_by_id(g, e.src))
        .collect();
    assert!(
        impls.iter().any(|n| n.file == "src/iterator.rs") && impls.iter().any(|n| n.file == lib)
    );
    assert!(impls
        .iter()
        .any(|n| n.path == "either::iterator::<impl Iterator for Either>"));

    // Contains: module → item, trait → method, impl → method, enum → variant.
    for (parent, child) in [
        ("either::into_either", "either::into_either::IntoEither"),
        (
            "either::into_either::IntoEither",
            "either::into_either::IntoEither::into_either",
        ),
        (
            "either::<impl Clone for Either>",
            "either::<Either as Clone>::clone",
        ),
        ("either::Either", "either::Either::Left"),
        ("either", "either::Either"),
        ("either::iterator", "either::iterator::IterEither"),
    ] {
        let e = edge(g, parent, EdgeKind::Contains, child);
        assert_eq!(
            e.line,
            node(g, child).span.start_line,
            "{parent} contains {child}"
        );
    }

    // Re-exports: `pub use self::into_either::IntoEither;` and `pub use crate::Either::{Left,
    // Right};` at the crate root point at the items they re-export…
    let use_into = "either::{use self::into_either::IntoEither}";
    let e = edge(
        g,
        use_into,
        EdgeKind::Reexports,
        "either::into_either::IntoEither",
    );
    assert_eq!(
        e.line,
        ix.line(lib, "pub use self::into_either::IntoEither;")
    );
    let use_lr = "either::{use crate::Either::{Left, Right}}";
    assert_eq!(
        common::edges_from(g, use_lr, EdgeKind::Reexports),
        ["either::Either::Left", "either::Either::Right"]
    );
    edge(
        g,
        "either::{use self::iterator::IterEither}",
        EdgeKind::Reexports,
        "either::iterator::IterEither",
    );
    // …and a `use super::{Either, Left, Right}` in a submodule resolves `Left` and `Right`
    // through that re-export to the enum's variants.
    assert_eq!(
        common::edges_from(
            g,
            "either::iterator::{use super::{Either, Left, Right}}",
            EdgeKind::Imports
        ),
        [
            "either::Either",
            "either::Either::Left",
            "either::Either::Right"
        ]
    );
    assert_eq!(
        common::edges_from(
            g,
            "either::into_either::{use super::{Either, Left, Right}}",
            EdgeKind::Imports
        ),
        [
            "either::Either",
            "either::Either::Left",
            "either::Either::Right"
        ]
    );
    // The trait's signature names `Either` through that import.
    let sig_types = common::edges_from(
        g,
        "either::into_either::IntoEither::into_either",
        EdgeKind::UsesType,
    );
    assert!(
        sig_types.contains(&"either::Either".to_string()),
        "{sig_types:?}"
    );

    // The same relations through the database's point queries (what `ploke item` uses).
    let db = ploke_db::Db::open(&ix.db).unwrap();
    let trait_id = node(g, "either::into_either::IntoEither").id;
    let impls: Vec<String> = db
        .implementations(trait_id)
        .unwrap()
        .into_iter()
        .map(|n| n.path)
        .collect();
    assert_eq!(impls, ["either::into_either::<impl IntoEither for T>"]);
    let callers: Vec<(String, u32)> = db
        .callers(node(g, "either::iterator::IterEither::new").id)
        .unwrap()
        .into_iter()
        .map(|(n, line)| (n.path, line))
        .collect();
    let expected: Vec<(String, u32)> = ["factor_into_iter", "factor_iter", "factor_iter_mut"]
        .iter()
        .map(|f| {
            (
                format!("either::Either::{f}"),
                ix.line_after(lib, &format!("pub fn {f}("), "IterEither::new("),
            )
        })
        .collect();
    assert_eq!(callers, expected);
    let named: Vec<String> = db
        .nodes_by_name("IterEither::new")
        .unwrap()
        .into_iter()
        .map(|n| n.path)
        .collect();
    assert_eq!(named, ["either::iterator::IterEither::new"]);
    assert_eq!(
        db.source("src/into_either.rs").unwrap().as_deref(),
        Some(ix.text("src/into_either.rs").as_str())
    );
}
