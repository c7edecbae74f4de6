//! Broken and hostile input, the way it turns up in real trees: every problem is reported
//! exactly once (`file:line: reason`), everything else is indexed, and no input makes the run
//! hang, panic or crawl.
//!
//! The projects are written at run time into temp directories; see `common/mod.rs`.

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{edge, has_node, line_of, load, node, Project};
use ploke_core::{EdgeKind, Graph, ItemKind, Skipped};
use ploke_index::IndexReport;

/// Index on another thread and fail (instead of hanging the test run) if it takes too long.
fn index_within(p: &Project, db: &Path, limit: Duration) -> (IndexReport, Duration) {
    let (tx, rx) = mpsc::channel();
    let (root, db) = (p.root.clone(), db.to_path_buf());
    std::thread::spawn(move || {
        let t = Instant::now();
        let r = common::index_dir(&root, &db);
        let _ = tx.send((r, t.elapsed()));
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("indexing did not finish within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("indexing panicked (see above)"),
    }
}

/// Index `p` into a fresh database, check the report agrees with the stored graph, and check
/// that a second run over the unchanged tree reports the same problems (still once each) and
/// writes nothing.
fn index_checked(p: &Project) -> (IndexReport, Graph) {
    let db = p.db("db");
    let (report, _) = index_within(p, &db, Duration::from_secs(60));
    let g = load(&db);
    assert_eq!(
        report.skipped, g.skipped,
        "the report lists the stored problems"
    );
    let (again, _) = index_within(p, &db, Duration::from_secs(60));
    assert_eq!(
        again.skipped, report.skipped,
        "a re-index reports the same problems, once each"
    );
    assert_eq!(
        again.delta_rows, 0,
        "a re-index of an unchanged tree writes nothing"
    );
    assert_eq!(load(&db), g);
    (report, g)
}

/// The problems as (file, line, whole file?), sorted.
fn problems(g: &Graph) -> Vec<(String, u32, bool)> {
    let mut v: Vec<_> = g
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.line, s.whole_file))
        .collect();
    v.sort();
    v
}

fn problem<'g>(g: &'g Graph, path: &str) -> &'g Skipped {
    let found: Vec<&Skipped> = g.skipped.iter().filter(|s| s.path == path).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one problem for {path}: {:?}",
        g.skipped
    );
    found[0]
}

/// Paths of the fns and methods in the graph, sorted.
fn fns(g: &Graph) -> Vec<String> {
    let mut v: Vec<String> = g
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, ItemKind::Fn | ItemKind::Method))
        .map(|n| n.path.clone())
        .collect();
    v.sort();
    v
}

fn children(g: &Graph, path: &str) -> usize {
    let id = node(g, path).id;
    g.nodes.iter().filter(|n| n.parent == Some(id)).count()
}

