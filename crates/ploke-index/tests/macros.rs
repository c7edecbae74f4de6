//! Code a crate declares through its own `macro_rules!` macros and through `cfg_if!`, and
//! module files reached in unusual ways (raw identifiers, `cfg_attr` paths, fn bodies).
//!
//! Each test writes a small crate into a temp directory, indexes it with the real pipeline and
//! checks canonical paths, the files and lines items are placed at, and that a re-index after
//! an edit equals a clean index. The last test indexes the published `serde_core`, whose whole
//! module tree is declared inside `crate_root!`.

mod common;

use std::path::{Path, PathBuf};

use common::{line_of, load, node, Project};
use ploke_core::{Graph, ItemKind, Node};
use ploke_index::{Changes, IndexOptions, Indexer, NoProgress};

/// The text of node `n`'s span in its file under `root`.
fn span_text(root: &Path, n: &Node) -> String {
    let text = std::fs::read_to_string(root.join(&n.file)).unwrap();
    text[n.span.start_byte as usize..n.span.end_byte as usize].to_string()
}

/// Indexes `p` into a fresh database and returns the graph.
fn index(p: &Project, name: &str) -> Graph {
    let db = p.db(name);
    p.index(&db);
    load(&db)
}

/// Re-indexes into `db` and checks the result equals a clean index of the same tree.
#[track_caller]
fn reindex_equals_clean(p: &Project, db: &Path, step: &str) -> Graph {
    p.index(db);
    let incremental = load(db);
    let clean_dir = tempfile::Builder::new()
        .prefix("clean-")
        .tempdir_in(p.tmp.path())
        .unwrap();
    p.index(clean_dir.path());
    let clean = load(clean_dir.path());
    common::assert_same_graph(&incremental, &clean, step);
    incremental
}

#[test]
fn raw_identifier_modules_find_their_files() {
    let p = Project::new(
        "rawmods",
        &[
            (
                "src/lib.rs",
                "pub mod r#type;\npub mod r#async {\n    pub mod inner;\n}\n\npub fn uses() {\n    r#type::complete_type_path()\n}\n",
            ),
            ("src/type.rs", "pub fn complete_type_path() {}\npub mod r#fn;\n"),
            ("src/type/fn.rs", "pub struct InFn;\n"),
            ("src/async/inner.rs", "pub struct Inner;\n"),
        ],
    );
    let db = p.db("db");
    let report = p.index(&db);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let g = load(&db);
    // Paths keep the raw form, as Rust writes them.
    let f = node(&g, "rawmods::r#type::complete_type_path");
    assert_eq!(f.file, "src/type.rs");
    assert_eq!(f.module, "r#type");
    assert_eq!(
        node(&g, "rawmods::r#type::r#fn::InFn").file,
        "src/type/fn.rs"
    );
    assert_eq!(
        node(&g, "rawmods::r#async::inner::Inner").file,
        "src/async/inner.rs"
    );
    assert_eq!(node(&g, "rawmods::r#type").kind, ItemKind::Module);
    // A path through the module resolves to it.
    common::edge(
        &g,
        "rawmods::uses",
        ploke_core::EdgeKind::Calls,
        "rawmods::r#type::complete_type_path",
    );
}

