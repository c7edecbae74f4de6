//! `ploke watch`, the live index, against the real binary: it runs as a process of its own
//! while the test edits the workspace, other `ploke` processes read the index it writes, and
//! the test stops it with Ctrl-C (SIGINT) or kills it (SIGKILL) mid-update.
//!
//! What `watch` prints (crates/ploke/src/cmd.rs): one line per update on stdout,
//! `generation G: N files (a, b, c and M more), I items changed, X ms` (a JSON object per
//! line with `--json`); on stderr `watching ROOT (Ctrl-C stops)` once the first
//! index is written and the watcher runs, and `stopping…` on Ctrl-C, after which it exits 0.
//!
//! Every wait polls with a deadline that only a failure reaches. The tests on a real crate
//! (tokio 1.38.0, fetched into the cargo cache by `ploke_test_support::registry_crate`) take
//! some seconds each; the long kill run is `#[ignore]`d (`cargo test -p ploke --test watch --
//! --ignored`), the same code runs for a few moments in the normal suite.

// The tests say how long things took.
#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    json, no_panic, ok, one_error_line, ploke, run_for, write_atomic, Out, Running, Stream,
};
use ploke_test_support::{line_of, registry_crate, Project};
use serde_json::Value;

/// The longest a test waits for something that takes milliseconds (a failure limit only:
/// every wait polls and returns as soon as the thing happened).
const LIMIT: Duration = Duration::from_secs(30);

/// How long Ctrl-C may take to stop the live index.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// What `watch` says on stderr once it is ready.
fn ready_line(root: &Path) -> String {
    format!(
        "watching {} (Ctrl-C stops)",
        root.canonicalize().unwrap().display()
    )
}

/// `ploke watch` (with `args`) in `dir`, once ready: its first index is written and the
/// watcher runs.
#[track_caller]
fn start_watch(dir: &Path, args: &[&str]) -> Running {
    let mut all = vec!["watch"];
    all.extend_from_slice(args);
    let mut w = Running::spawn(&mut ploke(dir, &all));
    let ready = ready_line(dir);
    w.wait_line(Stream::Stderr, 0, LIMIT, |l| l == ready);
    w
}

/// Ctrl-C: the live index stops within [`STOP_LIMIT`], exits 0 and says only that it watched
/// and stopped.
#[track_caller]
fn interrupt(mut w: Running, root: &Path) -> Out {
    let t = Instant::now();
    w.signal("INT");
    let out = w.wait(STOP_LIMIT);
    let took = t.elapsed();
    no_panic(&out);
    assert_eq!(out.code, Some(0), "Ctrl-C is a clean stop:\n{}", out.show());
    assert_eq!(
        out.stderr.lines().collect::<Vec<_>>(),
        [ready_line(root).as_str(), "stopping…"],
        "{}",
        out.show()
    );
    eprintln!("watch stopped {took:?} after Ctrl-C");
    out
}

/// One update line of `watch`.
#[derive(Debug)]
struct UpdateLine {
    generation: u64,
    /// The number of files.
    files: usize,
    /// The files named (at most three).
    shown: Vec<String>,
    /// Items written or removed.
    items: usize,
    ms: u64,
}

