//! Edits on a small crate written into a temp directory and indexed with the real pipeline:
//! every operation's exact output, every refusal (and that it wrote nothing), failures in the
//! middle of a write, and the journal with undo.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ploke_db::Db;
use ploke_edit::{
    history, parse_edits, plan, undo, ApplyOptions, Edit, EditContext, EditError, FailPoint, Plan,
};
use ploke_index::{IndexOptions, NoProgress};

const MANIFEST: &str =
    "[package]\nname = \"geo\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n";

const LIB: &str = r#"//! Geometry.

pub mod empty;
pub mod shapes;

/// A point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    /// Makes a point.
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    pub fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

pub trait Area {
    fn area(&self) -> f64;
}

pub mod util {
    pub fn clamp(v: f64) -> f64 {
        v.max(0.0)
    }
}

pub struct Empty;

impl Empty {}

#[path = "other/pathed.rs"]
pub mod pathed;
"#;

const SHAPES: &str = r#"use crate::{Area, Point};

pub mod extra;

pub struct Circle {
    pub center: Point,
    pub r: f64,
}

impl Circle {
    pub fn new(center: Point, r: f64) -> Self {
        Circle { center, r }
    }
}

impl Area for Circle {
    fn area(&self) -> f64 {
        3.0 * self.r * self.r
    }
}
"#;

const EMPTY: &str = "//! Nothing yet.\n";

/// A copy of the `geo` crate, indexed into a database beside it.
struct Ws {
    tmp: tempfile::TempDir,
    root: PathBuf,
    db: Db,
}

impl Ws {
    fn new() -> Ws {
        // No leading dot: the indexer's file walk skips hidden directories.
        let tmp = tempfile::Builder::new()
            .prefix("ploke-edit-")
            .tempdir()
            .unwrap();
        let root = tmp.path().join("geo");
        for (rel, text) in [
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("src/shapes.rs", SHAPES),
            ("src/shapes/extra.rs", ""),
            ("src/empty.rs", EMPTY),
            ("src/other/pathed.rs", ""),
        ] {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let db_dir = tmp.path().join("db");
        let opts = IndexOptions {
            db_dir: Some(db_dir.clone()),
            ..Default::default()
        };
        let report = ploke_index::index(&root, &opts, &NoProgress).unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let db = Db::open(&db_dir).unwrap();
        Ws { tmp, root, db }
    }

    fn ctx(&self) -> EditContext<'_> {
        EditContext {
            db: &self.db,
            workspace_root: &self.root,
        }
    }

    fn plan(&self, edits: &[Edit]) -> Result<Plan, EditError> {
        plan(edits, &self.ctx())
    }

    fn journal(&self) -> PathBuf {
        self.root.join(".ploke/journal")
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.root.join(rel), text).unwrap();
    }

    /// Every file of the workspace and its bytes (the journal excluded).
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let p = e.path();
                let kind = e.file_type().unwrap();
                if p.file_name().unwrap() == ".ploke" {
                    continue;
                }
                if kind.is_symlink() {
                    let target = std::fs::read_link(&p).unwrap();
                    out.insert(
                        p.strip_prefix(root).unwrap().display().to_string(),
                        target.display().to_string().into_bytes(),
                    );
                } else if kind.is_dir() {
                    walk(&p, root, out);
                } else {
                    out.insert(
                        p.strip_prefix(root).unwrap().display().to_string(),
                        std::fs::read(&p).unwrap(),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }

    /// Applies `edits` and returns the new text of each changed file.
    fn apply(&self, edits: &[Edit]) -> BTreeMap<String, String> {
        let plan = self.plan(edits).unwrap();
        let applied = plan.apply(&self.journal()).unwrap();
        assert_eq!(applied.files, plan.changed_files());
        applied
            .files
            .iter()
            .map(|f| (f.clone(), self.read(f)))
            .collect()
    }
}

fn replace_item(path: &str, code: &str) -> Edit {
    Edit::ReplaceItem {
        path: path.into(),
        code: code.into(),
    }
}

fn insert_item(parent: &str, code: &str) -> Edit {
    Edit::InsertItem {
        parent: parent.into(),
        code: code.into(),
    }
}

fn search_replace(file: &str, search: &str, replace: &str) -> Edit {
    Edit::SearchReplace {
        file: file.into(),
        search: search.into(),
        replace: replace.into(),
    }
}

