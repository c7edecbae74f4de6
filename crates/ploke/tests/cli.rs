//! The `ploke` binary, run the way a user runs it: in temp directories holding a small Cargo
//! workspace written by the test, checking what it prints, what it writes, and its exit code.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::json;
use ploke_test_support::Project;
use serde_json::Value;

/// A two-member workspace: a library `geo` (a trait, a type with an inherent and a trait impl,
/// functions calling each other) and a binary `app` that uses it.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/geo\", \"crates/app\"]\nresolver = \"2\"\n",
    ),
    (
        "crates/geo/Cargo.toml",
        "[package]\nname = \"geo\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n",
    ),
    (
        "crates/geo/src/lib.rs",
        "//! Geometry.
pub mod shapes;

pub use shapes::{Circle, Shape};

/// Sum of the areas of all the circles.
pub fn total_area(circles: &[Circle]) -> f64 {
    let mut sum = 0.0;
    for c in circles {
        sum += c.area();
    }
    sum + zero()
}

fn zero() -> f64 {
    0.0
}
",
    ),
    (
        "crates/geo/src/shapes.rs",
        "/// Anything with an area.
pub trait Shape {
    /// The area, in square units.
    fn area(&self) -> f64;
}

/// A circle given by its radius.
pub struct Circle {
    pub radius: f64,
}

impl Circle {
    /// A circle of radius `radius`.
    pub fn new(radius: f64) -> Self {
        Circle { radius }
    }
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * square(self.radius)
    }
}

fn square(x: f64) -> f64 {
    x * x
}
",
    ),
    (
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ngeo = { path = \"../geo\" }\n",
    ),
    (
        "crates/app/src/main.rs",
        "fn main() {
    let c = geo::Circle::new(2.0);
    println!(\"{}\", geo::total_area(&[c]));
}
",
    ),
];

struct Ws {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

fn workspace() -> Ws {
    let p = Project::with_files("ws", FILES);
    Ws {
        tmp: p.tmp,
        root: p.root,
    }
}

impl Ws {
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Run `ploke ARGS` in `cwd`.
    fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        ploke_in(cwd, args, None)
    }

    /// Run `ploke ARGS` at the workspace root and expect success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        ok(self.run_in(&self.root, args), args)
    }

    /// Run `ploke ARGS` at the workspace root and expect failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        fails(self.run_in(&self.root, args), args)
    }

    fn indexed() -> Ws {
        let ws = workspace();
        ws.ok(&["index"]);
        ws
    }
}

fn ploke_in(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ploke"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("PLOKE_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("running the ploke binary");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

#[track_caller]
fn ok(out: Output, args: &[&str]) -> String {
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(
        out.status.success(),
        "ploke {args:?} failed ({:?}):\n{stderr}\n{stdout}",
        out.status
    );
    stdout
}

/// Expect exit code 1 and exactly one line on stderr, starting `error: `; nothing on stdout.
#[track_caller]
fn fails(out: Output, args: &[&str]) -> String {
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "ploke {args:?} should fail:\n{stderr}\n{stdout}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line of error: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    assert!(stdout.is_empty(), "nothing on stdout: {stdout:?}");
    stderr
}

/// The number right before `word` in `text` ("12 items" → 12; "1 item" counts too, and
/// must be 1: the noun agrees with its number).
fn count_before(text: &str, word: &str) -> u64 {
    let (first, rest) = word.split_once(' ').unwrap_or((word, ""));
    let one = format!("{} {rest}", first.trim_end_matches('s'));
    let one = one.trim_end();
    if text.contains(&format!(" 1 {one}")) {
        return 1;
    }
    let i = text
        .find(&format!(" {word}"))
        .unwrap_or_else(|| panic!("no `{word}` in {text}"));
    let head = &text[..i];
    let start = head
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |j| j + 1);
    head[start..]
        .parse()
        .unwrap_or_else(|_| panic!("no number before `{word}` in {text}"))
}

/// 1-based line of the one line of `file` that contains `needle`.
fn line_of(file: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    ploke_test_support::line_of(&text, needle).into()
}