/// `generation G: N files (a, b, c and M more), I items changed, X ms` (`1 file`, `1 item`,
/// `0 files` without a list, `1.25 s` from a second up), with N the files named plus M (at
/// most three named; "and M more" only when more).
fn parse_update(line: &str) -> Option<UpdateLine> {
    let rest = line.strip_prefix("generation ")?;
    let (generation, rest) = rest.split_once(": ")?;
    let (files, rest) = rest.split_once(' ')?;
    let rest = match files {
        "1" => rest.strip_prefix("file")?,
        _ => rest.strip_prefix("files")?,
    };
    let (list, rest) = match rest.strip_prefix(", ") {
        Some(rest) => ("", rest),
        None => rest.strip_prefix(" (")?.split_once("), ")?,
    };
    let (list, more) = match list.split_once(" and ") {
        Some((l, m)) => (l, m.strip_suffix(" more")?.parse::<usize>().ok()?),
        None => (list, 0),
    };
    let shown: Vec<String> = if list.is_empty() {
        Vec::new()
    } else {
        list.split(", ").map(str::to_string).collect()
    };
    let (items, rest) = match rest.split_once(" item changed, ") {
        Some(("1", rest)) => ("1", rest),
        Some(_) => return None,
        None => rest.split_once(" items changed, ")?,
    };
    let ms = match rest.strip_suffix(" s") {
        Some(s) => format!("{:.0}", s.parse::<f64>().ok()? * 1000.0),
        None => rest.strip_suffix(" ms")?.to_string(),
    };
    let u = UpdateLine {
        generation: generation.parse().ok()?,
        files: files.parse().ok()?,
        shown,
        items: items.parse().ok()?,
        ms: ms.parse().ok()?,
    };
    let named_right =
        u.files == u.shown.len() + more && u.shown.len() <= 3 && (more == 0 || u.shown.len() == 3);
    named_right.then_some(u)
}

/// The next update line after the first `from` lines of stdout: its index and the update.
#[track_caller]
fn next_update(w: &mut Running, from: usize) -> (usize, UpdateLine) {
    let (i, line) = w.wait_line(Stream::Stdout, from, LIMIT, |_| true);
    let u =
        parse_update(&line).unwrap_or_else(|| panic!("not an update line: {line:?}\n{}", w.show()));
    (i, u)
}

/// The next `--json` update after the first `from` lines of stdout whose files include
/// `file`; every line before it must be an update too.
#[track_caller]
fn next_json_update_with(w: &mut Running, from: usize, file: &str) -> (usize, Value) {
    let mut from = from;
    loop {
        let (i, line) = w.wait_line(Stream::Stdout, from, LIMIT, |_| true);
        let v = json(&line);
        assert_eq!(v["event"], "updated", "{line}");
        for key in [
            "generation",
            "rows",
            "items",
            "targets",
            "ms",
            "index_ms",
            "snapshot_ms",
        ] {
            assert!(v[key].is_number(), "{key} in {line}");
        }
        let files = v["files"].as_array().expect("files").clone();
        if files.iter().any(|f| f == file) {
            return (i, v);
        }
        from = i + 1;
    }
}

/// `ploke search QUERY --json` in `dir` (a reader in another process).
#[track_caller]
fn search(dir: &Path, query: &str) -> Value {
    json(&ok(&mut ploke(dir, &["search", query, "--json"])).stdout)
}

/// The hits named `name`.
fn named<'a>(hits: &'a Value, name: &str) -> Vec<&'a Value> {
    hits.as_array()
        .unwrap()
        .iter()
        .filter(|h| h["name"] == name)
        .collect()
}

/// The one hit named `name` is the function at `file` lines `start..=end` (its doc comment
/// to its closing brace).
#[track_caller]
fn found_at(hits: &Value, name: &str, file: &str, start: u32, end: u32) {
    let found = named(hits, name);
    assert_eq!(found.len(), 1, "one `{name}`: {hits:#}");
    let h = found[0];
    assert_eq!(h["kind"], "fn", "{h:#}");
    assert_eq!(h["file"], file, "{h:#}");
    assert_eq!(h["start_line"], start, "{h:#}");
    assert_eq!(h["end_line"], end, "{h:#}");
}

/// `ploke index --no-embed --json` with `extra` arguments; fails (rather than waits) when
/// another process holds the write lock, with `--no-wait` in `extra`.
#[track_caller]
fn index_json(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["index", "--no-embed", "--json"];
    args.extend_from_slice(extra);
    let out = run_for(&mut ploke(dir, &args), Duration::from_secs(120));
    no_panic(&out);
    assert!(out.ok(), "ploke {}:\n{}", args.join(" "), out.show());
    json(&out.stdout)
}