#[test]
fn syntax_error_in_the_middle_of_a_file() {
    let lib = "\
pub mod shapes;

pub fn before() -> u32 { 1 }

pub fn broken() -> u32 { let = ; }

pub struct After;

impl After {
    pub fn after() -> u32 { before() }
}
";
    let shapes = "\
pub struct Circle;

fn first_bad( { }

pub fn last() {}
";
    let p = Project::new(
        "midbroken",
        &[("src/lib.rs", lib), ("src/shapes.rs", shapes)],
    );
    let (report, g) = index_checked(&p);

    // The item with the error is gone; those before and after it are there, with their edges.
    assert_eq!(
        fns(&g),
        ["midbroken::After::after", "midbroken::before"],
        "{:#?}",
        g.nodes
    );
    node(&g, "midbroken::After");
    edge(
        &g,
        "midbroken::After::after",
        EdgeKind::Calls,
        "midbroken::before",
    );

    // One problem for the partly parsed file, at the line of the error.
    let s = problem(&g, "src/lib.rs");
    assert_eq!(s.line, line_of(lib, "let = ;"));
    assert!(!s.whole_file);
    assert!(s.reason.contains("syntax error"), "{s}");
    assert!(
        s.reason.contains("before and after"),
        "says the rest of the file is indexed: {s}"
    );
    assert_eq!(
        s.to_string(),
        format!("src/lib.rs:{}: {}", s.line, s.reason)
    );

    // Unbalanced delimiters cannot even be tokenized: the whole file is out, reported once at
    // the first bad line, and the module that declares it is still there.
    let s = problem(&g, "src/shapes.rs");
    assert!(s.whole_file, "{s}");
    assert!(s.reason.contains("syntax error"), "{s}");
    assert!(
        s.line >= 1 && s.line <= 3,
        "points at or before the bad line: {s}"
    );
    assert_eq!(children(&g, "midbroken::shapes"), 0);
    assert_eq!(g.skipped.len(), 2, "{:?}", g.skipped);
    assert_eq!(report.files, 2);
}

#[test]
fn two_syntax_errors_in_one_file_are_one_problem() {
    let lib = "\
pub fn a() {}
pub fn bad1() { let = ; }
pub fn b() {}
pub fn bad2() { match }
pub fn c() {}
";
    let p = Project::new("twice", &[("src/lib.rs", lib)]);
    let (_, g) = index_checked(&p);
    for f in ["twice::a", "twice::b", "twice::c"] {
        node(&g, f);
    }
    assert!(!has_node(&g, "twice::bad1") && !has_node(&g, "twice::bad2"));
    // One line per file: the first error.
    assert_eq!(problems(&g), [("src/lib.rs".to_string(), 2, false)]);
}

#[test]
fn invalid_utf8_is_skipped_with_the_line_of_the_first_bad_byte() {
    let lib = "pub mod latin1;\npub mod fine;\n\npub fn root() -> u32 { fine::ok() }\n";
    let p = Project::new(
        "utf",
        &[
            ("src/lib.rs", lib),
            ("src/fine.rs", "pub fn ok() -> u32 { 1 }\n"),
        ],
    );
    // Latin-1 `é` (0xE9) on line 3.
    p.write(
        "src/latin1.rs",
        b"// Latin-1 file\npub fn ok() {}\npub fn caf\xe9() {}\npub fn after() {}\n",
    );
    let (_, g) = index_checked(&p);

    let s = problem(&g, "src/latin1.rs");
    assert_eq!((s.line, s.whole_file), (3, true), "{s}");
    assert!(s.reason.contains("UTF-8"), "{s}");
    assert_eq!(g.skipped.len(), 1, "{:?}", g.skipped);
    // The module exists (it is declared) but holds nothing; its file is not a stored file.
    assert_eq!(children(&g, "utf::latin1"), 0);
    assert!(g.files.iter().all(|f| f.path != "src/latin1.rs"));
    edge(&g, "utf::root", EdgeKind::Calls, "utf::fine::ok");
    assert_eq!(fns(&g), ["utf::fine::ok", "utf::root"]);
}

#[test]
fn huge_generated_file_is_skipped_quickly() {
    // About 10 MB of generated code: far over the parse limit.
    let mut big = String::from("// @generated\n");
    let mut i = 0;
    while big.len() < 10 * 1024 * 1024 {
        big.push_str(&format!(
            "pub const C{i}: u64 = {i}; pub fn f{i}() -> u64 {{ C{i} * 2 }}\n"
        ));
        i += 1;
    }
    let lib = "pub mod generated;\n\npub fn small() -> u32 { 2 }\n";
    let p = Project::new("huge", &[("src/lib.rs", lib), ("src/generated.rs", &big)]);

    let (report, took) = index_within(&p, &p.db("db"), Duration::from_secs(120));
    eprintln!("indexing a 10 MB file took {took:?}");
    // Reading and hashing 10 MB is cheap; parsing it is what the limit avoids.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let g = load(&p.db("db"));
    let s = problem(&g, "src/generated.rs");
    assert!(s.whole_file, "{s}");
    assert_eq!(s.line, 1);
    assert!(
        s.reason.contains(&big.len().to_string()),
        "names the size: {s}"
    );
    assert!(s.reason.contains("limit"), "says why: {s}");
    assert_eq!(g.skipped.len(), 1, "{:?}", g.skipped);
    assert_eq!(children(&g, "huge::generated"), 0);
    assert_eq!(fns(&g), ["huge::small"]);
    assert_eq!(report.skipped, g.skipped);
    // Its 10 MB of text is not stored; the indexed file's is.
    let db = ploke_db::Db::open(&p.db("db")).unwrap();
    assert_eq!(db.source("src/generated.rs").unwrap(), None);
    assert_eq!(db.source("src/lib.rs").unwrap().as_deref(), Some(lib));
    drop(db);

    // The next run does not even look at it again.
    let (again, took) = index_within(&p, &p.db("db"), Duration::from_secs(120));
    assert_eq!((again.parsed_files, again.delta_rows), (0, 0));
    assert_eq!(again.skipped, g.skipped);
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn parse_limit_is_configurable() {
    let lib = "pub mod big;\npub fn small() {}\n";
    let big = format!("pub fn big() {{}}\n// {}\n", "x".repeat(200));
    let p = Project::new("limit", &[("src/lib.rs", lib), ("src/big.rs", &big)]);
    let opts = ploke_index::IndexOptions {
        db_dir: Some(p.db("db")),
        max_file_bytes: Some(100),
        ..Default::default()
    };
    let report = ploke_index::index(&p.root, &opts, &ploke_index::NoProgress).unwrap();
    assert_eq!(
        problems(&load(&p.db("db"))),
        [("src/big.rs".to_string(), 1, true)],
        "{:?}",
        report.skipped
    );
}

#[test]
fn empty_files_are_fine() {
    let p = Project::new(
        "empty",
        &[(
            "src/lib.rs",
            "pub mod nothing;\npub mod blank;\npub fn f() {}\n",
        )],
    );
    p.write("src/nothing.rs", "");
    p.write("src/blank.rs", "\n\n   \n");
    let (_, g) = index_checked(&p);
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);
    assert_eq!(children(&g, "empty::nothing"), 0);
    assert_eq!(children(&g, "empty::blank"), 0);
    let lines: Vec<(&str, u32)> = g.files.iter().map(|f| (f.path.as_str(), f.lines)).collect();
    assert_eq!(
        lines,
        [
            ("src/blank.rs", 3),
            ("src/lib.rs", 3),
            ("src/nothing.rs", 0)
        ]
    );
    node(&g, "empty::f");

    // A crate whose root file is empty is an indexed crate with nothing in it.
    let p = Project::new("hollow", &[("src/lib.rs", "")]);
    let (report, g) = index_checked(&p);
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);
    assert_eq!(report.crates, 1);
    assert_eq!(g.nodes.len(), 1, "{:#?}", g.nodes);
    assert_eq!(g.nodes[0].kind, ItemKind::Crate);
}