#[test]
fn every_file_a_cfg_attr_path_names_is_a_module_twin() {
    let p = Project::new(
        "cfgpaths",
        &[
            (
                "src/lib.rs",
                "#[cfg_attr(feature = \"spin_no_std\", path = \"core_lazy.rs\")]\n\
                 #[cfg_attr(not(feature = \"spin_no_std\"), path = \"inline_lazy.rs\")]\n\
                 pub mod lazy;\n\
                 #[cfg_attr(docsrs, path = \"docs/de.rs\")]\npub mod de;\n\
                 #[cfg_attr(any(target_arch = \"mips\", target_arch = \"mips64\"), path = \"arch/mips/socket.rs\")]\n\
                 #[cfg_attr(target_arch = \"sparc\", path = \"arch/sparc/socket.rs\")]\n\
                 pub mod socket;\n",
            ),
            // lazy_static's shape: two implementations, neither at `lazy.rs`.
            ("src/core_lazy.rs", "pub struct SpinLazy;\n"),
            ("src/inline_lazy.rs", "pub struct InlineLazy;\n"),
            // The usual file and a docs-only one.
            ("src/de.rs", "pub trait Deserialize {}\n"),
            ("src/docs/de.rs", "pub trait DocsOnly {}\n"),
            // libc's shape: a default file, per-architecture ones, one of them not in this tree.
            ("src/socket.rs", "pub const SO_DEBUG: i32 = 1;\n"),
            ("src/arch/mips/socket.rs", "pub const SO_DEBUG: i32 = 1;\n"),
        ],
    );
    let db = p.db("db");
    let report = p.index(&db);
    // A twin whose file is not in the tree is no module (another configuration's), said nowhere.
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let g = reindex_equals_clean(&p, &db, "first index");
    let at = |path: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = g
            .nodes
            .iter()
            .filter(|n| n.path == path)
            .map(|n| (n.file.clone(), n.cfg.clone()))
            .collect();
        v.sort();
        v
    };
    let spin = "feature = \"spin_no_std\"";
    // No `lazy.rs`: the declaration as written is no module beside its alternatives.
    assert_eq!(at("cfgpaths::lazy").len(), 2);
    assert_eq!(
        at("cfgpaths::lazy::SpinLazy"),
        [("src/core_lazy.rs".to_string(), spin.to_string())]
    );
    assert_eq!(
        at("cfgpaths::lazy::InlineLazy"),
        [("src/inline_lazy.rs".to_string(), format!("not({spin})"))]
    );
    assert_eq!(
        at("cfgpaths::de::Deserialize"),
        [("src/de.rs".to_string(), "not(docsrs)".to_string())]
    );
    assert_eq!(
        at("cfgpaths::de::DocsOnly"),
        [("src/docs/de.rs".to_string(), "docsrs".to_string())]
    );
    // The sparc file is not here: the default takes back only the mips predicate.
    let mips = "any(target_arch = \"mips\", target_arch = \"mips64\")";
    assert_eq!(
        at("cfgpaths::socket::SO_DEBUG"),
        [
            ("src/arch/mips/socket.rs".to_string(), mips.to_string()),
            ("src/socket.rs".to_string(), format!("not({mips})")),
        ]
    );
    assert_eq!(at("cfgpaths::socket").len(), 2);

    // The missing file appears: its twin joins; the other goes: so does its.
    p.write("src/arch/sparc/socket.rs", "pub const SO_DEBUG: i32 = 2;\n");
    p.remove("src/docs/de.rs");
    let g = reindex_equals_clean(&p, &db, "alternative files added and removed");
    assert_eq!(
        g.nodes
            .iter()
            .filter(|n| n.path == "cfgpaths::socket::SO_DEBUG")
            .count(),
        3
    );
    assert!(!common::has_node(&g, "cfgpaths::de::DocsOnly"));
    assert_eq!(node(&g, "cfgpaths::de::Deserialize").cfg, "");
    assert_eq!(node(&g, "cfgpaths::de").file, "src/lib.rs");
}

#[test]
fn module_files_declared_in_fn_bodies_join_the_tree() {
    // getrandom's shape: two backends each include one helper file from a fn body.
    let body = "fn is_good() -> bool {\n    #[path = \"../utils/lazy_bool.rs\"]\n    mod lazy;\n\n    static GOOD: lazy::LazyBool = lazy::LazyBool::new();\n    GOOD.get()\n}\n";
    let p = Project::new(
        "bodies",
        &[
            ("src/lib.rs", "mod backends;\n"),
            ("src/backends.rs", "mod rdrand;\nmod rndr;\n"),
            ("src/backends/rdrand.rs", body),
            ("src/backends/rndr.rs", body),
            (
                "src/utils/lazy_bool.rs",
                "pub(crate) struct LazyBool;\n\nimpl LazyBool {\n    pub const fn new() -> Self {\n        LazyBool\n    }\n\n    pub fn get(&self) -> bool {\n        true\n    }\n}\n",
            ),
        ],
    );
    let db = p.db("db");
    let report = p.index(&db);
    let g = load(&db);
    let lazy = node(&g, "bodies::backends::rdrand::lazy");
    assert_eq!(lazy.file, "src/backends/rdrand.rs");
    assert_eq!(lazy.span.start_line, 2);
    let new = node(&g, "bodies::backends::rdrand::lazy::LazyBool::new");
    assert_eq!(new.file, "src/utils/lazy_bool.rs");
    common::edge(
        &g,
        "bodies::backends::rdrand::is_good",
        ploke_core::EdgeKind::Calls,
        "bodies::backends::rdrand::lazy::LazyBool::new",
    );
    // The second inclusion of the same file is the same module text: indexed once, and said.
    node(&g, "bodies::backends::rndr::lazy");
    assert!(!common::has_node(
        &g,
        "bodies::backends::rndr::lazy::LazyBool"
    ));
    let reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("already another module"), "{reasons:?}");
}

