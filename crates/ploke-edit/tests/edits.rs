//! Edits on a small crate written into a temp directory and indexed with the real pipeline:
//! every operation's exact output, every refusal (and that it wrote nothing), failures in the
//! middle of a write, and the journal with undo.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ploke_db::Db;
use ploke_edit::{
    history, parse_edits, plan, recover, undo, ApplyOptions, ApplyStep, Edit, EditContext,
    EditError, FailPoint, Plan, Recovered, Recovery,
};
use ploke_test_support::Project;

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
        Ws::with_files(&[])
    }

    /// The `geo` crate plus `extra` files (written after the crate's, so they may replace one).
    fn with_files(extra: &[(&str, &str)]) -> Ws {
        let files: Vec<(&str, &str)> = [
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("src/shapes.rs", SHAPES),
            ("src/shapes/extra.rs", ""),
            ("src/empty.rs", EMPTY),
            ("src/other/pathed.rs", ""),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
        let p = Project::with_files("geo", &files);
        let db_dir = p.db("db");
        let report = p.index(&db_dir);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let db = Db::open(&db_dir).unwrap();
        Ws {
            tmp: p.tmp,
            root: p.root,
            db,
        }
    }

    fn ctx(&self) -> EditContext<'_> {
        EditContext {
            db: &self.db,
            workspace_root: &self.root,
            allow_build_scripts: false,
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

fn create_file(file: &str, code: &str) -> Edit {
    Edit::CreateFile {
        file: file.into(),
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
fn search_replace_by_absolute_path() {
    let ws = Ws::new();
    let abs = ws.root.join("src/shapes.rs").display().to_string();
    ws.apply(&[search_replace(&abs, "pub r: f64,", "pub radius: f64,")]);
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
    // Item code is checked on its own first.
    let err = refused(&ws, &[insert_item("impl Point", "pub fn broken(&self) {")]);
    assert!(matches!(&err, EditError::BadItemCode { .. }), "{err}");
    assert!(
        err.to_string().contains("line 1 of the code does not lex"),
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
            ..ApplyOptions::default()
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
                ..ApplyOptions::default()
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
    let odd = "//! first\r\n//! second\r\n\t// third";
    let ws = Ws::with_files(&[("src/empty.rs", odd)]);
    ws.apply(&[search_replace("src/empty.rs", "second", "2nd")]);
    assert_eq!(
        ws.read("src/empty.rs"),
        "//! first\r\n//! 2nd\r\n\t// third"
    );
    undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(
        std::fs::read(ws.root.join("src/empty.rs")).unwrap(),
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

// ---------------------------------------------------------------------------------------------
// A hostile reply: confinement to indexed sources, one item per item edit, size

#[test]
fn only_indexed_rust_sources_can_be_edited() {
    let ws = Ws::with_files(&[
        (".git/config", "[core]\n\tbare = false\n"),
        (".ploke/state.json", "{}\n"),
        (".github/ci.rs", "fn ci() {}\n"),
        ("target/debug/build/out.rs", "pub fn generated() {}\n"),
        ("vendor/dep/src/lib.rs", "pub fn dep() {}\n"),
        // On disk beside the crate's sources, but no module declares it.
        ("src/orphan.rs", "pub fn orphan() {}\n"),
        ("notes.txt", "first\nsecond\n"),
    ]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(ws.root.join(".git/config"), ws.root.join("src/config.rs")).unwrap();
    let protected = [
        (".git/config", "bare", ".git"),
        (".ploke/state.json", "{}", ".ploke"),
        (".github/ci.rs", "fn ci", ".github"),
        ("target/debug/build/out.rs", "generated", "target"),
        ("src/.hidden.rs", "x", ".hidden.rs"),
    ];
    for (file, search, component) in protected {
        let err = refused(&ws, &[search_replace(file, search, "changed")]);
        assert!(
            matches!(&err, EditError::Protected { file: f, component: c } if f == file && c == component),
            "{file}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "{file}: `{component}` is hidden, build output or tool data"
            )),
            "{file}: {msg}"
        );
    }
    #[cfg(unix)]
    {
        // A link inside the workspace to a protected file is judged by where it leads.
        let err = refused(&ws, &[search_replace("src/config.rs", "bare", "changed")]);
        assert!(
            matches!(&err, EditError::Protected { component, .. } if component == ".git"),
            "{err}"
        );
    }
    for (file, search) in [
        ("Cargo.toml", "publish = false"),
        ("vendor/dep/src/lib.rs", "dep"),
        ("src/orphan.rs", "orphan"),
        ("notes.txt", "second"),
    ] {
        let err = refused(&ws, &[search_replace(file, search, "changed")]);
        assert!(
            matches!(&err, EditError::NotIndexed { file: f } if f == file),
            "{err}"
        );
        let msg = err.to_string();
        assert_eq!(
            msg,
            format!("{file}: not an indexed Rust source file of the workspace; only those can be edited (create a new source file with create_file)"),
        );
    }
    // Bundled with a good edit, the whole request is refused.
    let err = refused(
        &ws,
        &[
            search_replace("src/lib.rs", "//! Geometry.", "//! Geo."),
            search_replace("Cargo.toml", "publish = false", "publish = true"),
        ],
    );
    assert!(
        err.to_string().starts_with("Cargo.toml: not an indexed"),
        "{err}"
    );
}

const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n}\n";

#[test]
fn build_scripts_are_refused_by_default() {
    let ws = Ws::with_files(&[("build.rs", BUILD_RS)]);
    let err = refused(&ws, &[search_replace("build.rs", "=build.rs", "=src")]);
    assert!(
        matches!(&err, EditError::BuildScript { file } if file == "build.rs"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("build.rs: belongs to a build script"),
        "{err}"
    );
    let err = refused(&ws, &[replace_item("main", "fn main() {}")]);
    assert!(
        matches!(&err, EditError::BuildScript { file } if file == "build.rs"),
        "{err}"
    );
    // Allowed, they are edited like any other source file.
    let ctx = EditContext {
        allow_build_scripts: true,
        ..ws.ctx()
    };
    plan(&[search_replace("build.rs", "=build.rs", "=src")], &ctx)
        .unwrap()
        .apply(&ws.journal())
        .unwrap();
    assert_eq!(ws.read("build.rs"), with(BUILD_RS, "=build.rs", "=src"));
}

#[test]
fn replace_item_takes_exactly_one_item_of_the_same_kind() {
    let ws = Ws::new();
    // The method, a brace that closes `impl Point` early, and a new impl: the file still
    // parses (the old closing brace closes the new impl), but that is not one method.
    let err = refused(
        &ws,
        &[replace_item(
            "Point::norm",
            "pub fn norm(&self) -> f64 { 0.0 } } impl Drop for Point { fn drop(&mut self) {} ",
        )],
    );
    assert!(
        matches!(&err, EditError::BadItemCode { op: "replace_item", target, file, .. } if target == "Point::norm" && file == "src/lib.rs"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "src/lib.rs: replace_item `Point::norm`: the code must be exactly one function (an impl member)"
        ),
        "{msg}"
    );
    let cases = [
        (
            "Point::norm",
            "pub fn norm(&self) -> f64 { 0.0 }\n\npub fn extra(&self) {}",
            "it holds 2 items",
        ),
        (
            "Point",
            "pub enum Point { A }",
            "it is an enum, not a struct",
        ),
        (
            "geo::util::clamp",
            "pub struct Clamp;",
            "it is a struct, not a function",
        ),
        ("Point::new", "", "it holds no item"),
        (
            "geo::util",
            "pub mod util {}\npub mod more {}",
            "it holds 2 items",
        ),
        (
            "Area::area",
            "const AREA: f64;",
            "it is a const, not a function",
        ),
    ];
    for (path, code, found) in cases {
        let err = refused(&ws, &[replace_item(path, code)]);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "src/lib.rs: replace_item `{path}`: the code must be exactly one "
            )),
            "{path}: {msg}"
        );
        assert!(
            msg.contains(&format!("but {found}; send just that")),
            "{path}: {msg}"
        );
    }
    // A free function may replace a method and the other way round: same family. Doc
    // comments, attributes and comments are part of the item.
    ws.apply(&[
        replace_item(
            "Point::norm",
            "// Euclidean.\n/// The length.\n#[must_use]\npub fn norm(&self) -> f64 {\n    self.x.hypot(self.y)\n}",
        ),
        replace_item("Area::area", "/// The area.\nfn area(&self) -> f64;"),
    ]);
}

#[test]
fn insert_item_takes_members_of_its_parent() {
    let ws = Ws::new();
    let cases = [
        // Closes the impl and opens another: the file would still parse.
        (
            "impl Point",
            "pub fn a(&self) {}\n}\n\nimpl Point {\n    pub fn b(&self) {}",
        ),
        ("geo::util", "pub fn a() {}\n}\n\npub fn outside() {"),
        // Not an impl member.
        ("impl Point", "pub struct Inner;"),
        (
            "geo::Area",
            "impl Area for f64 { fn area(&self) -> f64 { 0.0 } }",
        ),
        ("geo::util", "// only a comment"),
    ];
    for (parent, code) in cases {
        let err = refused(&ws, &[insert_item(parent, code)]);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "src/lib.rs: insert_item `{parent}`: the code must be one or more "
            )),
            "{parent}: {msg}"
        );
    }
    // Several members at once are fine.
    ws.apply(&[insert_item(
        "impl Point",
        "pub const ORIGIN: Point = Point { x: 0.0, y: 0.0 };\n\npub fn zero() -> Self {\n    Self::ORIGIN\n}",
    )]);
}