#[test]
fn bom_and_shebang_keep_spans_exact() {
    let lib = "\u{feff}//! crate docs\npub mod script;\n\npub fn first() -> u8 { 1 }\n";
    let script = "#!/usr/bin/env run-cargo-script\npub fn second() -> u8 { 2 }\n";
    let p = Project::new("bom", &[("src/lib.rs", lib), ("src/script.rs", script)]);
    let (_, g) = index_checked(&p);
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);
    for (path, text, item) in [
        ("bom::first", lib, "pub fn first() -> u8 { 1 }"),
        ("bom::script::second", script, "pub fn second() -> u8 { 2 }"),
    ] {
        let n = node(&g, path);
        assert_eq!(
            &text[n.span.start_byte as usize..n.span.end_byte as usize],
            item
        );
        assert_eq!(n.span.start_line, line_of(text, item));
    }
}

#[test]
fn missing_module_file_is_reported_once() {
    let lib = "\
pub mod present;
pub mod shared;

/// Declared, never written.
pub mod absent;

pub fn lib_fn() -> u32 { present::here() }
";
    // The binary includes the same file as the library: its problem is still reported once.
    // (Through `#[path]` the binary would look for `gone` elsewhere, a different problem.)
    let main = "mod shared;\n\nfn main() { shared::s(); }\n";
    let shared = "pub mod gone;\n\npub fn s() {}\n";
    let p = Project::new(
        "missing",
        &[
            ("src/lib.rs", lib),
            ("src/main.rs", main),
            ("src/present.rs", "pub fn here() -> u32 { 1 }\n"),
            ("src/shared.rs", shared),
        ],
    );
    let (_, g) = index_checked(&p);
    // The problem is reported at the `mod` line itself, not at its doc comment (where the
    // item's span starts).
    assert_eq!(
        node(&g, "missing::absent").span.start_line,
        line_of(lib, "/// Declared, never written.")
    );
    let absent_line = line_of(lib, "pub mod absent;");
    assert_eq!(
        problems(&g),
        [
            ("src/lib.rs".to_string(), absent_line, false),
            ("src/shared.rs".to_string(), 1, false)
        ],
        "{:?}",
        g.skipped
    );
    let s = problem(&g, "src/lib.rs");
    assert!(s.reason.contains("`absent`"), "names the module: {s}");
    assert!(
        s.reason.contains("src/absent.rs") && s.reason.contains("src/absent/mod.rs"),
        "says where it looked: {s}"
    );
    // Everything else is there, in both targets.
    edge(
        &g,
        "missing::lib_fn",
        EdgeKind::Calls,
        "missing::present::here",
    );
    // The lib and the bin are both crates called `missing`: one `s` in each, with its own id.
    let s_ids: std::collections::BTreeSet<_> = g
        .nodes
        .iter()
        .filter(|n| n.path == "missing::shared::s")
        .map(|n| n.id)
        .collect();
    assert_eq!(s_ids.len(), 2);
    assert!(g
        .nodes
        .iter()
        .any(|n| n.kind == ItemKind::Fn && n.name == "main"));
    assert_eq!(g.crates.len(), 2);
    // The declared module is an (empty) node, so the declaration can still be found.
    assert_eq!(children(&g, "missing::absent"), 0);
}