const CRATE_ROOT: &str = "\
macro_rules! crate_root {
    () => {
        /// The first module.
        pub mod a;

        mod lib {
            pub use core::fmt;
        }

        /// An item written in the macro.
        pub fn inline_item() -> u32 {
            a::helper()
        }

        pub use crate::a::Thing;
    };
}
";

const ROOT_LIB: &str = "\
//! A crate whose modules are declared by a macro.
#[macro_use]
mod crate_root;

crate_root!();

pub fn after() {}
";

const ROOT_A: &str = "\
pub struct Thing;

pub fn helper() -> u32 {
    1
}
";

fn crate_root_project() -> Project {
    Project::new(
        "rooted",
        &[
            ("src/lib.rs", ROOT_LIB),
            ("src/crate_root.rs", CRATE_ROOT),
            ("src/a.rs", ROOT_A),
        ],
    )
}

#[test]
fn modules_declared_by_a_macro_join_the_tree() {
    let p = crate_root_project();
    let db = p.db("db");
    let report = p.index(&db);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(report.orphan_files.is_empty(), "{:?}", report.orphan_files);
    let g = load(&db);

    // `a.rs` is the module `a` of the crate root, declared in crate_root.rs.
    let a = node(&g, "rooted::a");
    assert_eq!(a.kind, ItemKind::Module);
    assert_eq!(a.module, "a");
    assert_eq!(a.file, "src/crate_root.rs");
    assert_eq!(a.docs, "The first module.");
    assert_eq!(
        a.span.start_line,
        line_of(CRATE_ROOT, "/// The first module.")
    );
    assert_eq!(a.span.end_line, line_of(CRATE_ROOT, "pub mod a;"));
    assert_eq!(node(&g, "rooted::a::Thing").file, "src/a.rs");
    let helper = node(&g, "rooted::a::helper");
    assert_eq!(helper.file, "src/a.rs");
    assert_eq!(helper.span.start_line, line_of(ROOT_A, "pub fn helper"));

    // An item written inside the macro: at its lines in the macro's file, in the crate root.
    let inline = node(&g, "rooted::inline_item");
    assert_eq!(inline.file, "src/crate_root.rs");
    assert_eq!(inline.module, "");
    assert_eq!(
        inline.span.start_line,
        line_of(CRATE_ROOT, "/// An item written in the macro.")
    );
    assert!(span_text(&p.root, inline).starts_with("/// An item written in the macro.\n"));
    assert!(span_text(&p.root, inline).ends_with("a::helper()\n        }"));
    // Its call resolves through the crate root's namespace.
    common::edge(
        &g,
        "rooted::inline_item",
        ploke_core::EdgeKind::Calls,
        "rooted::a::helper",
    );
    assert_eq!(node(&g, "rooted::lib").file, "src/crate_root.rs");
    assert_eq!(node(&g, "rooted::after").file, "src/lib.rs");
    // The parent of the expanded items is the crate root.
    let root = g.crates[0].id;
    assert_eq!(a.parent, Some(root));
    assert_eq!(inline.parent, Some(root));
}

#[test]
fn captures_and_repetitions_are_placed_at_the_invocation() {
    let lib = "\
macro_rules! make {
    ($($n:ident),*) => { $(pub struct $n;)* };
}

make!(A, B);

macro_rules! getter {
    ($name:ident: $t:ty = $e:expr) => {
        pub fn $name() -> $t {
            $e
        }
    };
}

getter!(answer: u32 = 42);