/// The parser's file-size limit.
const LIMIT: usize = ploke_parse::MAX_FILE_BYTES;

/// A method `norm` whose body has `lines` statements, each `indent`ed.
fn long_norm(lines: usize, indent: &str, tag: &str) -> String {
    let mut code = String::from("pub fn norm(&self) -> f64 {\n");
    for i in 0..lines {
        code.push_str(&format!("{indent}let _{tag}{i} = {i};\n"));
    }
    code.push_str(&format!("{indent}0.0\n}}"));
    code
}

#[test]
fn edits_over_the_parser_size_limit_are_refused() {
    let ws = Ws::new();
    let start = std::time::Instant::now();
    // One code text over the limit.
    let huge = long_norm(LIMIT / 16, "    ", "a");
    assert!(huge.len() > LIMIT);
    let err = refused(&ws, &[replace_item("Point::norm", &huge)]);
    assert!(
        matches!(&err, EditError::TextTooLarge { index: 0, field: "code", limit, .. } if *limit == LIMIT),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("edit 0 (`Point::norm`): its `code` text is "),
        "{err}"
    );
    let err = refused(
        &ws,
        &[search_replace(
            "src/lib.rs",
            "//! Geometry.",
            &"//! x\n".repeat(LIMIT / 6 + 1),
        )],
    );
    assert!(err.to_string().contains("its `replace` text is"), "{err}");
    // Two texts under the limit that together make the file larger than it.
    let half = long_norm(LIMIT / 32 + 1000, "    ", "b");
    assert!(half.len() < LIMIT);
    let err = refused(
        &ws,
        &[
            replace_item("Point::norm", &half),
            replace_item(
                "geo::util::clamp",
                &half.replace("fn norm(&self)", "fn clamp(v: f64)"),
            ),
        ],
    );
    assert!(
        matches!(&err, EditError::OverLimit { file, .. } if file == "src/lib.rs"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("src/lib.rs: the indexer would skip the edited file whole (file is ")
            && msg.contains("byte limit for parsing"),
        "{msg}"
    );
    // Refused without lexing or parsing megabytes over and over.
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn a_large_edit_under_the_limit_plans_and_diffs_in_linear_time() {
    // A file whose `norm` already has 20k lines; the new one changes every line.
    let lib = LIB.replace(
        "    pub fn norm(&self) -> f64 {\n        (self.x * self.x + self.y * self.y).sqrt()\n    }",
        &long_norm(20_000, "        ", "a").replacen("pub fn", "    pub fn", 1).replace("\n}", "\n    }"),
    );
    let ws = Ws::with_files(&[("src/lib.rs", &lib)]);
    let start = std::time::Instant::now();
    let plan = ws
        .plan(&[replace_item("Point::norm", &long_norm(20_000, "    ", "b"))])
        .unwrap();
    let diff = plan.diff();
    // Quadratic work (a minimal diff of 20k changed lines takes about a minute) shows here.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(
        diff.contains("+        let _b19999 = 19999;"),
        "the diff shows the new lines"
    );
    plan.apply(&ws.journal()).unwrap();
    assert!(ws
        .read("src/lib.rs")
        .contains("        let _b19999 = 19999;\n        0.0\n    }\n"));
}

#[test]
fn counting_a_self_similar_search_text_is_linear() {
    // Every offset of a long run of one letter starts an occurrence of a shorter run: counting
    // them one `find` at a time costs the run's length times the text's.
    let run = "a".repeat(1 << 20);
    let ws = Ws::with_files(&[("src/empty.rs", &format!("//! {run}\n"))]);
    let start = std::time::Instant::now();
    let err = refused(&ws, &[search_replace("src/empty.rs", &run[..1 << 16], "b")]);
    assert!(err.to_string().contains("the search text occurs"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

// ---------------------------------------------------------------------------------------------
// New files

#[test]
fn create_file_makes_a_module_file_and_undo_removes_it() {
    let ws = Ws::new();
    let original = ws.snapshot();
    let plan = ws
        .plan(&[
            create_file("src/net.rs", "//! Networking.\n\npub mod tcp;"),
            // In a directory that does not exist yet.
            create_file("src/net/tcp.rs", "pub fn connect() {}\n"),
            insert_item("geo", "pub mod net;"),
        ])
        .unwrap();
    assert_eq!(
        plan.changed_files(),
        ["src/lib.rs", "src/net.rs", "src/net/tcp.rs"]
    );
    assert!(plan.files()[1].is_new() && !plan.files()[0].is_new());
    assert!(
        plan.diff()
            .contains("--- /dev/null\n+++ b/src/net.rs\n@@ -0,0 +1,3 @@\n+//! Networking.\n+\n+pub mod tcp;\n"),
        "{}",
        plan.diff()
    );
    let applied = plan.apply(&ws.journal()).unwrap();
    // A final newline is added where missing.
    assert_eq!(ws.read("src/net.rs"), "//! Networking.\n\npub mod tcp;\n");
    assert_eq!(ws.read("src/net/tcp.rs"), "pub fn connect() {}\n");
    assert_eq!(ws.read("src/lib.rs"), format!("{LIB}\npub mod net;\n"));
    let entry = &history(&ws.journal()).unwrap()[0];
    assert_eq!(entry.id, applied.entry);
    assert_eq!(entry.files[1].before, None);
    assert_eq!(entry.files[2].created_dirs, ["src/net"]);

    // Undo never loses work: a created file changed since is not removed.
    ws.write("src/net/tcp.rs", "pub fn connect() {}\npub fn mine() {}\n");
    let err = undo(&ws.journal(), &ws.root).unwrap_err();
    assert!(
        matches!(&err, EditError::ChangedSinceEdit { file, .. } if file == "src/net/tcp.rs"),
        "{err}"
    );
    assert_eq!(ws.read("src/net.rs"), "//! Networking.\n\npub mod tcp;\n");
    ws.write("src/net/tcp.rs", "pub fn connect() {}\n");
    let undone = undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(undone.files, ["src/lib.rs", "src/net.rs", "src/net/tcp.rs"]);
    assert_eq!(ws.snapshot(), original);
    assert!(
        !ws.root.join("src/net").exists(),
        "the directory it made is gone"
    );
}

#[test]
fn create_file_refuses_paths_it_may_not_create() {
    let ws = Ws::with_files(&[(".gitignore", "/src/generated/\n*.gen.rs\n")]);
    let outside = ws.tmp.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, ws.root.join("src/out")).unwrap();
        std::fs::create_dir_all(ws.root.join(".git")).unwrap();
        std::os::unix::fs::symlink(ws.root.join(".git"), ws.root.join("src/gitdir")).unwrap();
    }
    let abs = ws.root.join("src/abs.rs").display().to_string();
    let bad_new = [
        (abs.as_str(), "relative to the workspace root"),
        ("../x.rs", "without `..`"),
        ("src/lib.rs", "exists already"),
        ("src/notes.txt", "only Rust source files"),
        ("src/generated/x.rs", ".gitignore ignores it"),
        ("src/a.gen.rs", ".gitignore ignores it"),
    ];
    for (file, reason) in bad_new {
        let err = refused(&ws, &[create_file(file, "pub fn f() {}\n")]);
        assert!(
            matches!(&err, EditError::BadNewFile { file: f, reason: r } if f == file && r.contains(reason)),
            "{file}: {err}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("{file}: cannot be created: ")));
    }
    for (file, component) in [
        (".github/x.rs", ".github"),
        ("target/x.rs", "target"),
        ("src/.x.rs", ".x.rs"),
    ] {
        let err = refused(&ws, &[create_file(file, "pub fn f() {}\n")]);
        assert!(
            matches!(&err, EditError::Protected { component: c, .. } if c == component),
            "{file}: {err}"
        );
    }
    #[cfg(unix)]
    {
        let err = refused(&ws, &[create_file("src/out/x.rs", "pub fn f() {}\n")]);
        assert!(matches!(&err, EditError::OutsideWorkspace { .. }), "{err}");
        let err = refused(&ws, &[create_file("src/gitdir/x.rs", "pub fn f() {}\n")]);
        assert!(
            matches!(&err, EditError::Protected { component, .. } if component == ".git"),
            "{err}"
        );
    }
    // Cargo would run it at the next build.
    let err = refused(&ws, &[create_file("build.rs", "fn main() {}\n")]);
    assert!(
        matches!(&err, EditError::BuildScript { file } if file == "build.rs"),
        "{err}"
    );
    let err = refused(&ws, &[create_file("src\\x.rs", "pub fn f() {}\n")]);
    assert!(err.to_string().contains("backslash"), "{err}");
    let err = refused(
        &ws,
        &[
            create_file("src/twice.rs", "pub fn f() {}\n"),
            create_file("./src/twice.rs", "pub fn g() {}\n"),
        ],
    );
    assert!(
        err.to_string()
            .contains("an earlier edit of this request creates it"),
        "{err}"
    );
    let err = refused(
        &ws,
        &[create_file(
            "src/broken.rs",
            "pub fn f() {}\npub fn g( {}\n",
        )],
    );
    assert!(
        matches!(&err, EditError::Syntax { file, line: 2, .. } if file == "src/broken.rs"),
        "{err}"
    );
    // A file that appears between plan and apply is not replaced.
    let plan = ws
        .plan(&[create_file("src/late.rs", "pub fn f() {}\n")])
        .unwrap();
    ws.write("src/late.rs", "// mine\n");
    let err = plan.apply(&ws.journal()).unwrap_err();
    assert!(
        matches!(&err, EditError::Stale { file } if file == "src/late.rs"),
        "{err}"
    );
    assert_eq!(ws.read("src/late.rs"), "// mine\n");
    assert!(history(&ws.journal()).unwrap().is_empty());
}

#[test]
fn create_file_only_inside_a_package() {
    // A virtual workspace: the root is no package, `member/` is.
    let ws = Ws::with_files(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"member\"]\nresolver = \"2\"\n",
        ),
        (
            "member/Cargo.toml",
            "[package]\nname = \"member\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("member/src/lib.rs", "pub fn m() {}\n"),
    ]);
    let err = refused(&ws, &[create_file("tools/x.rs", "pub fn f() {}\n")]);
    assert!(err.to_string().contains("lies in no package"), "{err}");
    ws.apply(&[create_file("member/src/x.rs", "pub fn f() {}\n")]);
    assert_eq!(ws.read("member/src/x.rs"), "pub fn f() {}\n");
}

// ---------------------------------------------------------------------------------------------
// Killed in the middle of an apply

/// What the child process of the crash tests applies: five edited files and a new one (in a
/// new directory).
fn crash_edits() -> Vec<Edit> {
    vec![
        search_replace("src/lib.rs", "//! Geometry.", "//! Plane geometry."),
        search_replace("src/shapes.rs", "3.0 *", "3.14 *"),
        insert_item("geo::empty", "pub fn nothing() {}"),
        insert_item("geo::shapes::extra", "pub const SIDES: u32 = 0;"),
        insert_item("pathed", "pub struct Pathed;"),
        create_file("src/shapes/more/new.rs", "pub fn new_one() {}\n"),
    ]
}

const CRASH_CHILD: &str = "PLOKE_EDIT_CRASH_CHILD";

fn step_name(step: ApplyStep) -> String {
    format!("{step:?}")
}

static CRASH_AT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Kills this process with SIGKILL at the chosen step: no unwinding, no destructors, as if the
/// machine had lost power (except for the page cache).
fn crash_hook(step: ApplyStep) {
    if CRASH_AT.get() == Some(&step_name(step)) {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// The child process of a crash test: that test started this test binary again, filtered to
/// itself, with the step in the environment. Applies [`crash_edits`] to the workspace named
/// there and is killed by [`crash_hook`] at that step, so it never returns. In a normal run
/// (no such variable) it does nothing and the test goes on.
fn be_the_crash_child_if_started_as_one() {
    let Ok(step) = std::env::var(CRASH_CHILD) else {
        return;
    };
    let root = PathBuf::from(std::env::var("PLOKE_EDIT_CRASH_ROOT").unwrap());
    let db = Db::open(Path::new(&std::env::var("PLOKE_EDIT_CRASH_DB").unwrap())).unwrap();
    CRASH_AT.set(step).unwrap();
    let ctx = EditContext {
        db: &db,
        workspace_root: &root,
        allow_build_scripts: false,
    };
    let opts = ApplyOptions {
        step_hook: Some(crash_hook),
        ..ApplyOptions::default()
    };
    plan(&crash_edits(), &ctx)
        .unwrap()
        .apply_with(&root.join(".ploke/journal"), &opts)
        .unwrap();
    // Not killed: the step never came. The parent sees a clean exit and says so.
    std::process::exit(0);
}

/// Runs the crash child against `ws`, killed at `step`: test `test` (the caller, which starts
/// with [`be_the_crash_child_if_started_as_one`]) in a child process.
#[cfg(unix)]
fn apply_killed_at(ws: &Ws, test: &str, step: ApplyStep) {
    use std::os::unix::process::ExitStatusExt;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CRASH_CHILD, step_name(step))
        .env("PLOKE_EDIT_CRASH_ROOT", &ws.root)
        .env("PLOKE_EDIT_CRASH_DB", ws.tmp.path().join("db"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{step:?}: the child was not killed there: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
}

#[cfg(unix)]
#[test]
fn an_apply_killed_at_any_step_is_recovered_all_or_nothing() {
    be_the_crash_child_if_started_as_one();
    let ws = Ws::new();
    let before = ws.snapshot();
    let planned = ws.plan(&crash_edits()).unwrap();
    let n = planned.files().len();
    assert_eq!(n, 6);
    let mut after = before.clone();
    for f in planned.files() {
        after.insert(f.path().to_string(), f.after().as_bytes().to_vec());
    }
    let mut steps = vec![ApplyStep::BlobsStored, ApplyStep::IntentRecorded];
    steps.extend((0..n).map(ApplyStep::TempWritten));
    steps.extend((0..n).map(ApplyStep::Renamed));
    steps.extend([ApplyStep::BeforeCommit, ApplyStep::Committed]);
    for step in steps {
        apply_killed_at(
            &ws,
            "an_apply_killed_at_any_step_is_recovered_all_or_nothing",
            step,
        );
        // What the next apply, undo or `ploke edit` does first.
        let recovered = recover(&ws.journal(), &ws.root).unwrap();
        let now = ws.snapshot();
        assert!(
            now == before || now == after,
            "{step:?}: a mix of old and new files"
        );
        assert_eq!(
            temp_files(&ws.root),
            Vec::<PathBuf>::new(),
            "{step:?}: temp files left"
        );
        let entries = history(&ws.journal()).unwrap();
        if now == before {
            // Killed before the intent was on disk: as if nothing happened.
            assert_eq!(step, ApplyStep::BlobsStored);
            assert_eq!(recovered, None);
            assert!(entries.is_empty(), "{step:?}: an entry without its edit");
            assert!(!ws.root.join("src/shapes/more").exists());
            continue;
        }
        // Killed after the intent was on disk: the apply is finished, and undone as usual.
        assert_eq!(entries.len(), 1, "{step:?}: the edit has one entry");
        match step {
            ApplyStep::Committed => assert_eq!(recovered, None),
            _ => {
                let r = recovered.unwrap_or_else(|| panic!("{step:?}: nothing recovered"));
                assert_eq!(r.entry, entries[0].id);
                assert_eq!(r.outcome, Recovery::RolledForward);
                assert_eq!(r.files, planned.changed_files());
                let line = r.to_string();
                assert!(
                    line.contains("finished writing it") && !line.contains('\n'),
                    "{line}"
                );
            }
        }
        undo(&ws.journal(), &ws.root).unwrap();
        assert_eq!(ws.snapshot(), before, "{step:?}: undo restores every byte");
        assert!(!ws.root.join("src/shapes/more").exists());
        assert!(history(&ws.journal()).unwrap().is_empty());
    }
}

#[cfg(unix)]
#[test]
fn recovery_takes_an_apply_back_when_a_file_changed_since() {
    be_the_crash_child_if_started_as_one();
    let ws = Ws::new();
    let before = ws.snapshot();
    // Plan order is by path: src/empty.rs and src/lib.rs are renamed, the rest are not yet.
    apply_killed_at(
        &ws,
        "recovery_takes_an_apply_back_when_a_file_changed_since",
        ApplyStep::Renamed(1),
    );
    assert_ne!(ws.read("src/lib.rs"), LIB);
    ws.write("src/shapes/extra.rs", "// mine\n");
    let recovered = recover(&ws.journal(), &ws.root).unwrap().unwrap();
    assert_eq!(
        recovered,
        Recovered {
            entry: 1,
            outcome: Recovery::RolledBack {
                changed: "src/shapes/extra.rs".into()
            },
            files: vec!["src/empty.rs".into(), "src/lib.rs".into()],
        }
    );
    let line = recovered.to_string();
    assert!(
        line.contains("src/shapes/extra.rs changed since") && !line.contains('\n'),
        "{line}"
    );
    let mut expected = before;
    expected.insert("src/shapes/extra.rs".into(), b"// mine\n".to_vec());
    assert_eq!(
        ws.snapshot(),
        expected,
        "the rest back to their old bytes, the change kept"
    );
    assert_eq!(temp_files(&ws.root), Vec::<PathBuf>::new());
    assert!(history(&ws.journal()).unwrap().is_empty());
    assert_eq!(
        recover(&ws.journal(), &ws.root).unwrap(),
        None,
        "settled once"
    );
}

#[cfg(unix)]
#[test]
fn undo_after_a_killed_apply_takes_that_apply_back() {
    be_the_crash_child_if_started_as_one();
    let ws = Ws::new();
    let before = ws.snapshot();
    apply_killed_at(
        &ws,
        "undo_after_a_killed_apply_takes_that_apply_back",
        ApplyStep::TempWritten(2),
    );
    // `undo` recovers first (finishing the apply), then undoes it.
    let undone = undo(&ws.journal(), &ws.root).unwrap();
    assert_eq!(undone.entry, 1);
    assert_eq!(ws.snapshot(), before);
    assert_eq!(temp_files(&ws.root), Vec::<PathBuf>::new());
    assert!(history(&ws.journal()).unwrap().is_empty());
}