#[test]
fn index_prints_a_summary_and_creates_dot_ploke() {
    let ws = workspace();
    // A problem, so the summary has one to show.
    std::fs::write(
        ws.path("crates/geo/src/lib.rs"),
        format!("{}\nmod lost;\n", FILES[2].1),
    )
    .unwrap();
    let out = ws.run_in(ws.tmp.path(), &["index", "ws"]);
    let stdout = ok(out, &["index", "ws"]);
    assert!(stdout.starts_with("indexed ws ("), "{stdout}");
    assert_eq!(count_before(&stdout, "targets"), 2, "{stdout}");
    assert_eq!(count_before(&stdout, "files"), 3, "{stdout}");
    assert!(count_before(&stdout, "items") > 10, "{stdout}");
    assert!(count_before(&stdout, "edges") > 5, "{stdout}");
    assert_eq!(count_before(&stdout, "files parsed"), 3, "{stdout}");
    // Time per stage.
    let time = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("time "))
        .expect("a time line");
    for stage in ["discover", "parse", "resolve", "write"] {
        assert!(
            time.contains(&format!("{stage} ")) && time.contains(" ms"),
            "{time}"
        );
    }
    // The problem, as file:line: reason.
    let lost = line_of(&ws.path("crates/geo/src/lib.rs"), "mod lost;");
    assert_eq!(count_before(&stdout, "problems"), 1, "{stdout}");
    assert!(
        stdout.lines().any(|l| l
            .trim()
            .starts_with(&format!("crates/geo/src/lib.rs:{lost}: module `lost`"))),
        "{stdout}"
    );
    // The database went to <workspace>/.ploke, kept out of git.
    let dot = ws.path(".ploke");
    assert!(stdout.contains("into ws/.ploke\n"), "{stdout}");
    assert!(dot.join("graph.db").is_file());
    assert_eq!(
        std::fs::read_to_string(dot.join(".gitignore")).unwrap(),
        "*\n"
    );
}

#[test]
fn second_index_parses_nothing() {
    let ws = Ws::indexed();
    let again = ws.ok(&["index"]);
    assert_eq!(count_before(&again, "files parsed"), 0, "{again}");
    assert_eq!(count_before(&again, "rows written"), 0, "{again}");
    assert!(!again.contains("problems"), "{again}");
    // After editing one file, one file is parsed.
    let f = ws.path("crates/geo/src/shapes.rs");
    std::fs::write(
        &f,
        std::fs::read_to_string(&f)
            .unwrap()
            .replace("x * x", "x.powi(2)"),
    )
    .unwrap();
    let third = ws.ok(&["index"]);
    assert_eq!(count_before(&third, "files parsed"), 1, "{third}");
    assert!(count_before(&third, "rows written") > 0, "{third}");
}