#[test]
fn symlink_loops_do_not_hang() {
    use std::os::unix::fs::symlink;
    let lib = "\
pub mod real;
pub mod nest;
pub mod ping;

pub fn top() -> u32 { real::inner() }
";
    let p = Project::new(
        "loops",
        &[
            ("src/lib.rs", lib),
            ("src/real.rs", "pub fn inner() -> u32 { 7 }\n"),
            // `nest` declares a child `nest`, and `src/nest/nest` links back to `src/nest`:
            // following modules through the link never reaches a fixed point by path.
            ("src/nest/mod.rs", "pub mod nest;\npub fn level() {}\n"),
        ],
    );
    // A directory that contains a link to itself, one to its parent, and a link to the tree root.
    std::fs::create_dir_all(p.path("src/cycle")).unwrap();
    symlink(".", p.path("src/cycle/self")).unwrap();
    symlink("..", p.path("src/cycle/up")).unwrap();
    symlink("../..", p.path("src/cycle/root")).unwrap();
    p.write("src/cycle/orphan.rs", "pub fn orphan() {}\n");
    // File links that point at each other (resolving them fails with ELOOP).
    symlink("pong.rs", p.path("src/ping.rs")).unwrap();
    symlink("ping.rs", p.path("src/pong.rs")).unwrap();
    symlink(".", p.path("src/nest/nest")).unwrap();

    let (report, took) = index_within(&p, &p.db("db"), Duration::from_secs(60));
    eprintln!("took {took:?}; problems: {:#?}", report.skipped);
    let g = load(&p.db("db"));
    assert_eq!(report.skipped, g.skipped);

    // The real items are indexed once, under their own paths (not through a link).
    edge(&g, "loops::top", EdgeKind::Calls, "loops::real::inner");
    assert_eq!(g.nodes.iter().filter(|n| n.name == "inner").count(), 1);
    assert!(
        g.files.iter().all(|f| !f.path.contains("cycle/")),
        "links to directories are not followed"
    );
    node(&g, "loops::nest::level");

    // `ping`'s file cannot be resolved: reported once, at its declaration.
    let ping: Vec<&Skipped> = g
        .skipped
        .iter()
        .filter(|s| s.reason.contains("`ping`"))
        .collect();
    assert_eq!(ping.len(), 1, "{:?}", g.skipped);
    assert_eq!(
        (ping[0].path.as_str(), ping[0].line),
        ("src/lib.rs", line_of(lib, "pub mod ping;"))
    );

    // `nest` reaches itself again through the link: one module cycle, reported once at the
    // declaration, and the items of `nest` are indexed once (not once per link hop).
    assert_eq!(g.nodes.iter().filter(|n| n.name == "level").count(), 1);
    let cycle: Vec<&Skipped> = g
        .skipped
        .iter()
        .filter(|s| s.reason.contains("`nest`"))
        .collect();
    assert_eq!(cycle.len(), 1, "{:?}", g.skipped);
    assert_eq!(
        (cycle[0].path.as_str(), cycle[0].line),
        ("src/nest/mod.rs", 1)
    );
    assert!(
        cycle[0].reason.contains("cycle") && cycle[0].reason.contains("src/nest/mod.rs"),
        "{}",
        cycle[0]
    );
    assert_eq!(children(&g, "loops::nest::nest"), 0);
    assert_eq!(g.skipped.len(), 2, "{:?}", g.skipped);
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn module_cycles_and_files_included_twice() {
    let lib = "\
#[path = \"common.rs\"]
pub mod first;
#[path = \"common.rs\"]
pub mod second;
#[path = \"lib.rs\"]
mod itself;
pub mod sub;

pub fn top() {}
";
    let p = Project::new(
        "cyc",
        &[
            ("src/lib.rs", lib),
            ("src/common.rs", "pub fn shared() {}\n"),
            ("src/sub.rs", "pub mod back;\n"),
            // A grandchild that points back at the crate root.
            (
                "src/sub/back.rs",
                "#[path = \"../lib.rs\"]\npub mod root_again;\npub fn b() {}\n",
            ),
        ],
    );
    let (_, g) = index_checked(&p);
    // The first declaration gets the file; the second is reported (a file is indexed once).
    node(&g, "cyc::first::shared");
    assert_eq!(children(&g, "cyc::second"), 0);
    node(&g, "cyc::sub::back::b");
    let at = |s: &Skipped| (s.path.clone(), s.line);
    let mut found: Vec<(String, u32)> = g.skipped.iter().map(at).collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("src/lib.rs".to_string(), line_of(lib, "pub mod second;")),
            ("src/lib.rs".to_string(), line_of(lib, "mod itself;")),
            ("src/sub/back.rs".to_string(), 2), // the `pub mod root_again;` line
        ],
        "{:#?}",
        g.skipped
    );
    for s in &g.skipped {
        assert!(!s.reason.contains("symbolic link"), "no link involved: {s}");
        if s.reason.contains("`second`") {
            assert!(
                s.reason.contains("src/common.rs") && s.reason.contains("already"),
                "{s}"
            );
        } else {
            assert!(
                s.reason.contains("module cycle") && s.reason.contains("src/lib.rs"),
                "{s}"
            );
        }
    }
}