macro_rules! gated {
    ($($i:item)*) => { $( #[cfg(feature = \"x\")] $i )* };
}

gated!(
    /// Written here.
    pub fn kept_as_written() {}
);
";
    let p = Project::new("caps", &[("src/lib.rs", lib)]);
    let g = index(&p, "db");
    let make_line = line_of(lib, "make!(A, B);");
    for name in ["A", "B"] {
        let s = node(&g, &format!("caps::{name}"));
        assert_eq!(s.kind, ItemKind::Struct);
        assert_eq!(s.name, name);
        assert_eq!(s.file, "src/lib.rs");
        assert_eq!((s.span.start_line, s.span.end_line), (make_line, make_line));
        assert_eq!(span_text(&p.root, s), "make!(A, B);");
    }
    let answer = node(&g, "caps::answer");
    assert_eq!(answer.kind, ItemKind::Fn);
    assert_eq!(answer.signature, "pub fn answer() -> u32");
    assert_eq!(answer.span.start_line, line_of(lib, "getter!(answer"));
    // A body of items is indexed as written (not expanded): one item, at its own lines.
    let kept: Vec<&Node> = g
        .nodes
        .iter()
        .filter(|n| n.name == "kept_as_written")
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].span.start_line, line_of(lib, "/// Written here."));
}

#[test]
fn macros_invoking_macros_across_files() {
    let lib = "\
#[macro_use]
mod macros;
mod uses;

outer!(X Y);

crate::exported_late!(Late);
";
    let macros = "\
macro_rules! inner {
    ($n:ident) => {
        pub struct $n;
    };
}

macro_rules! outer {
    ($($n:ident)*) => {
        $( inner!($n); )*
        $crate::inner_exported!(Z);
    };
}

#[macro_export]
macro_rules! inner_exported {
    ($n:ident) => {
        pub struct $n;
    };
}
";
    // Defined in a module declared after the invocation that uses it: found by path.
    let uses = "\
#[macro_export]
macro_rules! exported_late {
    ($n:ident) => {
        pub enum $n { One }
    };
}

inner!(NotVisibleHere);
";
    let p = Project::new(
        "nest",
        &[
            ("src/lib.rs", lib),
            ("src/macros.rs", macros),
            ("src/uses.rs", uses),
        ],
    );
    let g = index(&p, "db");
    for name in ["X", "Y", "Z"] {
        let s = node(&g, &format!("nest::{name}"));
        assert_eq!(s.span.start_line, line_of(lib, "outer!(X Y);"));
        assert_eq!(s.file, "src/lib.rs");
    }
    assert_eq!(node(&g, "nest::Late").kind, ItemKind::Enum);
    node(&g, "nest::Late::One");
    // `inner!` is textually in scope in `uses` (declared after `#[macro_use] mod macros`).
    node(&g, "nest::uses::NotVisibleHere");
}

#[test]
fn what_cannot_expand_is_left_as_it_was() {
    let lib = "\
macro_rules! only_x {
    (x) => { pub struct OnlyX; };
}
macro_rules! broken {
    ($i:ident) => { pub fn $i(); struct };
}
macro_rules! forever {
    () => { forever!(); };
}
macro_rules! wrap {
    ($($i:item)*) => { $($i)* };
}

only_x!(y);
broken!(f);
forever!();
not_defined_here!(z);
wrap! {
    pub fn inside() {}
}
pub fn still_here() {}
";
    let p = Project::new("left", &[("src/lib.rs", lib)]);
    let db = p.db("db");
    let report = p.index(&db);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let g = load(&db);
    let mut names: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.kind != ItemKind::Crate)
        .map(|n| n.name.as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "broken",
            "forever",
            "inside",
            "only_x",
            "still_here",
            "wrap"
        ]
    );
}