#[test]
fn index_json_summary() {
    let ws = workspace();
    let v = json(&ws.ok(&["index", "--json"]));
    assert_eq!(v["targets"], 2);
    assert_eq!(v["packages"], 2);
    assert_eq!(v["files"], 3);
    assert_eq!(v["parsed_files"], 3);
    assert!(v["items"].as_u64().unwrap() > 10);
    assert!(v["edges"].as_u64().unwrap() > 5);
    assert_eq!(v["skipped"], Value::Array(vec![]));
    for stage in ["discover", "parse", "resolve", "write"] {
        assert!(v["stages_ms"][stage].is_number(), "{v}");
    }
    let v = json(&ws.ok(&["index", "--json"]));
    assert_eq!(
        (v["parsed_files"].as_u64(), v["delta_rows"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn explicit_db_dir_leaves_the_workspace_alone() {
    let ws = workspace();
    let db = ws.tmp.path().join("elsewhere");
    let db_s = db.to_str().unwrap();
    ws.ok(&["index", "--db", db_s]);
    assert!(db.join("graph.db").is_file());
    assert!(!ws.path(".ploke").exists(), "no .ploke when --db is given");
    assert!(
        !db.join(".gitignore").exists(),
        "the user's own directory is left as it is"
    );
    // Search and item find it with --db (and only with it).
    let v = json(&ws.ok(&["search", "circle radius", "--db", db_s, "--json"]));
    assert!(!v.as_array().unwrap().is_empty());
    ws.ok(&["item", "total_area", "--db", db_s]);
    let err = ws.fails(&["search", "circle"]);
    assert!(err.contains("ploke index"), "{err}");
}

#[test]
fn search_text_output() {
    let ws = Ws::indexed();
    let out = ws.ok(&["search", "circle radius"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 10, "{out}");
    // `score  kind  path  file:line:col`, best first.
    let mut last = f64::INFINITY;
    let mut seen_new = false;
    for l in &lines {
        // The path may hold spaces (`<impl Shape for Circle>`): score and kind come first,
        // file:lines last, the path in between.
        let (score, rest) = l.trim_start().split_once(char::is_whitespace).unwrap();
        let (kind, rest) = rest.trim_start().split_once(char::is_whitespace).unwrap();
        let (path, loc) = rest.trim().rsplit_once(char::is_whitespace).unwrap();
        let cols = [score, kind, path.trim(), loc];
        let score: f64 = cols[0].parse().unwrap();
        assert!(score <= last, "sorted by score: {out}");
        last = score;
        let mut parts = cols[3].rsplitn(3, ':');
        let (col, line, file) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        assert!(
            col.parse::<u32>().unwrap() >= 1 && line.parse::<u32>().unwrap() >= 1,
            "{l}"
        );
        assert!(
            [
                "crates/geo/src/lib.rs",
                "crates/geo/src/shapes.rs",
                "crates/app/src/main.rs"
            ]
            .contains(&file),
            "a path from the current directory (the workspace root), unambiguous: {l}"
        );
        if cols[2] == "geo::shapes::Circle::new" {
            seen_new = true;
            assert_eq!(cols[1], "method");
            let start = line_of(
                &ws.path("crates/geo/src/shapes.rs"),
                "/// A circle of radius",
            );
            // The column where the item's first line starts (inside `impl Circle`).
            assert_eq!(cols[3], format!("crates/geo/src/shapes.rs:{start}:5"));
        }
    }
    assert!(seen_new, "Circle::new is found: {out}");
    // -k limits the results.
    assert_eq!(
        ws.ok(&["search", "circle radius", "-k", "2"])
            .lines()
            .count(),
        2
    );
    // No hits is said on stderr, with exit status 1 (as ripgrep), not an error.
    let none = ws.run_in(&ws.root, &["search", "zzzqqq"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty());
    assert_eq!(
        String::from_utf8(none.stderr).unwrap().trim(),
        "note: no results for \"zzzqqq\""
    );
}

#[test]
fn search_json_results() {
    let ws = Ws::indexed();
    let v = json(&ws.ok(&["search", "area", "--json", "-k", "20"]));
    let hits = v.as_array().unwrap();
    assert!(!hits.is_empty());
    let mut last = f64::INFINITY;
    for h in hits {
        let keys: Vec<&str> = h.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "crate",
                "end_line",
                "file",
                "id",
                "kind",
                "name",
                "package",
                "package_file",
                "path",
                "score",
                "signals",
                "start_line"
            ],
            "{h}"
        );
        let score = h["score"].as_f64().unwrap();
        assert!(score <= last, "best first");
        last = score;
        assert!(h["start_line"].as_u64().unwrap() <= h["end_line"].as_u64().unwrap());
        // Workspace-relative, with the package and crate: unambiguous in a workspace.
        assert!(h["file"].as_str().unwrap().starts_with("crates/"), "{h}");
        assert!(h["package"] == "geo" || h["package"] == "app", "{h}");
    }
    let find = |path: &str| {
        hits.iter()
            .find(|h| h["path"] == path)
            .unwrap_or_else(|| panic!("{path} in the results: {v:#}"))
    };
    // Names as the benchmark writes them.
    let trait_m = find("geo::shapes::Shape::area");
    assert_eq!(
        (trait_m["name"].as_str(), trait_m["kind"].as_str()),
        (Some("Shape::area"), Some("method"))
    );
    let impl_m = find("geo::shapes::<Circle as Shape>::area");
    assert_eq!(
        (impl_m["name"].as_str(), impl_m["kind"].as_str()),
        (Some("Circle::area"), Some("method"))
    );
    let shapes = ws.path("crates/geo/src/shapes.rs");
    assert_eq!(impl_m["file"], "crates/geo/src/shapes.rs");
    assert_eq!(
        impl_m["start_line"].as_u64(),
        Some(line_of(&shapes, "    fn area(&self) -> f64 {"))
    );
    assert_eq!(
        impl_m["end_line"].as_u64(),
        Some(line_of(&shapes, "std::f64::consts::PI") + 1)
    );
    let f = find("geo::total_area");
    assert_eq!(
        (f["name"].as_str(), f["kind"].as_str(), f["file"].as_str()),
        (
            Some("total_area"),
            Some("fn"),
            Some("crates/geo/src/lib.rs")
        )
    );
    let lib = ws.path("crates/geo/src/lib.rs");
    assert_eq!(
        f["start_line"].as_u64(),
        Some(line_of(&lib, "/// Sum of the areas"))
    );

    let v = json(&ws.ok(&["search", "Circle", "--json"]));
    let ty = v
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"] == "geo::shapes::Circle")
        .expect("the type");
    assert_eq!(
        (ty["name"].as_str(), ty["kind"].as_str()),
        (Some("Circle"), Some("struct"))
    );
    let new = v
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"] == "geo::shapes::Circle::new")
        .expect("the constructor");
    assert_eq!(new["name"], "Circle::new");
    // The binary's file names its package's directory, and its package.
    let v = json(&ws.ok(&["search", "main", "--json"]));
    let main = v
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "main")
        .expect("fn main");
    assert_eq!(main["file"], "crates/app/src/main.rs");
    assert_eq!(main["package"], "app");
    assert_eq!(main["crate"], "app");
}

#[test]
fn search_batch_json_lines() {
    let ws = Ws::indexed();
    let batch = ws.tmp.path().join("queries.jsonl");
    std::fs::write(
        &batch,
        "{\"id\": \"q-area\", \"query\": \"area\"}\n\n{\"id\": 7, \"query\": \"circle radius\"}\n{\"query\": \"zzzqqq\", \"id\": {\"x\": [1]}}\n",
    )
    .unwrap();
    let out = ws.ok(&["search", "--batch", batch.to_str().unwrap(), "-k", "5"]);
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(
        lines.len(),
        3,
        "one line per query (blank lines skipped): {out}"
    );
    assert_eq!(lines[0]["id"], "q-area");
    assert_eq!(lines[1]["id"], 7);
    assert_eq!(
        lines[2]["id"],
        serde_json::json!({"x": [1]}),
        "any JSON id comes back as it was"
    );
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["id", "results", "schema"]);
    }
    assert_eq!(lines[2]["results"], Value::Array(vec![]));
    // The same results as one query at a time.
    let single = json(&ws.ok(&["search", "area", "--json", "-k", "5"]));
    assert_eq!(lines[0]["results"], single);
    let single = json(&ws.ok(&["search", "circle radius", "--json", "-k", "5"]));
    assert_eq!(lines[1]["results"], single);

    // From stdin with `-`.
    let out = ok(
        ploke_in(
            &ws.root,
            &["search", "--batch", "-", "-k", "5"],
            Some("{\"id\": 1, \"query\": \"area\"}\n"),
        ),
        &["search", "--batch", "-"],
    );
    let v = json(out.trim());
    assert_eq!(v["id"], 1);
    assert_eq!(v["results"], lines[0]["results"]);
}

#[test]
fn search_batch_bad_line_names_file_and_line() {
    let ws = Ws::indexed();
    let batch = ws.tmp.path().join("bad.jsonl");
    let b = batch.to_str().unwrap();
    for (content, line) in [
        ("{\"id\": 1, \"query\": \"area\"}\nnot json\n", 2),
        ("{\"id\": 1, \"query\": \"area\"}\n\n{\"id\": 2}\n", 3),
        ("{\"query\": \"area\"}\n", 1),
        ("{\"id\": 1, \"query\": 5}\n", 1),
    ] {
        std::fs::write(&batch, content).unwrap();
        let out = ws.run_in(&ws.root, &["search", "--batch", b]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{content:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("{b}:{line}:")),
            "{content:?}: names {b}:{line}: {stderr}"
        );
    }
    let missing = ws.tmp.path().join("nope.jsonl");
    let err = ws.fails(&["search", "--batch", missing.to_str().unwrap()]);
    assert!(err.contains("nope.jsonl"), "{err}");
}

#[test]
fn item_text_shows_source_and_relations() {
    let ws = Ws::indexed();
    let shapes = ws.path("crates/geo/src/shapes.rs");
    let lib = ws.path("crates/geo/src/lib.rs");

    // A fn: header with file:lines, its module, its source, callers and callees with file:line.
    let out = ws.ok(&["item", "square"]);
    let start = line_of(&shapes, "fn square(x: f64) -> f64 {");
    assert!(
        out.starts_with(&format!(
            "fn geo::shapes::square  crates/geo/src/shapes.rs:{start}:1\n"
        )),
        "{out}"
    );
    let mod_line = line_of(&lib, "pub mod shapes;");
    assert!(
        out.contains(&format!(
            "in module geo::shapes  crates/geo/src/lib.rs:{mod_line}:1"
        )),
        "{out}"
    );
    assert!(
        out.contains("fn square(x: f64) -> f64 {\n    x * x\n}"),
        "the source: {out}"
    );
    let call = line_of(&shapes, "square(self.radius)");
    assert!(
        out.contains(&format!(
            "callers:\n  geo::shapes::<Circle as Shape>::area  crates/geo/src/shapes.rs:{call}:"
        )),
        "{out}"
    );

    let out = ws.ok(&["item", "geo::total_area"]);
    let zero = line_of(&lib, "fn zero() -> f64 {");
    assert!(
        out.contains(&format!(
            "callees:\n  geo::zero  crates/geo/src/lib.rs:{zero}:1"
        )),
        "{out}"
    );
    // Calls across crates: the binary calls into the library.
    assert!(
        out.contains("callers:\n  app::main  crates/app/src/main.rs:3:"),
        "{out}"
    );
    // A crate root as containing module has a real line, not line 0.
    assert!(
        out.contains("in module geo  crates/geo/src/lib.rs:1:1"),
        "{out}"
    );

    // A trait: its implementations.
    let out = ws.ok(&["item", "Shape"]);
    let impl_line = line_of(&shapes, "impl Shape for Circle {");
    assert!(
        out.contains(&format!("implementations:\n  geo::shapes::<impl Shape for Circle>  crates/geo/src/shapes.rs:{impl_line}")),
        "{out}"
    );
    // A type: its impls.
    let out = ws.ok(&["item", "Circle"]);
    assert!(out.contains("implementations:"), "{out}");
    assert!(
        out.contains("geo::shapes::<impl Circle>")
            && out.contains("geo::shapes::<impl Shape for Circle>"),
        "{out}"
    );

    // Indented items print with their own indentation on the first line too.
    let out = ws.ok(&["item", "Circle::new"]);
    assert!(
        out.contains(
            "\n    /// A circle of radius `radius`.\n    pub fn new(radius: f64) -> Self {\n"
        ),
        "{out}"
    );
}

#[test]
fn item_json() {
    let ws = Ws::indexed();
    let shapes = ws.path("crates/geo/src/shapes.rs");
    let v = json(&ws.ok(&["item", "Circle::area", "--json"]));
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 1, "{v:#}");
    let it = &items[0];
    assert_eq!(it["path"], "geo::shapes::<Circle as Shape>::area");
    assert_eq!(it["name"], "Circle::area");
    assert_eq!(it["kind"], "method");
    assert_eq!(it["file"], "crates/geo/src/shapes.rs");
    let start = line_of(&shapes, "    fn area(&self) -> f64 {");
    assert_eq!(
        (it["start_line"].as_u64(), it["end_line"].as_u64()),
        (Some(start), Some(start + 2))
    );
    assert_eq!(
        it["source"],
        "fn area(&self) -> f64 {\n        std::f64::consts::PI * square(self.radius)\n    }"
    );
    assert_eq!(it["module"]["path"], "geo::shapes");
    assert_eq!(it["module"]["file"], "crates/geo/src/lib.rs");
    assert_eq!(
        it["module"]["start_line"].as_u64(),
        Some(line_of(
            &ws.path("crates/geo/src/lib.rs"),
            "pub mod shapes;"
        ))
    );
    assert_eq!(it["parent"]["path"], "geo::shapes::<impl Shape for Circle>");
    let callees = it["callees"].as_array().unwrap();
    assert_eq!(callees.len(), 1, "{it:#}");
    assert_eq!(callees[0]["path"], "geo::shapes::square");
    assert_eq!(callees[0]["line"].as_u64(), Some(start + 1));
    // `c.area()` on a loop variable: the receiver's type is not known, so the call stays
    // unresolved in `total_area` rather than guessed.
    assert_eq!(it["callers"], Value::Array(vec![]));
    let total = json(&ws.ok(&["item", "total_area", "--json"]));
    assert_eq!(
        total[0]["unresolved_calls"],
        serde_json::json!([format!(
            "{} (line {})",
            ".area",
            line_of(&ws.path("crates/geo/src/lib.rs"), "c.area()")
        )])
    );
    let sq = json(&ws.ok(&["item", "square", "--json"]));
    assert_eq!(
        sq[0]["callers"][0]["path"],
        "geo::shapes::<Circle as Shape>::area"
    );
    assert_eq!(sq[0]["callers"][0]["line"].as_u64(), Some(start + 1));

    let v = json(&ws.ok(&["item", "geo::shapes::Shape", "--json"]));
    let t = &v[0];
    assert_eq!(t["kind"], "trait");
    assert_eq!(t["docs"], "Anything with an area.");
    let impls = t["implementations"].as_array().unwrap();
    assert_eq!(impls.len(), 1);
    assert_eq!(impls[0]["path"], "geo::shapes::<impl Shape for Circle>");
    assert_eq!(
        impls[0]["start_line"].as_u64(),
        Some(line_of(&shapes, "impl Shape for Circle {"))
    );
    let v = json(&ws.ok(&["item", "geo::shapes::<impl Shape for Circle>", "--json"]));
    assert_eq!(v[0]["implements"][0]["path"], "geo::shapes::Shape");
}