/// A file the module tree needs that cannot be read is one whole-file problem with the
/// system's reason, and everything else is still indexed.
///
/// The unreadable file is a link to `/proc/self/mem`: a regular file to `stat`, whose read
/// fails for every user, root included (offset 0 of a process's memory is never mapped, so
/// reading there is an I/O error). A mode-000 file would not do: root (CI runs as root) reads
/// it anyway, and the test would check nothing.
#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_is_reported_once() {
    let lib = "pub mod locked;\npub mod open;\npub fn f() -> u32 { open::g() }\n";
    let p = Project::new(
        "perm",
        &[
            ("src/lib.rs", lib),
            ("src/open.rs", "pub fn g() -> u32 { 1 }\n"),
        ],
    );
    let locked = p.path("src/locked.rs");
    std::os::unix::fs::symlink("/proc/self/mem", &locked).unwrap();
    // The precondition, checked: the module file is there, and no one can read it.
    assert!(locked.is_file(), "{} is a file", locked.display());
    let why = std::fs::read(&locked)
        .expect_err("reading /proc/self/mem from offset 0 fails")
        .to_string();
    let (_, g) = index_checked(&p);
    let s = problem(&g, "src/locked.rs");
    assert!(s.whole_file, "{s}");
    assert!(s.reason.contains("could not read"), "{s}");
    assert!(s.reason.contains(&why), "the system's reason ({why}): {s}");
    assert_eq!(g.skipped.len(), 1, "{:?}", g.skipped);
    assert_eq!(children(&g, "perm::locked"), 0);
    edge(&g, "perm::f", EdgeKind::Calls, "perm::open::g");
}