#[test]
fn editing_a_macro_reindexes_like_a_clean_index() {
    let p = crate_root_project();
    let db = p.db("db");
    let g = reindex_equals_clean(&p, &db, "first index");
    assert!(common::has_node(&g, "rooted::inline_item"));

    // An item added to the macro's body, above the others: every span below it moves.
    p.edit(
        "src/crate_root.rs",
        "        /// The first module.",
        "        pub fn added() {}\n\n        /// The first module.",
    );
    let g = reindex_equals_clean(&p, &db, "item added to the macro");
    assert!(common::has_node(&g, "rooted::added"));
    assert_eq!(
        node(&g, "rooted::inline_item").span.start_line,
        line_of(
            &p.read("src/crate_root.rs"),
            "/// An item written in the macro."
        )
    );

    // The module it declares goes: its file leaves the tree.
    p.edit("src/crate_root.rs", "        pub mod a;\n", "");
    p.edit(
        "src/crate_root.rs",
        "            a::helper()",
        "            2",
    );
    p.edit(
        "src/crate_root.rs",
        "        pub use crate::a::Thing;\n",
        "",
    );
    let g = reindex_equals_clean(&p, &db, "module removed from the macro");
    assert!(!common::has_node(&g, "rooted::a::helper"));

    // ... and comes back; then the invocation goes.
    p.edit(
        "src/crate_root.rs",
        "        pub fn added() {}",
        "        pub fn added() {}\n        pub mod a;",
    );
    let g = reindex_equals_clean(&p, &db, "module back");
    assert!(common::has_node(&g, "rooted::a::helper"));
    p.edit("src/lib.rs", "crate_root!();", "");
    let g = reindex_equals_clean(&p, &db, "invocation removed");
    assert!(!common::has_node(&g, "rooted::inline_item"));
    p.edit(
        "src/lib.rs",
        "pub fn after() {}",
        "crate_root!();\npub fn after() {}",
    );
    let g = reindex_equals_clean(&p, &db, "invocation back");
    assert!(common::has_node(&g, "rooted::inline_item"));

    // A live indexer told which file changed gets there too.
    let opts = IndexOptions {
        db_dir: Some(db.clone()),
        ..Default::default()
    };
    let mut ix = Indexer::open(&p.root, &opts).unwrap();
    ix.refresh(Changes::All, &NoProgress).unwrap();
    p.edit(
        "src/crate_root.rs",
        "        pub fn added() {}",
        "        pub fn added_live() {}",
    );
    let changed: Vec<PathBuf> = vec![p.path("src/crate_root.rs")];
    ix.refresh(Changes::Paths(changed), &NoProgress).unwrap();
    let clean = index(&p, "clean-live");
    common::assert_same_graph(&ix.graph(), &clean, "live refresh of the macro's file");
    assert!(common::has_node(&clean, "rooted::added_live"));
}

/// The published serde_core 1.0.229: `lib.rs` is `#[macro_use] mod crate_root;` and
/// `crate_root!();`, and everything else (`de`, `ser`, `private`, …) is declared inside the
/// macro.
#[test]
fn serde_core_is_indexed_through_crate_root() {
    let src = ploke_test_support::registry_crate("serde_core", "1.0.229");
    let p = Project::copy_of(&src, "serde_core-1.0.229");
    let db = p.db("db");
    let report = p.index(&db);
    let g = load(&db);
    let lib = g
        .crates
        .iter()
        .find(|c| c.kind == ploke_core::TargetKind::Lib);
    let lib = lib.expect("a lib target");
    assert_eq!(lib.name, "serde_core");

    let de = node(&g, "serde_core::de");
    assert_eq!(de.file, "src/crate_root.rs");
    let deserialize = node(&g, "serde_core::de::Deserialize");
    assert_eq!(deserialize.kind, ItemKind::Trait);
    assert_eq!(deserialize.file, "src/de/mod.rs");
    let ser_bool = node(&g, "serde_core::ser::Serializer::serialize_bool");
    assert_eq!(ser_bool.kind, ItemKind::Method);
    assert_eq!(ser_bool.file, "src/ser/mod.rs");
    let impls: Vec<&Node> = g
        .nodes
        .iter()
        .filter(|n| n.file == "src/de/impls.rs")
        .collect();
    assert!(
        impls.len() > 100,
        "{} items of src/de/impls.rs",
        impls.len()
    );
    for f in [
        "src/de/impls.rs",
        "src/de/value.rs",
        "src/ser/impls.rs",
        "src/private/mod.rs",
        "src/format.rs",
    ] {
        assert!(
            g.files.iter().any(|r| r.path == f),
            "{f} is in the tree; orphans: {:?}",
            report.orphan_files
        );
    }
    // Items written by serde_core's own macros (`primitive_deserializer!(bool, …)`).
    assert_eq!(
        node(&g, "serde_core::de::value::BoolDeserializer").kind,
        ItemKind::Struct
    );
    eprintln!(
        "serde_core: {} items, {} files, orphans {:?}",
        report.nodes, report.files, report.orphan_files
    );
}