/// `text` with its one occurrence of `from` replaced by `to` (asserted to be one).
fn with(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` occurs once");
    text.replacen(from, to, 1)
}

// ---------------------------------------------------------------------------------------------
// Operations: exact output

#[test]
fn replace_item_by_canonical_path_reindents_code_from_column_zero() {
    let ws = Ws::new();
    let code = "/// Makes a point at (x, y).\n#[inline]\npub fn new(x: f64, y: f64) -> Self {\n    Self { x, y }\n}\n";
    let out = ws.apply(&[replace_item("geo::Point::new", code)]);
    let expected = r#"//! Geometry.

pub mod empty;
pub mod shapes;

/// A point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    /// Makes a point at (x, y).
    #[inline]
    pub fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    pub fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

pub trait Area {
    fn area(&self) -> f64;
}

pub mod util {
    pub fn clamp(v: f64) -> f64 {
        v.max(0.0)
    }
}

pub struct Empty;

impl Empty {}

#[path = "other/pathed.rs"]
pub mod pathed;
"#;
    assert_eq!(
        out,
        BTreeMap::from([("src/lib.rs".to_string(), expected.to_string())])
    );
    assert_eq!(ws.read("src/shapes.rs"), SHAPES);
}

#[test]
fn replace_item_by_display_name_keeps_source_view_indentation() {
    let ws = Ws::new();
    // As a source view shows it: the first line cut from its indentation, the rest as in the file.
    let code = "pub fn norm(&self) -> f64 {\n        self.x.hypot(self.y)\n    }";
    ws.apply(&[replace_item("Point::norm", code)]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(
            LIB,
            "    pub fn norm(&self) -> f64 {\n        (self.x * self.x + self.y * self.y).sqrt()\n    }",
            "    pub fn norm(&self) -> f64 {\n        self.x.hypot(self.y)\n    }",
        )
    );
}

#[test]
fn replace_item_by_a_crate_relative_path() {
    let ws = Ws::new();
    ws.apply(&[replace_item(
        "crate::util::clamp",
        "pub fn clamp(v: f64) -> f64 {\n    v.clamp(0.0, 1.0)\n}",
    )]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(LIB, "v.max(0.0)", "v.clamp(0.0, 1.0)")
    );
}

#[test]
fn replace_item_by_bare_name_and_a_struct_with_its_docs() {
    let ws = Ws::new();
    let code = "    /// A point in the plane.\n    #[derive(Debug, Clone, Copy, PartialEq, Default)]\n    pub struct Point {\n        pub x: f64,\n        pub y: f64,\n    }\n";
    ws.apply(&[replace_item("Point", code)]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(
            LIB,
            "/// A point.\n#[derive(Debug, Clone, Copy, PartialEq)]\n",
            "/// A point in the plane.\n#[derive(Debug, Clone, Copy, PartialEq, Default)]\n",
        )
    );
}

#[test]
fn insert_item_into_an_impl_after_its_last_member() {
    let ws = Ws::new();
    let code = "/// The origin.\npub fn origin() -> Self {\n    Point::new(0.0, 0.0)\n}";
    ws.apply(&[insert_item("geo::<impl Point>", code)]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(
            LIB,
            "        (self.x * self.x + self.y * self.y).sqrt()\n    }\n}\n",
            "        (self.x * self.x + self.y * self.y).sqrt()\n    }\n\n    /// The origin.\n    pub fn origin() -> Self {\n        Point::new(0.0, 0.0)\n    }\n}\n",
        )
    );
}

#[test]
fn insert_item_into_an_empty_one_line_impl() {
    let ws = Ws::new();
    ws.apply(&[insert_item(
        "impl Empty",
        "pub fn get() -> Self {\n    Empty\n}",
    )]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(
            LIB,
            "impl Empty {}\n",
            "impl Empty {\n    pub fn get() -> Self {\n        Empty\n    }\n}\n"
        )
    );
}

#[test]
fn insert_item_into_a_trait_and_an_inline_module() {
    let ws = Ws::new();
    ws.apply(&[
        insert_item(
            "geo::Area",
            "fn is_empty(&self) -> bool {\n    self.area() == 0.0\n}",
        ),
        insert_item("geo::util", "pub fn half(v: f64) -> f64 {\n    v / 2.0\n}"),
    ]);
    let expected = with(
        &with(
            LIB,
            "    fn area(&self) -> f64;\n}\n",
            "    fn area(&self) -> f64;\n\n    fn is_empty(&self) -> bool {\n        self.area() == 0.0\n    }\n}\n",
        ),
        "        v.max(0.0)\n    }\n}\n",
        "        v.max(0.0)\n    }\n\n    pub fn half(v: f64) -> f64 {\n        v / 2.0\n    }\n}\n",
    );
    assert_eq!(ws.read("src/lib.rs"), expected);
}

#[test]
fn insert_item_into_file_modules_and_the_crate_root() {
    let ws = Ws::new();
    let out = ws.apply(&[
        // A module with items: found through where they live.
        insert_item(
            "geo::shapes",
            "pub fn unit() -> Circle {\n    Circle::new(Point::new(0.0, 0.0), 1.0)\n}",
        ),
        // Modules without items: found by the language's file rules (mod-rs, non-mod-rs, #[path]).
        insert_item("geo::empty", "pub fn nothing() {}"),
        insert_item("geo::shapes::extra", "pub const SIDES: u32 = 0;"),
        insert_item("pathed", "pub struct Pathed;"),
        insert_item("geo", "pub use shapes::Circle;"),
    ]);
    let expected = BTreeMap::from([
        ("src/empty.rs".to_string(), "//! Nothing yet.\n\npub fn nothing() {}\n".to_string()),
        ("src/lib.rs".to_string(), format!("{LIB}\npub use shapes::Circle;\n")),
        (
            "src/shapes.rs".to_string(),
            format!("{SHAPES}\npub fn unit() -> Circle {{\n    Circle::new(Point::new(0.0, 0.0), 1.0)\n}}\n"),
        ),
        ("src/other/pathed.rs".to_string(), "pub struct Pathed;\n".to_string()),
        ("src/shapes/extra.rs".to_string(), "pub const SIDES: u32 = 0;\n".to_string()),
    ]);
    assert_eq!(out, expected);
}

#[test]
fn two_insertions_into_one_block_keep_the_request_order() {
    let ws = Ws::new();
    ws.apply(&[
        insert_item("impl Empty", "fn a() {}"),
        insert_item("impl Empty", "fn b() {}"),
    ]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(
            LIB,
            "impl Empty {}\n",
            "impl Empty {\n    fn a() {}\n\n    fn b() {}\n}\n"
        )
    );
}

#[test]
fn search_replace_and_a_multi_file_plan_with_its_diff() {
    let ws = Ws::new();
    let plan = ws
        .plan(&[
            search_replace(
                "src/shapes.rs",
                "3.0 * self.r",
                "std::f64::consts::PI * self.r",
            ),
            // The span starts at the doc comment: the code keeps it.
            replace_item(
                "geo::Point::new",
                "/// Makes a point.\npub fn new(x: f64, y: f64) -> Point {\n    Point { x, y }\n}",
            ),
            search_replace("./src/lib.rs", "//! Geometry.", "//! Plane geometry."),
        ])
        .unwrap();
    assert_eq!(plan.changed_files(), ["src/lib.rs", "src/shapes.rs"]);
    let diff = plan.diff();
    let expected_diff = "--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,4 +1,4 @@
-//! Geometry.
+//! Plane geometry.
 
 pub mod empty;
 pub mod shapes;
@@ -12,7 +12,7 @@
 
 impl Point {
     /// Makes a point.
-    pub fn new(x: f64, y: f64) -> Self {
+    pub fn new(x: f64, y: f64) -> Point {
         Point { x, y }
     }
 
--- a/src/shapes.rs
+++ b/src/shapes.rs
@@ -15,6 +15,6 @@
 
 impl Area for Circle {
     fn area(&self) -> f64 {
-        3.0 * self.r * self.r
+        std::f64::consts::PI * self.r * self.r
     }
 }
";
    assert_eq!(diff, expected_diff);
    // Planning wrote nothing.
    assert_eq!(ws.read("src/lib.rs"), LIB);
    let applied = plan.apply(&ws.journal()).unwrap();
    assert_eq!(applied.files, ["src/lib.rs", "src/shapes.rs"]);
    let lib = with(
        &with(LIB, "//! Geometry.", "//! Plane geometry."),
        ") -> Self {\n        Point { x, y }",
        ") -> Point {\n        Point { x, y }",
    );
    assert_eq!(ws.read("src/lib.rs"), lib);
    assert_eq!(
        ws.read("src/shapes.rs"),
        with(SHAPES, "3.0 * self.r", "std::f64::consts::PI * self.r")
    );
}

#[test]
fn search_replace_in_a_file_outside_the_index_and_by_absolute_path() {
    let ws = Ws::new();
    let abs = ws.root.join("src/shapes.rs").display().to_string();
    ws.apply(&[
        search_replace("Cargo.toml", "publish = false", "publish = true"),
        search_replace(&abs, "pub r: f64,", "pub radius: f64,"),
    ]);
    assert_eq!(
        ws.read("Cargo.toml"),
        with(MANIFEST, "publish = false", "publish = true")
    );
    assert_eq!(
        ws.read("src/shapes.rs"),
        with(SHAPES, "pub r: f64,", "pub radius: f64,")
    );
}

#[test]
fn code_with_a_multi_line_string_keeps_the_string() {
    let ws = Ws::new();
    let code = "pub fn help() -> &'static str {\n    \"usage:\n  geo [x] [y]\"\n}";
    ws.apply(&[insert_item("geo::util", code)]);
    assert_eq!(
        ws.read("src/lib.rs"),
        with(
            LIB,
            "        v.max(0.0)\n    }\n}\n",
            "        v.max(0.0)\n    }\n\n    pub fn help() -> &'static str {\n        \"usage:\n  geo [x] [y]\"\n    }\n}\n",
        )
    );
}

#[test]
fn edits_parse_from_tool_call_json() {
    let one = r#"{"op": "replace_item", "path": "Point::new", "code": "fn new() {}"}"#;
    assert_eq!(
        parse_edits(one).unwrap(),
        [replace_item("Point::new", "fn new() {}")]
    );
    let many = r#"[{"op": "insert_item", "parent": "geo", "code": "fn a() {}"},
                   {"op": "search_replace", "file": "src/lib.rs", "search": "a", "replace": "b"}]"#;
    let want = [
        insert_item("geo", "fn a() {}"),
        search_replace("src/lib.rs", "a", "b"),
    ];
    assert_eq!(parse_edits(many).unwrap(), want);
    let wrapped = format!(r#"{{"edits": {many}}}"#);
    assert_eq!(parse_edits(&wrapped).unwrap(), want);
    let err =
        parse_edits(r#"{"op": "replace_item", "path": "x", "code": "", "extra": 1}"#).unwrap_err();
    assert!(matches!(err, EditError::BadRequest { .. }), "{err}");
    assert!(err.to_string().contains("extra"), "{err}");
    let err = parse_edits(r#"{"op": "delete_item", "path": "x"}"#).unwrap_err();
    assert!(err.to_string().contains("delete_item"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Refusals: each one writes nothing

/// Plans `edits`, expects an error, and checks that no file changed and no journal appeared.
fn refused(ws: &Ws, edits: &[Edit]) -> EditError {
    let before = ws.snapshot();
    let err = match ws.plan(edits) {
        Ok(plan) => plan.apply(&ws.journal()).expect_err("the edit is refused"),
        Err(e) => e,
    };
    assert_eq!(ws.snapshot(), before, "nothing written after: {err}");
    assert!(history(&ws.journal()).unwrap().is_empty());
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    err
}

#[test]
fn a_file_changed_since_indexing_is_stale() {
    let ws = Ws::new();
    let edited = with(SHAPES, "pub r: f64,", "pub r: f64, // radius");
    ws.write("src/shapes.rs", &edited);
    // An item edit in the changed file, bundled with one in an unchanged file.
    let err = refused(
        &ws,
        &[
            replace_item("geo::Point::norm", "pub fn norm(&self) -> f64 { 0.0 }"),
            insert_item("impl Circle", "fn f() {}"),
        ],
    );
    assert!(
        matches!(&err, EditError::Stale { file } if file == "src/shapes.rs"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("src/shapes.rs: changed on disk"),
        "{err}"
    );
    // search_replace checks the hash too.
    let err = refused(&ws, &[search_replace("src/shapes.rs", "// radius", "")]);
    assert!(
        matches!(&err, EditError::Stale { file } if file == "src/shapes.rs"),
        "{err}"
    );
}

#[test]
fn a_file_changed_between_plan_and_apply_is_stale() {
    let ws = Ws::new();
    let plan = ws
        .plan(&[
            replace_item("Point::norm", "pub fn norm(&self) -> f64 { 0.0 }"),
            insert_item("impl Circle", "fn f() {}"),
        ])
        .unwrap();
    let edited = with(SHAPES, "pub r: f64,", "pub r: f64, // radius");
    ws.write("src/shapes.rs", &edited);
    let err = plan.apply(&ws.journal()).unwrap_err();
    assert!(
        matches!(&err, EditError::Stale { file } if file == "src/shapes.rs"),
        "{err}"
    );
    assert_eq!(ws.read("src/lib.rs"), LIB);
    assert_eq!(ws.read("src/shapes.rs"), edited);
    assert!(history(&ws.journal()).unwrap().is_empty());
}

#[test]
fn an_edit_that_breaks_syntax_is_refused_with_file_and_line() {
    let ws = Ws::new();
    let err = refused(
        &ws,
        &[
            search_replace("src/shapes.rs", "pub r: f64,", "pub r f64,"),
            replace_item("Point::norm", "pub fn norm(&self) -> f64 {\n    0.0\n}"),
        ],
    );
    match &err {
        EditError::Syntax { file, line, .. } => {
            assert_eq!(file, "src/shapes.rs");
            assert_eq!(*line, 7, "{err}");
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .starts_with("src/shapes.rs:7: the file would no longer parse"),
        "{err}"
    );
    let err = refused(&ws, &[insert_item("impl Point", "pub fn broken(&self) {")]);
    assert!(
        matches!(&err, EditError::Syntax { file, .. } if file == "src/lib.rs"),
        "{err}"
    );
}

#[test]
fn paths_outside_the_workspace_are_refused() {
    let ws = Ws::new();
    let outside = ws.tmp.path().join("x.rs");
    std::fs::write(&outside, "fn x() {}\n").unwrap();
    let abs = outside.display().to_string();
    for file in [
        "../x.rs",
        "src/../../x.rs",
        abs.as_str(),
        "../missing.rs",
        "/etc/hostname",
    ] {
        let err = refused(&ws, &[search_replace(file, "fn", "pub fn")]);
        assert!(
            matches!(&err, EditError::OutsideWorkspace { path, .. } if path == file),
            "{file}: {err}"
        );
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, ws.root.join("src/link.rs")).unwrap();
        std::os::unix::fs::symlink(ws.tmp.path(), ws.root.join("up")).unwrap();
        for file in ["src/link.rs", "up/x.rs"] {
            let err = refused(&ws, &[search_replace(file, "fn", "pub fn")]);
            assert!(
                matches!(&err, EditError::OutsideWorkspace { .. }),
                "{file}: {err}"
            );
        }
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "fn x() {}\n");
    // A missing file inside the workspace is missing, not outside.
    let err = refused(&ws, &[search_replace("src/nope.rs", "a", "b")]);
    assert!(matches!(&err, EditError::FileNotFound { .. }), "{err}");
}

#[test]
fn unknown_ambiguous_and_unsuitable_items_are_refused() {
    let ws = Ws::new();
    let err = refused(&ws, &[replace_item("geo::Point::scale", "fn scale() {}")]);
    assert!(
        matches!(&err, EditError::ItemNotFound { name } if name == "geo::Point::scale"),
        "{err}"
    );

    let err = refused(&ws, &[replace_item("new", "fn new() {}")]);
    match &err {
        EditError::Ambiguous { name, candidates } => {
            assert_eq!(name, "new");
            assert_eq!(
                candidates,
                &[
                    "geo::Point::new (src/lib.rs:14)",
                    "geo::shapes::Circle::new (src/shapes.rs:11)"
                ]
            );
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains("geo::Point::new (src/lib.rs:14), geo::shapes::Circle::new"),
        "{err}"
    );

    let err = refused(&ws, &[insert_item("geo::Point", "fn f() {}")]);
    assert!(
        matches!(&err, EditError::WrongKind { kind, .. } if kind == "struct"),
        "{err}"
    );
    let err = refused(&ws, &[replace_item("geo", "")]);
    assert!(
        matches!(&err, EditError::WrongKind { kind, .. } if kind == "crate"),
        "{err}"
    );
}

#[test]
fn search_text_must_occur_exactly_once() {
    let ws = Ws::new();
    let err = refused(
        &ws,
        &[search_replace("src/lib.rs", "fn missing", "fn found")],
    );
    assert!(
        matches!(&err, EditError::SearchNotFound { file } if file == "src/lib.rs"),
        "{err}"
    );
    assert!(err.to_string().contains("occurs 0 times"), "{err}");
    let err = refused(
        &ws,
        &[
            search_replace("src/lib.rs", "pub x: f64", "pub x: f32"),
            search_replace("src/lib.rs", "f64 {", "f32 {"),
        ],
    );
    assert!(
        matches!(&err, EditError::SearchNotUnique { file, count: 2 } if file == "src/lib.rs"),
        "{err}"
    );
    assert!(err.to_string().contains("occurs 2 times"), "{err}");
    let err = refused(&ws, &[search_replace("src/lib.rs", "", "x")]);
    assert!(matches!(&err, EditError::EmptySearch { .. }), "{err}");
}

#[test]
fn overlapping_edits_and_no_op_edits_are_refused() {
    let ws = Ws::new();
    let err = refused(
        &ws,
        &[
            replace_item("Point::new", "pub fn new() {}"),
            search_replace("src/lib.rs", "Point { x, y }", "Self { x, y }"),
        ],
    );
    assert!(
        matches!(&err, EditError::Overlap { file, first: 0, second: 1, .. } if file == "src/lib.rs"),
        "{err}"
    );
    let err = refused(&ws, &[search_replace("src/lib.rs", "pub x", "pub x")]);
    assert!(matches!(&err, EditError::NoChange), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Failures in the middle of a write

fn temp_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .contains(".ploke-edit-")
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_failure_during_the_write_leaves_every_original_intact() {
    let ws = Ws::new();
    let plan = ws
        .plan(&[
            search_replace("src/lib.rs", "//! Geometry.", "//! Plane geometry."),
            search_replace("src/shapes.rs", "3.0 *", "3.14 *"),
        ])
        .unwrap();
    let before = ws.snapshot();
    for fail in [
        FailPoint::BeforeRename(0),
        FailPoint::BeforeRename(1),
        FailPoint::Journal,
        FailPoint::AtRename(0),
        FailPoint::AtRename(1),
    ] {
        let opts = ApplyOptions {
            request: Some("rename".into()),
            fail_point: Some(fail),
        };
        let err = plan.apply_with(&ws.journal(), &opts).unwrap_err();
        assert!(
            err.to_string().contains("simulated failure"),
            "{fail:?}: {err}"
        );
        assert_eq!(
            ws.snapshot(),
            before,
            "{fail:?}: originals intact byte for byte"
        );
        assert_eq!(
            temp_files(&ws.root),
            Vec::<PathBuf>::new(),
            "{fail:?}: no temp file left"
        );
        assert!(
            history(&ws.journal()).unwrap().is_empty(),
            "{fail:?}: no journal entry"
        );
    }
    // The same plan still applies afterwards.
    plan.apply(&ws.journal()).unwrap();
    assert_eq!(
        ws.read("src/lib.rs"),
        with(LIB, "//! Geometry.", "//! Plane geometry.")
    );
    assert_eq!(temp_files(&ws.root), Vec::<PathBuf>::new());
}

#[cfg(unix)]
#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Ws::new();
    let path = ws.root.join("src/shapes.rs");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    ws.apply(&[search_replace("src/shapes.rs", "3.0 *", "3.14 *")]);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

// ---------------------------------------------------------------------------------------------
// Journal and undo

#[test]
fn undo_restores_byte_for_byte_newest_first() {
    let ws = Ws::new();
    let original = ws.snapshot();
    let first = ws
        .plan(&[
            search_replace("src/lib.rs", "//! Geometry.", "//! Plane geometry."),
            search_replace("src/shapes.rs", "3.0 *", "3.14 *"),
        ])
        .unwrap();
    let a = first
        .apply_with(
            &ws.journal(),
            &ApplyOptions {
                request: Some("say plane".into()),
                fail_point: None,
            },
        )
        .unwrap();
    let after_first = ws.snapshot();
    // The index is now stale for lib.rs and shapes.rs; the empty module's file is still fresh
    // (and finding it does not read the stale file that declares it).
    let b = ws
        .plan(&[insert_item("geo::empty", "pub fn nothing() {}")])
        .unwrap()
        .apply(&ws.journal())
        .unwrap();
    assert_eq!((a.entry, b.entry), (1, 2));

    let entries = history(&ws.journal()).unwrap();
    assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(entries[0].request.as_deref(), Some("say plane"));
    assert_eq!(
        entries[0]
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["src/lib.rs", "src/shapes.rs"]
    );
    assert_eq!(entries[1].request, None);

    let undone = undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(
        (undone.entry, undone.files),
        (2, vec!["src/empty.rs".to_string()])
    );
    assert_eq!(ws.snapshot(), after_first);
    let undone = undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(
        (undone.entry, undone.files),
        (
            1,
            vec!["src/lib.rs".to_string(), "src/shapes.rs".to_string()]
        )
    );
    assert_eq!(ws.snapshot(), original);
    assert!(history(&ws.journal()).unwrap().is_empty());
    let err = undo(&ws.journal(), &ws.root).unwrap_err();
    assert!(matches!(err, EditError::NothingToUndo { .. }), "{err}");
    assert_eq!(temp_files(&ws.root), Vec::<PathBuf>::new());

    // Ids are never reused after an undo.
    let c = ws
        .plan(&[search_replace("src/lib.rs", "//! Geometry.", "//! Geo.")])
        .unwrap()
        .apply(&ws.journal())
        .unwrap();
    assert_eq!(c.entry, 3);
}

#[test]
fn undo_restores_exact_bytes_of_a_crlf_file_without_final_newline() {
    let ws = Ws::new();
    let odd = "first\r\nsecond\r\n\tthird";
    ws.write("notes.txt", odd);
    ws.apply(&[search_replace("notes.txt", "second", "2nd")]);
    assert_eq!(ws.read("notes.txt"), "first\r\n2nd\r\n\tthird");
    undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(
        std::fs::read(ws.root.join("notes.txt")).unwrap(),
        odd.as_bytes()
    );
}

#[test]
fn undo_refuses_when_a_file_changed_since_and_changes_nothing() {
    let ws = Ws::new();
    ws.apply(&[
        search_replace("src/lib.rs", "//! Geometry.", "//! Plane geometry."),
        search_replace("src/shapes.rs", "3.0 *", "3.14 *"),
    ]);
    let touched = with(&ws.read("src/shapes.rs"), "3.14 *", "3.1416 *");
    ws.write("src/shapes.rs", &touched);
    let before = ws.snapshot();
    let err = undo(&ws.journal(), &ws.root).unwrap_err();
    assert!(
        matches!(&err, EditError::ChangedSinceEdit { file, entry: 1 } if file == "src/shapes.rs"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("src/shapes.rs: changed since edit 1 was applied") && !msg.contains('\n'),
        "{msg}"
    );
    assert_eq!(
        ws.snapshot(),
        before,
        "nothing restored, not even the unchanged file"
    );
    assert_eq!(history(&ws.journal()).unwrap().len(), 1, "the entry stays");

    // Put the file back as the edit left it: now the undo goes through.
    ws.write("src/shapes.rs", &with(SHAPES, "3.0 *", "3.14 *"));
    undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(ws.read("src/lib.rs"), LIB);
    assert_eq!(ws.read("src/shapes.rs"), SHAPES);
}

#[test]
fn a_failed_undo_restores_nothing_and_can_be_retried() {
    let ws = Ws::new();
    ws.apply(&[
        search_replace("src/lib.rs", "//! Geometry.", "//! Plane geometry."),
        search_replace("src/shapes.rs", "3.0 *", "3.14 *"),
    ]);
    let before = ws.snapshot();
    for fail in [FailPoint::BeforeRename(1), FailPoint::AtRename(1)] {
        let err = ploke_edit::undo_with(&ws.journal(), &ws.root, Some(fail)).unwrap_err();
        assert!(err.to_string().contains("simulated failure"), "{err}");
        assert_eq!(ws.snapshot(), before, "{fail:?}");
        assert_eq!(temp_files(&ws.root), Vec::<PathBuf>::new());
    }
    undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(ws.read("src/lib.rs"), LIB);
    assert_eq!(ws.read("src/shapes.rs"), SHAPES);
}