#[test]
fn all_problems_at_once_each_reported_exactly_once() {
    use std::os::unix::fs::symlink;
    let lib = "\
pub mod syntax;
pub mod latin1;
pub mod empty;
pub mod missing;
pub mod good;

pub fn entry() -> u32 { good::work() + syntax::fine() }
";
    let p = Project::new(
        "everything",
        &[
            ("src/lib.rs", lib),
            (
                "src/syntax.rs",
                "pub fn fine() -> u32 { 1 }\nfn nope() { let = ; }\npub fn also_fine() {}\n",
            ),
            ("src/empty.rs", ""),
            (
                "src/good.rs",
                "pub fn work() -> u32 { helper() }\nfn helper() -> u32 { 2 }\n",
            ),
            // Not in the module tree: never reported, never indexed.
            ("src/orphan.rs", "fn orphan( {\n"),
        ],
    );
    p.write("src/latin1.rs", b"pub fn x() {}\n\xff\xfe\n");
    symlink(".", p.path("src/loop")).unwrap();
    let (report, g) = index_checked(&p);
    assert_eq!(
        problems(&g),
        [
            ("src/latin1.rs".to_string(), 2, true),
            ("src/lib.rs".to_string(), 4, false),
            ("src/syntax.rs".to_string(), 2, false),
        ],
        "{:#?}",
        g.skipped
    );
    assert_eq!(
        fns(&g),
        [
            "everything::entry",
            "everything::good::helper",
            "everything::good::work",
            "everything::syntax::also_fine",
            "everything::syntax::fine",
        ]
    );
    assert_eq!(report.orphan_files, ["src/orphan.rs"]);
    edge(
        &g,
        "everything::good::work",
        EdgeKind::Calls,
        "everything::good::helper",
    );
    edge(
        &g,
        "everything::entry",
        EdgeKind::Calls,
        "everything::syntax::fine",
    );
}

/// Set (to a project root) in the child processes that `deep_code_never_crashes_the_run`
/// starts: this test binary again, filtered to that test, which then only indexes the project
/// there. A stack overflow aborts the whole process, which only a separate process can observe
/// and survive.
const CHILD_ENV: &str = "PLOKE_TEST_INDEX_IN_CHILD";

#[test]
fn deep_code_never_crashes_the_run() {
    if let Some(root) = std::env::var_os(CHILD_ENV) {
        // The child: index, and let the parent below judge how that went.
        let root = std::path::PathBuf::from(root);
        common::index_dir(&root, &root.with_file_name("db"));
        return;
    }
    // Shapes syn parses (or that are dropped / visited) recursively without brackets nesting.
    let cases: Vec<(&str, String)> = vec![
        (
            "else-if chain",
            format!(
                "pub fn deep(x: u32) -> u8 {{ if x == 0 {{ 1 }} {}else {{ 2 }} }}",
                "else if x == 1 { 1 } ".repeat(30_000)
            ),
        ),
        (
            "closure chain",
            format!("pub fn deep() {{ let _ = {}1; }}", "|x| ".repeat(5_000)),
        ),
        (
            "return chain",
            format!("pub fn deep() {{ {}; }}", "return ".repeat(5_000)),
        ),
        (
            "sum chain",
            format!("pub fn deep() -> u64 {{ 1{} }}", " + 1".repeat(30_000)),
        ),
        (
            "cast chain",
            format!("pub fn deep() -> u8 {{ 1{} }}", " as u8".repeat(20_000)),
        ),
        (
            "assignment chain",
            format!(
                "pub fn deep() {{ let mut a = 0; {}1; }}",
                "a = ".repeat(20_000)
            ),
        ),
    ];
    let mut failed = Vec::new();
    for (name, body) in cases {
        let lib = format!("pub fn before() {{}}\n{body}\npub fn after() {{}}\n");
        let p = Project::new("deep", &[("src/lib.rs", &lib)]);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "deep_code_never_crashes_the_run",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &p.root)
            .output()
            .unwrap();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(3).collect();
            failed.push(format!("{name}: the run died ({}): {tail:?}", out.status));
            continue;
        }
        let g = load(&p.db("db"));
        assert!(
            has_node(&g, "deep::before") && has_node(&g, "deep::after"),
            "{name}: the rest is indexed"
        );
        assert!(
            has_node(&g, "deep::deep") || g.skipped.len() == 1,
            "{name}: indexed or reported: {:?}",
            g.skipped
        );
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