/// cfg-if 1.0.5's macro, as crates that copy it have it (libc, hashbrown have 0.1's).
const CFG_IF_1_0: &str = r#"#[macro_export]
macro_rules! cfg_if {
    (
        if #[cfg( $($i_meta:tt)+ )] { $( $i_tokens:tt )* }
        $(
            else if #[cfg( $($ei_meta:tt)+ )] { $( $ei_tokens:tt )* }
        )*
        $(
            else { $( $e_tokens:tt )* }
        )?
    ) => {
        $crate::cfg_if! {
            @__items () ;
            (( $($i_meta)+ ) ( $( $i_tokens )* )),
            $(
                (( $($ei_meta)+ ) ( $( $ei_tokens )* )),
            )*
            $(
                (() ( $( $e_tokens )* )),
            )?
        }
    };
    (@__items ( $( ($($_:tt)*) , )* ) ; ) => {};
    (
        @__items ( $( ($($no:tt)+) , )* ) ;
        (( $( $($yes:tt)+ )? ) ( $( $tokens:tt )* )),
        $( $rest:tt , )*
    ) => {
        #[cfg(all(
            $( $($yes)+ , )?
            not(any( $( $($no)+ ),* ))
        ))]
        $crate::cfg_if! { @__temp_group $( $tokens )* }
        $crate::cfg_if! {
            @__items ( $( ($($no)+) , )* $( ($($yes)+) , )? ) ;
            $( $rest , )*
        }
    };
    (@__temp_group $( $tokens:tt )* ) => {
        $( $tokens )*
    };
}
"#;

/// `cfg_if!` of the `cfg-if` crate, which the crate does not define: modules declared in its
/// branches are found from the declaring file, and edits reindex like a clean index.
#[test]
fn modules_declared_in_cfg_if_branches_join_the_tree() {
    let lib = "\
#[macro_use]
extern crate cfg_if;

cfg_if::cfg_if! {
    if #[cfg(unix)] {
        pub mod unix;
    } else if #[cfg(windows)] {
        pub mod windows;
    } else {
        pub mod other;
    }
}
";
    let p = Project::new(
        "branches",
        &[
            ("src/lib.rs", lib),
            (
                "src/unix.rs",
                "cfg_if! {\n    if #[cfg(target_os = \"linux\")] {\n        mod linux;\n        pub use linux::open;\n    }\n}\n",
            ),
            ("src/unix/linux.rs", "pub fn open() {}\n"),
            ("src/windows.rs", "pub fn open() {}\n"),
            ("src/other.rs", "pub fn open() {}\n"),
        ],
    );
    let db = p.db("db");
    let report = p.index(&db);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(report.orphan_files.is_empty(), "{:?}", report.orphan_files);
    let g = reindex_equals_clean(&p, &db, "first index");
    let open = node(&g, "branches::unix::linux::open");
    assert_eq!(open.file, "src/unix/linux.rs");
    assert_eq!(open.cfg, "all(unix, target_os = \"linux\")");
    assert_eq!(
        node(&g, "branches::windows::open").cfg,
        "all(not(unix), windows)"
    );
    assert_eq!(
        node(&g, "branches::other::open").cfg,
        "not(any(unix, windows))"
    );
    let unix = node(&g, "branches::unix");
    assert_eq!(
        (unix.file.as_str(), unix.span.start_line),
        ("src/lib.rs", 6)
    );
    assert_eq!(span_text(&p.root, unix), "pub mod unix;");

    // A module added to a branch joins the tree; one removed leaves it.
    p.write("src/unix/extra.rs", "pub struct Extra;\n");
    p.edit(
        "src/unix.rs",
        "        mod linux;\n",
        "        mod linux;\n        pub mod extra;\n",
    );
    let g = reindex_equals_clean(&p, &db, "module added to a branch");
    assert_eq!(
        node(&g, "branches::unix::extra::Extra").cfg,
        "all(unix, target_os = \"linux\")"
    );
    p.edit("src/lib.rs", "        pub mod other;\n", "");
    let g = reindex_equals_clean(&p, &db, "module removed from the else branch");
    assert!(!common::has_node(&g, "branches::other::open"));
    // A branch's predicate changes: every cfg after it changes.
    p.edit(
        "src/lib.rs",
        "#[cfg(unix)]",
        "#[cfg(target_family = \"unix\")]",
    );
    let g = reindex_equals_clean(&p, &db, "predicate changed");
    assert_eq!(
        node(&g, "branches::windows::open").cfg,
        "all(not(target_family = \"unix\"), windows)"
    );

    // A live indexer told which file changed gets there too.
    let opts = IndexOptions {
        db_dir: Some(db.clone()),
        ..Default::default()
    };
    let mut ix = Indexer::open(&p.root, &opts).unwrap();
    ix.refresh(Changes::All, &NoProgress).unwrap();
    p.edit(
        "src/lib.rs",
        "        pub mod windows;\n",
        "        pub mod windows;\n        pub mod other;\n",
    );
    ix.refresh(Changes::Paths(vec![p.path("src/lib.rs")]), &NoProgress)
        .unwrap();
    let clean = index(&p, "clean-live");
    common::assert_same_graph(&ix.graph(), &clean, "live refresh of a cfg_if branch");
    assert_eq!(
        node(&clean, "branches::other::open").cfg,
        "all(not(target_family = \"unix\"), windows)"
    );
}