#[test]
fn errors_are_one_line_and_say_what_to_do() {
    let ws = workspace();
    // Before any index.
    let err = ws.fails(&["search", "circle"]);
    assert!(err.contains("run `ploke index`"), "{err}");
    let err = ws.fails(&["item", "Circle"]);
    assert!(err.contains("run `ploke index`"), "{err}");
    let p = ws.root.to_str().unwrap();
    let err = fails(
        ws.run_in(ws.tmp.path(), &["search", "circle", "--path", p]),
        &["search"],
    );
    assert!(err.contains("run `ploke index`"), "{err}");
    assert!(
        !ws.path(".ploke").exists(),
        "a failed search creates nothing"
    );

    ws.ok(&["index"]);
    // Unknown item: nothing found (exit 1); names it, suggests search.
    let out = ws.run_in(&ws.root, &["item", "NoSuchThing"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`NoSuchThing`") && err.contains("ploke search"),
        "{err}"
    );
    // A search without a query.
    let err = ws.fails(&["search"]);
    assert!(err.contains("QUERY") || err.contains("--batch"), "{err}");
    // Not a Cargo project.
    let empty = ws.tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = ploke_in(&empty, &["index"], None);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Cargo.toml"), "{stderr}");
    // A path that does not exist.
    let err = ws.fails(&["search", "x", "--path", "does/not/exist"]);
    assert!(err.contains("does/not/exist"), "{err}");
}

#[test]
fn commands_work_from_a_subdirectory() {
    let ws = workspace();
    let sub = ws.path("crates/geo/src");
    ok(ws.run_in(&sub, &["index"]), &["index"]);
    assert!(
        ws.path(".ploke/graph.db").is_file(),
        "the index lives at the workspace root"
    );
    let out = ok(
        ws.run_in(&sub, &["search", "square", "--json"]),
        &["search"],
    );
    assert_eq!(json(&out)[0]["path"], "geo::shapes::square");
    ok(ws.run_in(&sub, &["item", "square"]), &["item"]);
    let again = ok(ws.run_in(&ws.path("crates/app"), &["index"]), &["index"]);
    assert_eq!(
        count_before(&again, "files parsed"),
        0,
        "same index from another member: {again}"
    );
}