/// What an index summary says about the graph: equal for two indexes of the same files.
fn graph_counts(v: &Value) -> Value {
    let keys = [
        "packages",
        "targets",
        "files",
        "lines",
        "items",
        "edges",
        "unresolved",
        "skipped",
        "orphan_files",
    ];
    keys.iter()
        .map(|k| (k.to_string(), v[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The index in `dir/.ploke` answers `queries` as a clean index of the same files (made now
/// into `clean`) does: the check of `concurrent_index_runs_leave_what_a_clean_index_holds`
/// (tests/hardening.rs), plus the graph's counts. `live` is an index summary of
/// `dir/.ploke`. Returns the results of each query.
#[track_caller]
fn same_as_clean_index(dir: &Path, live: &Value, clean: &Path, queries: &[String]) -> Vec<Value> {
    let clean_s = clean.to_str().unwrap();
    let fresh = index_json(dir, &["--db", clean_s]);
    assert_eq!(graph_counts(live), graph_counts(&fresh));
    // One process each for all the queries.
    let batch: String = queries
        .iter()
        .enumerate()
        .map(|(i, q)| format!("{}\n", serde_json::json!({"id": i, "query": q})))
        .collect();
    let batch_file = clean.with_extension("queries.jsonl");
    std::fs::write(&batch_file, batch).unwrap();
    let batch_s = batch_file.to_str().unwrap();
    let shared = ok(&mut ploke(dir, &["search", "--batch", batch_s, "-k", "20"])).stdout;
    let fresh = ok(&mut ploke(
        dir,
        &["search", "--batch", batch_s, "-k", "20", "--db", clean_s],
    ))
    .stdout;
    let shared: Vec<Value> = shared.lines().map(json).collect();
    let fresh: Vec<Value> = fresh.lines().map(json).collect();
    assert_eq!(shared.len(), queries.len());
    for (q, (a, b)) in queries.iter().zip(shared.iter().zip(&fresh)) {
        assert_eq!(a, b, "query {q:?}");
    }
    shared.into_iter().map(|v| v["results"].clone()).collect()
}

// ---------------------------------------------------------------------------------------
// 1. An edit reaches readers; Ctrl-C stops cleanly.

const LIB: &str = "/// Greets the caller.\npub fn hello_there() -> u32 {\n    1\n}\n";

#[test]
fn an_edit_reaches_a_reader_in_another_process_and_ctrl_c_stops_cleanly() {
    let p = Project::new("live", &[("src/lib.rs", LIB)]);
    let dir = &p.root;
    // No index yet: the live index makes it.
    let mut w = start_watch(dir, &[]);
    let (i0, first) = next_update(&mut w, 0);
    // The whole crate: its root and `hello_there`.
    assert_eq!(
        (first.files, first.shown.as_slice()),
        (1, &["src/lib.rs".to_string()][..])
    );
    assert_eq!(first.items, 2, "{first:?}");
    // A reader of the first index (its process opens the index and closes it again).
    found_at(
        &search(dir, "hello_there"),
        "hello_there",
        "src/lib.rs",
        1,
        4,
    );

    // A new function, saved as an editor saves.
    let text = format!(
        "{LIB}\n/// Frobnicates the widgets.\npub fn frobnicate_widgets_zq() -> u32 {{\n    7\n}}\n"
    );
    write_atomic(&p.path("src/lib.rs"), &text);
    let (_, u) = next_update(&mut w, i0 + 1);
    assert!(u.generation > first.generation, "{u:?} after {first:?}");
    assert_eq!(
        (u.files, u.shown.as_slice()),
        (1, &["src/lib.rs".to_string()][..])
    );
    // One item new, none other changed (nothing above it moved).
    assert_eq!(u.items, 1, "{u:?}");
    assert!(u.ms < LIMIT.as_millis() as u64, "{u:?}");
    // Once the update is printed, a reader in another process finds the function, at its
    // lines, while the live index keeps running.
    let start = line_of(&text, "/// Frobnicates the widgets.");
    found_at(
        &search(dir, "frobnicate_widgets_zq"),
        "frobnicate_widgets_zq",
        "src/lib.rs",
        start,
        start + 3,
    );
    assert!(w.running(), "{}", w.show());

    let out = interrupt(w, dir);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.show());

    // The writer's lock went with it (`--no-wait` fails on a held lock), and the index holds
    // what the files hold: nothing to parse or write, the same as a clean index.
    let after = index_json(dir, &["--no-wait"]);
    assert_eq!(after["parsed_files"], 0, "{after:#}");
    assert_eq!(after["delta_rows"], 0, "{after:#}");
    same_as_clean_index(
        dir,
        &after,
        &p.db("clean"),
        &[
            "frobnicate widgets".into(),
            "hello there".into(),
            "live".into(),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// 2. A file deleted, a module added.

#[test]
fn a_deleted_file_and_a_new_module_reach_readers() {
    let p = Project::new(
        "modules",
        &[
            (
                "src/lib.rs",
                "pub mod gone;\n\n/// Stays.\npub fn keep_me_qx() -> u8 {\n    0\n}\n",
            ),
            (
                "src/gone.rs",
                "/// Goes away.\npub fn vanishing_gadget_qx() -> u8 {\n    1\n}\n",
            ),
        ],
    );
    let dir = &p.root;
    let mut w = start_watch(dir, &["--json"]);
    let (i0, _) = next_json_update_with(&mut w, 0, "src/gone.rs");
    found_at(
        &search(dir, "vanishing_gadget_qx"),
        "vanishing_gadget_qx",
        "src/gone.rs",
        1,
        4,
    );

    // The file goes, and its declaration with it.
    write_atomic(
        &p.path("src/lib.rs"),
        "/// Stays.\npub fn keep_me_qx() -> u8 {\n    0\n}\n",
    );
    p.remove("src/gone.rs");
    let (i1, _) = next_json_update_with(&mut w, i0 + 1, "src/gone.rs");
    let hits = search(dir, "vanishing_gadget_qx");
    assert!(named(&hits, "vanishing_gadget_qx").is_empty(), "{hits:#}");
    found_at(&search(dir, "keep_me_qx"), "keep_me_qx", "src/lib.rs", 1, 4);

    // A new module file, then its declaration.
    p.write(
        "src/extra.rs",
        "//! More.\n\n/// Turns the sprocket.\npub fn sprocket_extra_qx() -> u8 {\n    2\n}\n",
    );
    write_atomic(
        &p.path("src/lib.rs"),
        "pub mod extra;\n\n/// Stays.\npub fn keep_me_qx() -> u8 {\n    0\n}\n",
    );
    // The file alone is in no module tree; the update that takes in the declaration names
    // it (an update names the files whose items it changed).
    next_json_update_with(&mut w, i1 + 1, "src/extra.rs");
    found_at(
        &search(dir, "sprocket_extra_qx"),
        "sprocket_extra_qx",
        "src/extra.rs",
        3,
        6,
    );
    found_at(&search(dir, "keep_me_qx"), "keep_me_qx", "src/lib.rs", 3, 6);
    let hits = search(dir, "vanishing_gadget_qx");
    assert!(named(&hits, "vanishing_gadget_qx").is_empty(), "{hits:#}");

    interrupt(w, dir);
    let after = index_json(dir, &["--no-wait"]);
    assert_eq!(after["delta_rows"], 0, "{after:#}");
    same_as_clean_index(
        dir,
        &after,
        &p.db("clean"),
        &[
            "sprocket extra".into(),
            "vanishing gadget".into(),
            "keep me".into(),
            "extra".into(),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// 3. One live index per index.

#[test]
fn a_second_watch_of_the_same_index_is_refused_and_the_first_keeps_working() {
    let p = Project::new("twice", &[("src/lib.rs", LIB)]);
    let dir = &p.root;
    let mut w = start_watch(dir, &[]);
    let (i0, _) = next_update(&mut w, 0);
    let root = dir.canonicalize().unwrap();
    let root_s = root.to_str().unwrap().to_string();
    let db_s = root.join(".ploke").to_str().unwrap().to_string();
    let want = format!(
        "error: watching {root_s}: ploke watch (pid {}) keeps this index live already",
        w.pid()
    );
    // The same index named three ways: from its root, by path from elsewhere, by --db.
    for (cwd, args) in [
        (root.clone(), vec!["watch"]),
        (p.tmp.path().to_path_buf(), vec!["watch", &root_s]),
        (root.join("src"), vec!["watch", "--db", &db_s]),
    ] {
        let t = Instant::now();
        let out = run_for(&mut ploke(&cwd, &args), LIMIT);
        let took = t.elapsed();
        assert_eq!(one_error_line(&out), want, "{}", out.show());
        assert_eq!(out.stdout, "", "{}", out.show());
        assert!(took < STOP_LIMIT, "refused only after {took:?}");
        assert!(w.running(), "{}", w.show());
    }

    // The first one still takes in changes, and readers see them.
    let text = format!(
        "{LIB}\n/// Counts the sheep twice.\npub fn count_sheep_twice() -> u32 {{\n    2\n}}\n"
    );
    write_atomic(&p.path("src/lib.rs"), &text);
    let (i1, u) = next_update(&mut w, i0 + 1);
    assert_eq!(
        (u.shown.as_slice(), u.items),
        (&["src/lib.rs".to_string()][..], 1)
    );
    let start = line_of(&text, "/// Counts the sheep twice.");
    found_at(
        &search(dir, "count_sheep_twice"),
        "count_sheep_twice",
        "src/lib.rs",
        start,
        start + 3,
    );
    assert_eq!(w.lines(Stream::Stdout).len(), i1 + 1, "{}", w.show());
    interrupt(w, dir);

    // Stopped, it holds the index no more: a new live index starts.
    let again = start_watch(dir, &[]);
    interrupt(again, dir);
}

// ---------------------------------------------------------------------------------------
// 4. A real crate: a burst of edits taken in whole, and kill -9 mid-update.

/// A published crate big enough that an update of a burst of edits takes a while.
const KILL_CRATE: &str = "tokio";
const KILL_VERSION: &str = "1.38.0";
/// Files edited in one burst.
const BURST: usize = 50;

/// When the live index is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after the burst of edits was written.
    After(Duration),
    /// As soon as its update holds the index's write lock (it reads, parses and writes).
    HoldingTheLock,
    /// As soon as its update writes to the database's log.
    Writing,
    /// As soon as it printed the update (written, its cache not saved yet).
    AfterTheUpdate,
}

/// A function name no other item has, whose last word is unique to (`round`, `file`):
/// letters only (numbers are no search terms).
fn marker(round: usize, file: usize) -> String {
    const L: &[u8] = b"bcdfghjklmnpqrtvwxz";
    let mut n = round * BURST + file;
    let mut code = String::new();
    for _ in 0..4 {
        code.push(L[n % L.len()] as char);
        n /= L.len();
    }
    format!("kilnmark_zq{code}")
}

/// `BURST` source files of the crate that are in a module tree (not `orphans`), spread over
/// it, `src/lib.rs` first.
fn burst_files(dir: &Path, orphans: &[String]) -> Vec<String> {
    let mut all: Vec<String> = common::files_under(&dir.join("src"))
        .iter()
        .map(|f| f.strip_prefix(dir).unwrap().to_str().unwrap().to_string())
        .filter(|f| f.ends_with(".rs") && f != "src/lib.rs" && !orphans.contains(f))
        .collect();
    all.sort();
    assert!(all.len() >= 2 * BURST, "{} files", all.len());
    let step = all.len() / BURST;
    let mut files = vec!["src/lib.rs".to_string()];
    files.extend(all.into_iter().step_by(step).take(BURST - 1));
    files
}

/// A copy of the real crate, indexed, and the `BURST` files to edit in it.
fn real_crate() -> (Project, Vec<String>) {
    let src = registry_crate(KILL_CRATE, KILL_VERSION);
    let p = Project::copy_of(&src, KILL_CRATE);
    let first = index_json(&p.root, &[]);
    let orphans: Vec<String> = first["orphan_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    let files = burst_files(&p.root, &orphans);
    (p, files)
}

/// The burst of edits: function `names[i]` appended to `files[i]`.
fn append_markers(dir: &Path, files: &[String], names: &[String], round: usize) {
    use std::io::Write;
    for (f, name) in files.iter().zip(names) {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(f))
            .unwrap();
        write!(
            file,
            "\n/// Marks round {round} of the test.\npub fn {name}() -> usize {{\n    {round}\n}}\n"
        )
        .unwrap();
    }
}

/// Modified time (ns) of `path`, 0 when it does not exist.
fn mtime_ns(path: &Path) -> u128 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
        .unwrap_or(0)
}

/// What the holder of the write lock wrote into it (empty once released cleanly).
fn lock_holder(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".ploke/write.lock")).unwrap_or_default()
}

/// A burst of edits to a real crate: the live index takes it in, and what it wrote is what a
/// clean index of the files holds (after Ctrl-C, `ploke index` has nothing to write).
#[test]
fn a_burst_of_edits_to_a_real_crate_leaves_what_a_clean_index_holds() {
    let (p, files) = real_crate();
    let dir = &p.root;
    let mut w = start_watch(dir, &["--json"]);
    let (i0, _) = w.wait_line(Stream::Stdout, 0, LIMIT, |_| true);
    let names: Vec<String> = (0..files.len()).map(|i| marker(0, i)).collect();
    append_markers(dir, &files, &names, 0);
    // Until every edited file was named by an update (one, or a few).
    let mut seen: Vec<String> = Vec::new();
    let mut from = i0 + 1;
    while !files.iter().all(|f| seen.contains(f)) {
        let (i, line) = w.wait_line(Stream::Stdout, from, LIMIT, |_| true);
        let v = json(&line);
        assert_eq!(v["event"], "updated", "{line}");
        seen.extend(
            v["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string()),
        );
        from = i + 1;
    }
    let out = interrupt(w, dir);
    assert!(
        out.stdout.lines().all(|l| json(l)["event"] == "updated"),
        "{}",
        out.show()
    );
    let after = index_json(dir, &["--no-wait"]);
    assert_eq!(after["parsed_files"], 0, "{after:#}");
    assert_eq!(
        after["delta_rows"], 0,
        "the live index wrote what a clean index holds: {after:#}"
    );
    let mut queries = names.clone();
    queries.extend(["spawn a task", "oneshot sender closed", "mutex lock"].map(String::from));
    let results = same_as_clean_index(dir, &after, &p.db("clean"), &queries);
    for (name, hits) in names.iter().zip(&results) {
        assert_eq!(&hits[0]["name"], name.as_str(), "{hits:#}");
    }
}

/// Each round: the live index runs on a copy of a real crate, a burst of edits appends a new
/// function to each of `BURST` files, the live index is killed (SIGKILL) at `kills[round]`.
/// Then `ploke index` opens the database (exit 0, without waiting for a lock the killed
/// process held), the index equals a clean index of the same files, and every new function
/// is found at its file and lines. The next round's live index starts on what the killed one
/// left (its `watch.lock` too).
fn kill_mid_update(kills: &[Kill]) {
    let (p, files) = real_crate();
    let dir = &p.root;
    let wal = dir.join(".ploke/graph.db-wal");
    for (round, kill) in kills.iter().enumerate() {
        let t_round = Instant::now();
        let mut w = start_watch(dir, &["--no-embed"]);
        // The first update (what changed while nothing watched) is done once ready.
        let (i0, _) = next_update(&mut w, 0);
        let names: Vec<String> = (0..files.len()).map(|i| marker(round, i)).collect();
        let wal_before = mtime_ns(&wal);
        if matches!(kill, Kill::Writing) {
            assert!(wal.is_file(), "round {round}: no database log to watch");
        }
        let t = Instant::now();
        append_markers(dir, &files, &names, round);
        let burst = t.elapsed();
        let holder = format!("ploke watch (pid {})", w.pid());
        match kill {
            Kill::After(d) => std::thread::sleep(*d),
            Kill::AfterTheUpdate => {
                next_update(&mut w, i0 + 1);
            }
            Kill::HoldingTheLock | Kill::Writing => {
                let writing = matches!(kill, Kill::Writing);
                let deadline = Instant::now() + LIMIT;
                while !(lock_holder(dir) == holder && (!writing || mtime_ns(&wal) != wal_before)) {
                    assert!(
                        w.lines(Stream::Stdout).len() == i0 + 1,
                        "round {round} ({kill:?}): the update ended before the kill\n{}",
                        w.show()
                    );
                    assert!(Instant::now() < deadline, "round {round}: {}", w.show());
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        }
        let at = t.elapsed();
        let out = w.kill();
        no_panic(&out);
        let updated = out.stdout.lines().count() > i0 + 1;
        let held = lock_holder(dir) == holder;
        match kill {
            Kill::After(_) => {}
            Kill::HoldingTheLock | Kill::Writing => assert!(
                held && !updated,
                "round {round} ({kill:?}): killed mid-update\n{}",
                out.show()
            ),
            Kill::AfterTheUpdate => assert!(
                updated && !held,
                "round {round} ({kill:?}): killed after the update\n{}",
                out.show()
            ),
        }

        // The next writer does not wait for the dead one's lock, and finds the database
        // whole.
        let after = index_json(dir, &["--no-wait"]);
        let mut queries = names.clone();
        queries.extend(
            [
                "spawn a task",
                "runtime builder",
                "mutex lock",
                "tcp stream",
            ]
            .map(String::from),
        );
        let clean = p.db(&format!("clean-{round}"));
        let results = same_as_clean_index(dir, &after, &clean, &queries);
        for ((f, name), hits) in files.iter().zip(&names).zip(&results) {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            // The item's lines: its doc comment to its closing brace.
            let start = line_of(&text, &format!("pub fn {name}()")) - 1;
            let top = &hits[0];
            assert_eq!(
                (
                    &top["name"],
                    &top["file"],
                    &top["start_line"],
                    &top["end_line"]
                ),
                (
                    &Value::from(name.as_str()),
                    &Value::from(f.as_str()),
                    &Value::from(start),
                    &Value::from(start + 3)
                ),
                "round {round}: {hits:#}"
            );
        }
        std::fs::remove_dir_all(&clean).unwrap();
        eprintln!(
            "round {round}: {kill:?}: burst written in {burst:?}, killed {at:?} after it \
             (update printed: {updated}, write lock held: {held}); then index parsed {} files, \
             wrote {} rows; round {:?}",
            after["parsed_files"],
            after["delta_rows"],
            t_round.elapsed()
        );
    }
}

#[test]
fn a_live_index_killed_mid_update_leaves_an_index_the_next_run_completes() {
    // Before the update starts (its batch is being collected), mid-update as it takes the
    // lock and as it writes, and after it. Each round takes some seconds (a real crate
    // indexed twice): more moments, 20, 80 and 200 ms among them, are the long variant's.
    kill_mid_update(&[
        Kill::After(Duration::ZERO),
        Kill::HoldingTheLock,
        Kill::Writing,
        Kill::AfterTheUpdate,
    ]);
}

#[test]
#[ignore = "many rounds on a real crate (a few minutes); run with --ignored"]
fn a_live_index_killed_at_many_moments_leaves_an_index_the_next_run_completes() {
    let mut kills: Vec<Kill> = [0, 10, 20, 40, 80, 200]
        .into_iter()
        .chain((300..=3000).step_by(100))
        .map(|ms| Kill::After(Duration::from_millis(ms)))
        .collect();
    kills.extend([Kill::HoldingTheLock, Kill::Writing, Kill::AfterTheUpdate].repeat(3));
    kill_mid_update(&kills);
}