/// A crate with its own `macro_rules! cfg_if` in scope gets its own expansion (libc's case),
/// not the well-known reading as well; `cfg_if::cfg_if!` still names the `cfg-if` crate's.
#[test]
fn a_crates_own_cfg_if_wins() {
    let lib = "\
#[macro_use]
mod macros;

cfg_if! {
    if #[cfg(unix)] {
        pub mod a;
        cfg_if! {
            if #[cfg(target_os = \"linux\")] {
                pub fn linux() {}
            }
        }
    } else {
        pub mod b;
    }
}

cfg_if::cfg_if! {
    if #[cfg(windows)] {
        pub fn by_path() {}
    }
}

macro_rules! make {
    ($n:ident) => {
        pub struct $n;
    };
}

// A branch of invocations only (libc's `extern_ty! { pub type FILE; }`).
cfg_if! {
    if #[cfg(unix)] {
        make!(Made);
    }
}
";
    let p = Project::new(
        "own",
        &[
            ("src/lib.rs", lib),
            ("src/macros.rs", CFG_IF_1_0),
            ("src/a.rs", "pub struct A;\n"),
            ("src/b.rs", "pub struct B;\n"),
        ],
    );
    let db = p.db("db");
    let report = p.index(&db);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let g = reindex_equals_clean(&p, &db, "first index");
    // One of each (`node` insists), spelt as the crate's macro spells its cfgs.
    let a = node(&g, "own::a");
    assert_eq!(a.cfg, "all(unix, not(any()))");
    assert_eq!(span_text(&p.root, a), "pub mod a;");
    assert_eq!(node(&g, "own::a::A").file, "src/a.rs");
    assert_eq!(node(&g, "own::b::B").cfg, "all(not(any(unix)))");
    let linux = node(&g, "own::linux");
    assert_eq!(linux.file, "src/lib.rs");
    assert_eq!(span_text(&p.root, linux), "pub fn linux() {}");
    assert!(linux.cfg.contains("target_os = \"linux\""), "{}", linux.cfg);
    assert_eq!(node(&g, "own::by_path").cfg, "windows");
    // Once: expanded with the crate's `cfg_if`, not also as an invocation in a branch.
    assert_eq!(node(&g, "own::Made").cfg, "all(unix, not(any()))");

    // Editing the invocation reindexes like a clean index.
    p.edit(
        "src/lib.rs",
        "        pub mod b;\n",
        "        pub mod b;\n        pub fn added() {}\n",
    );
    let g = reindex_equals_clean(&p, &db, "item added to the own macro's branch");
    assert_eq!(node(&g, "own::added").cfg, "all(not(any(unix)))");
    // Without the definition, the well-known reading takes over.
    p.edit(
        "src/macros.rs",
        "macro_rules! cfg_if",
        "macro_rules! not_cfg_if",
    );
    let g = reindex_equals_clean(&p, &db, "definition renamed");
    assert_eq!(node(&g, "own::a").cfg, "unix");
    assert_eq!(node(&g, "own::added").cfg, "not(unix)");
    assert_eq!(
        node(&g, "own::linux").cfg,
        "all(unix, target_os = \"linux\")"
    );
}
