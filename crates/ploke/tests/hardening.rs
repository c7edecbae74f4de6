//! Regression tests from a hostile-but-fair review, at the level of the real binary: each
//! runs `ploke` as processes in temp directories (concurrently where the review was about
//! concurrency) and checks exit codes, what is printed, what is written, and what a later
//! reader sees.
//!
//! The long stress run is `#[ignore]`d (`cargo test -p ploke --test hardening -- --ignored`);
//! the same code runs for a few seconds in the normal suite.

// Test helpers say what they measured or waited for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    files_under, finish, json, krate, lines, no_panic, ok, one_error_line, ploke, run, run_for,
    tempdir, write_atomic, write_files, Out,
};
use ploke_test_support::http::{Response, Server};
use ploke_test_support::openai::{completion, embeddings_reply, tool_call};
use ploke_test_support::{copy_dir, registry_crate};
use serde_json::{json, Value};

const LIB: &str = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    100 * backoff(attempt)\n}\n\nfn backoff(n: u32) -> u64 {\n    1 << n\n}\n";

/// `retry_delay` with a new base delay and a word no other text holds.
const NEW_FN: &str = "/// Waits a quintessential moment before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";

/// LIB after `NEW_FN` replaced `retry_delay`.
fn lib_after_edit() -> String {
    LIB.replace(
        "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    100 * backoff",
        "/// Waits a quintessential moment before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff",
    )
}

/// A crate `askt` holding LIB at `<tmp>/askt`, indexed unless `index` is false.
fn askt(tmp: &Path, index: bool) -> PathBuf {
    let dir = tmp.join("askt");
    krate(&dir, "askt", &[("src/lib.rs", LIB)]);
    if index {
        ok(&mut ploke(&dir, &["index"]));
    }
    dir
}

fn replace_retry_delay(id: &str) -> Value {
    completion(
        None,
        vec![tool_call(
            id,
            "replace_item",
            json!({"path": "retry_delay", "code": NEW_FN}),
        )],
    )
}

// ---------------------------------------------------------------------------------------
// 1. An edit that was not made is a failure.

#[test]
fn edit_without_a_proposed_edit_exits_1_and_writes_nothing() {
    let tmp = tempdir();
    let dir = askt(tmp.path(), true);
    let server = Server::start(|_, _| {
        Response::json(
            200,
            &completion(Some("The delay looks fine as it is."), vec![]),
        )
    });
    let out = run(ploke(
        &dir,
        &[
            "edit",
            "make the base retry delay 250 ms",
            "--base-url",
            &server.url_at("/v1"),
            "--model",
            "test",
            "--yes",
        ],
    )
    .env("PLOKE_API_KEY", "k"));
    no_panic(&out);
    assert_eq!(out.code, Some(1), "{}", out.show());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line:\n{}", out.show());
    assert!(
        errors[0].contains("the model proposed no edits")
            && errors[0].contains("nothing was written"),
        "{}",
        out.show()
    );
    assert!(
        !out.stdout.contains("applied"),
        "nothing applied:\n{}",
        out.show()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        LIB,
        "the file is untouched"
    );
    assert!(
        files_under(&dir.join(".ploke/journal")).is_empty(),
        "no journal entry: {:?}",
        files_under(&dir.join(".ploke/journal"))
    );
    // And there is nothing to undo.
    let undo = run(&mut ploke(&dir, &["undo"]));
    assert_eq!(undo.code, Some(1), "{}", undo.show());
}

// ---------------------------------------------------------------------------------------
// 2. A file that changes while the model works, before it proposes.

#[test]
fn a_file_changed_before_the_edit_is_proposed_is_reindexed_and_the_edit_lands_on_it() {
    let tmp = tempdir();
    let dir = askt(tmp.path(), true);
    let lib = dir.join("src/lib.rs");
    let touched = lib.clone();
    let server = Server::start(move |n, _| {
        if n == 0 {
            // Someone edits the file while the model thinks: a line above the item and
            // another item's body. ploke indexed the file before it asked the model.
            let text = std::fs::read_to_string(&touched).unwrap();
            let text = text.replace("    1 << n\n", "    1 << (n + 1)\n");
            std::fs::write(&touched, format!("//! Retry policy.\n\n{text}")).unwrap();
            Response::json(200, &replace_retry_delay("a"))
        } else {
            Response::json(200, &completion(Some("Done."), vec![]))
        }
    });
    let out = run(ploke(
        &dir,
        &[
            "edit",
            "make it 250",
            "--base-url",
            &server.url_at("/v1"),
            "--model",
            "test",
            "--yes",
        ],
    )
    .env("PLOKE_API_KEY", "k"));
    no_panic(&out);
    assert!(out.ok(), "{}", out.show());
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert!(
        seen[1].text().contains("ok: edit accepted") && !seen[1].text().contains("edit refused"),
        "the edit was accepted, not refused: {}",
        seen[1].text()
    );
    let want = format!(
        "//! Retry policy.\n\n{}",
        lib_after_edit().replace("    1 << n\n", "    1 << (n + 1)\n")
    );
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        want,
        "the edit lands on the new text and the other change is kept"
    );
    // The index holds the file as it is now.
    let v = json(&ok(&mut ploke(&dir, &["item", "retry_delay", "--json"])).stdout);
    let item = &v[0];
    let start = item["start_line"].as_u64().unwrap();
    let end = item["end_line"].as_u64().unwrap();
    assert_eq!(start, 3, "{item:#}");
    assert_eq!(item["source"].as_str().unwrap(), lines(&want, start, end));
    assert!(item["source"].as_str().unwrap().contains("250 * backoff"));
}

// ---------------------------------------------------------------------------------------
// 3. --db DIR for index, edit and undo.

#[test]
fn db_dir_holds_index_and_journal_for_index_edit_and_undo() {
    let tmp = tempdir();
    let dir = askt(tmp.path(), false);
    let db = tmp.path().join("elsewhere");
    let db_s = db.to_str().unwrap().to_string();
    let dot = dir.join(".ploke");
    ok(&mut ploke(&dir, &["index", "--db", &db_s]));
    assert!(db.join("graph.db").is_file());
    assert!(!dot.exists(), "no .ploke after index --db");

    let server = Server::start(|n, _| match n {
        0 => Response::json(200, &replace_retry_delay("a")),
        _ => Response::json(200, &completion(Some("Done."), vec![])),
    });
    let out = run(ploke(
        &dir,
        &[
            "edit",
            "make the base retry delay 250 ms",
            "--db",
            &db_s,
            "--base-url",
            &server.url_at("/v1"),
            "--model",
            "test",
            "--yes",
        ],
    )
    .env("PLOKE_API_KEY", "k"));
    assert!(out.ok(), "{}", out.show());
    assert!(out.stdout.contains("applied edit #"), "{}", out.show());
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        lib_after_edit()
    );
    assert!(!dot.exists(), "no .ploke after edit --db");
    assert!(
        !files_under(&db.join("journal")).is_empty(),
        "the journal is in DIR/journal: {:?}",
        files_under(&db)
    );

    // The index in DIR was brought up to date by the edit.
    let hits = json(
        &ok(&mut ploke(
            &dir,
            &["search", "quintessential", "--db", &db_s, "--json"],
        ))
        .stdout,
    );
    assert_eq!(
        hits[0]["name"], "retry_delay",
        "the edited text is found in DIR's index: {hits:#}"
    );
    let item = json(
        &ok(&mut ploke(
            &dir,
            &["item", "retry_delay", "--db", &db_s, "--json"],
        ))
        .stdout,
    );
    assert!(
        item[0]["source"]
            .as_str()
            .unwrap()
            .contains("250 * backoff"),
        "{item:#}"
    );

    let out = ok(&mut ploke(&dir, &["undo", "--db", &db_s]));
    assert!(out.stdout.contains("undid edit #"), "{}", out.show());
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        LIB
    );
    assert!(!dot.exists(), "no .ploke after undo --db");
    let after = run(&mut ploke(
        &dir,
        &["search", "quintessential", "--db", &db_s, "--json"],
    ));
    assert_eq!(after.code, Some(1), "nothing found: {}", after.show());
    let hits = json(&after.stdout);
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .all(|h| h["name"] != "retry_delay"),
        "undo re-indexed DIR: {hits:#}"
    );
    // The search without --db finds no index: none was made in the workspace.
    let out = run(&mut ploke(&dir, &["search", "retry"]));
    assert!(
        one_error_line(&out).contains("ploke index"),
        "{}",
        out.show()
    );
    assert!(!dot.exists());
}

// ---------------------------------------------------------------------------------------
// 4. Concurrent writers.

/// Module `i` of the flip workspace, version A or B: each version has its own item names,
/// spans and line counts.
fn flip_module(i: usize, b: bool) -> String {
    if b {
        format!(
            "// Version B moves every item down.\n\n/// Version B of module {i}.\npub fn banana_{i}(x: u32) -> u32 {{\n    let y = x + {i};\n    y * 2\n}}\n\n/// A pear of version B.\npub struct Pear{i};\n"
        )
    } else {
        format!("/// Version A of module {i}.\npub fn apple_{i}() -> u32 {{\n    {i}\n}}\n")
    }
}

const FLIP_MODULES: usize = 4;

fn flip_workspace(dir: &Path) {
    let lib: String = (0..FLIP_MODULES)
        .map(|i| format!("pub mod m{i};\n"))
        .collect();
    krate(dir, "flip", &[("src/lib.rs", &lib)]);
    for i in 0..FLIP_MODULES {
        std::fs::write(dir.join(format!("src/m{i}.rs")), flip_module(i, i % 2 == 0)).unwrap();
    }
}

fn flip_fn(i: usize, b: bool) -> String {
    if b {
        format!("banana_{i}")
    } else {
        format!("apple_{i}")
    }
}

/// A small deterministic generator (no dependency, same sequence on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn concurrent_index_runs_leave_what_a_clean_index_holds() {
    let tmp = tempdir();
    let dir = tmp.path().join("flip");
    flip_workspace(&dir);
    let mut versions: Vec<bool> = (0..FLIP_MODULES).map(|i| i % 2 == 0).collect();
    ok(&mut ploke(&dir, &["index", "--no-embed"]));
    let mut rng = Lcg(7);
    const ROUNDS: usize = 12;
    for round in 0..ROUNDS {
        for (i, v) in versions.iter_mut().enumerate() {
            if rng.next().is_multiple_of(2) {
                *v = !*v;
                std::fs::write(dir.join(format!("src/m{i}.rs")), flip_module(i, *v)).unwrap();
            }
        }
        // Two writers at once; a file flips between their starts, so the first may index
        // either tree but the last to write always sees the final one.
        let spawn = || {
            ploke(&dir, &["index", "--no-embed"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let first = spawn();
        std::thread::sleep(Duration::from_millis(rng.next() % 40));
        let i = (rng.next() as usize) % FLIP_MODULES;
        versions[i] = !versions[i];
        std::fs::write(
            dir.join(format!("src/m{i}.rs")),
            flip_module(i, versions[i]),
        )
        .unwrap();
        let second = spawn();
        for (which, child) in [("first", first), ("second", second)] {
            let out = finish(child, Duration::from_secs(120), "ploke index");
            no_panic(&out);
            assert!(out.ok(), "round {round}, {which} index:\n{}", out.show());
        }
        // The index holds exactly the functions of the tree as it is now.
        let hits = json(
            &ok(&mut ploke(
                &dir,
                &["search", "version module", "--json", "-k", "50"],
            ))
            .stdout,
        );
        let mut found: Vec<String> = hits
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["name"].as_str())
            .filter(|n| n.starts_with("apple_") || n.starts_with("banana_"))
            .map(str::to_string)
            .collect();
        found.sort();
        let mut want: Vec<String> = (0..FLIP_MODULES).map(|i| flip_fn(i, versions[i])).collect();
        want.sort();
        assert_eq!(found, want, "round {round}: {hits:#}");
    }

    // The writers took turns through the lock file.
    assert!(dir.join(".ploke/write.lock").is_file());
    // Every item at its place in the files as they are.
    for (i, &b) in versions.iter().enumerate() {
        let text = std::fs::read_to_string(dir.join(format!("src/m{i}.rs"))).unwrap();
        let v = json(&ok(&mut ploke(&dir, &["item", &flip_fn(i, b), "--json"])).stdout);
        assert_eq!(v.as_array().unwrap().len(), 1, "{v:#}");
        let (s, e) = (
            v[0]["start_line"].as_u64().unwrap(),
            v[0]["end_line"].as_u64().unwrap(),
        );
        assert_eq!(v[0]["file"], format!("src/m{i}.rs"));
        assert_eq!(
            v[0]["source"].as_str().unwrap(),
            lines(&text, s, e),
            "{v:#}"
        );
        let gone = run(&mut ploke(&dir, &["item", &flip_fn(i, !b), "--json"]));
        assert_eq!(gone.code, Some(1), "nothing found: {}", gone.show());
        assert!(gone.stderr.contains("no item named"), "{}", gone.show());
    }
    // And the same answers as a clean index of the same tree.
    let clean = tmp.path().join("clean");
    let clean_s = clean.to_str().unwrap();
    ok(&mut ploke(&dir, &["index", "--no-embed", "--db", clean_s]));
    for q in ["version module", "apple", "banana", "pear", "flip"] {
        let shared = ok(&mut ploke(&dir, &["search", q, "--json", "-k", "50"])).stdout;
        let fresh = ok(&mut ploke(
            &dir,
            &["search", q, "--json", "-k", "50", "--db", clean_s],
        ))
        .stdout;
        assert_eq!(json(&shared), json(&fresh), "query {q:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 5. Readers while the index is rebuilt.

/// Two states of one file, told apart by the items' lines: `target_alpha` and `target_beta`
/// sit at other lines in each, and B has a third item.
const STATE_A: &str =
    "pub fn target_alpha() -> u32 {\n    1\n}\n\npub fn target_beta() -> u32 {\n    2\n}\n";
const STATE_B: &str = "// state B\n// state B\n// state B\n// state B\n\npub fn target_beta() -> u32 {\n    2\n}\n\n/// The target of state B only.\npub fn target_gamma() -> u32 {\n    3\n}\n\npub fn target_alpha() -> u32 {\n    1\n}\n";

/// (name, start_line, end_line) of every `target_*` fn in `text`.
fn targets_in(text: &str) -> Vec<(String, u64, u64)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("pub fn ") {
            let name = rest.split('(').next().unwrap().to_string();
            // Docs above belong to the item.
            let mut start = i;
            while start > 0 && lines[start - 1].starts_with("///") {
                start -= 1;
            }
            let end = i + lines[i..].iter().position(|l| *l == "}").unwrap();
            out.push((name, start as u64 + 1, end as u64 + 1));
        }
    }
    out.sort();
    out
}

#[test]
fn searches_while_the_index_is_rebuilt_see_one_whole_state() {
    let tmp = tempdir();
    let dir = tmp.path().join("states");
    krate(&dir, "states", &[("src/lib.rs", STATE_A)]);
    ok(&mut ploke(&dir, &["index", "--no-embed"]));
    let states = [targets_in(STATE_A), targets_in(STATE_B)];
    assert_eq!(states[0].len(), 2);
    assert_eq!(states[1].len(), 3);

    let done = Arc::new(AtomicBool::new(false));
    let rebuilds = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (dir, done, rebuilds) = (dir.clone(), done.clone(), rebuilds.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !done.load(Ordering::SeqCst) {
                let text = if n % 2 == 0 { STATE_B } else { STATE_A };
                // Whole states only: a reader that re-indexes the file (a one-shot search
                // refreshes first) must never read it half-written.
                let tmp = dir.join("src/lib.rs.tmp");
                std::fs::write(&tmp, text).unwrap();
                std::fs::rename(&tmp, dir.join("src/lib.rs")).unwrap();
                let out = run(&mut ploke(&dir, &["index", "--rebuild", "--no-embed"]));
                no_panic(&out);
                assert!(out.ok(), "rebuild {n}:\n{}", out.show());
                n += 1;
                rebuilds.store(n, Ordering::SeqCst);
            }
        })
    };
    // The searches start once the first rebuild is written, and go on (past the 20) until
    // three more have been written while they run.
    const SEARCHES: usize = 20;
    const PARALLEL: usize = 8;
    const MORE_REBUILDS: usize = 3;
    let wait = Instant::now();
    while rebuilds.load(Ordering::SeqCst) == 0 {
        assert!(
            wait.elapsed() < Duration::from_secs(120),
            "the first rebuild never finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let until = rebuilds.load(Ordering::SeqCst) + MORE_REBUILDS;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen_states = Arc::new(Mutex::new([0usize; 2]));
    let readers: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let (dir, next, failures, seen_states, states, rebuilds) = (
                dir.clone(),
                next.clone(),
                failures.clone(),
                seen_states.clone(),
                states.clone(),
                rebuilds.clone(),
            );
            std::thread::spawn(move || loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= SEARCHES && (rebuilds.load(Ordering::SeqCst) >= until || n >= 5000) {
                    break;
                }
                let out = run(&mut ploke(
                    &dir,
                    &["search", "target", "--json", "-k", "20"],
                ));
                let bad = |why: &str| format!("{why}:\n{}", out.show());
                if !out.ok() {
                    failures.lock().unwrap().push(bad("search failed"));
                    continue;
                }
                for word in ["no ploke index", "schema", "panicked"] {
                    if out.stderr.contains(word) {
                        failures.lock().unwrap().push(bad(word));
                    }
                }
                let v: Value = match serde_json::from_str(&out.stdout) {
                    Ok(v) => common::payload(v),
                    Err(_) => {
                        failures.lock().unwrap().push(bad("not JSON"));
                        continue;
                    }
                };
                let mut got: Vec<(String, u64, u64)> = v
                    .as_array()
                    .map(|a| a.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .filter(|h| h["kind"] == "fn")
                    .map(|h| {
                        (
                            h["name"].as_str().unwrap_or("").to_string(),
                            h["start_line"].as_u64().unwrap_or(0),
                            h["end_line"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect();
                got.sort();
                match states.iter().position(|s| *s == got) {
                    Some(i) => seen_states.lock().unwrap()[i] += 1,
                    None => failures.lock().unwrap().push(bad(&format!(
                        "results of neither state (A {:?}, B {:?}): {got:?}",
                        states[0], states[1]
                    ))),
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    writer.join().expect("the rebuild loop failed");
    let searches = next.load(Ordering::SeqCst) - PARALLEL;
    let rebuilds = rebuilds.load(Ordering::SeqCst);
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {searches} searches failed during {rebuilds} rebuilds; the first:\n{}",
        failures.len(),
        failures[0]
    );
    eprintln!(
        "{searches} searches during {rebuilds} rebuilds; states seen (A, B): {:?}",
        seen_states.lock().unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// 6. Damaged and locked databases, closed stdout.

/// A small indexed workspace.
fn small(tmp: &Path) -> PathBuf {
    let dir = tmp.join("small");
    krate(
        &dir,
        "small",
        &[(
            "src/lib.rs",
            "/// Adds two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n",
        )],
    );
    ok(&mut ploke(&dir, &["index", "--no-embed"]));
    dir
}

/// Every read command fails with one line suggesting `--rebuild`, as does `index`; then
/// `index --rebuild` repairs the index.
#[track_caller]
fn fails_until_rebuilt(dir: &Path, what: &str) {
    for args in [
        &["search", "add"][..],
        &["item", "add"],
        &["context", "add"],
        &["index", "--no-embed"],
    ] {
        let out = run(&mut ploke(dir, args));
        let line = one_error_line(&out);
        assert!(
            line.contains("--rebuild"),
            "{what}: `ploke {}` should suggest --rebuild: {line}",
            args.join(" ")
        );
    }
    let out = run(&mut ploke(dir, &["index", "--rebuild", "--no-embed"]));
    no_panic(&out);
    assert!(out.ok(), "{what}: rebuild:\n{}", out.show());
    let hits = json(&ok(&mut ploke(dir, &["search", "add", "--json"])).stdout);
    assert_eq!(
        hits[0]["name"], "add",
        "{what}: after the rebuild: {hits:#}"
    );
    let item = json(&ok(&mut ploke(dir, &["item", "add", "--json"])).stdout);
    assert!(item[0]["source"]
        .as_str()
        .unwrap()
        .starts_with("/// Adds two numbers."));
    // And a plain index afterwards has nothing to do.
    let again = json(&ok(&mut ploke(dir, &["index", "--no-embed", "--json"])).stdout);
    assert_eq!(again["parsed_files"], 0, "{what}: {again:#}");
}

fn remove_log_files(dot: &Path) {
    for f in ["graph.db-wal", "graph.db-shm", "state.bin"] {
        let _ = std::fs::remove_file(dot.join(f));
    }
}

#[test]
fn a_graph_db_of_garbage_is_one_line_and_rebuild_repairs_it() {
    let tmp = tempdir();
    let dir = small(tmp.path());
    let db = dir.join(".ploke/graph.db");
    let mut rng = Lcg(42);
    let garbage: Vec<u8> = (0..16384).map(|_| rng.next() as u8).collect();
    remove_log_files(&dir.join(".ploke"));
    std::fs::write(&db, &garbage).unwrap();
    fails_until_rebuilt(&dir, "garbage");

    // Garbage behind a valid SQLite header gets past the first check.
    let mut headed = b"SQLite format 3\0".to_vec();
    headed.extend_from_slice(&garbage[16..]);
    remove_log_files(&dir.join(".ploke"));
    std::fs::write(&db, &headed).unwrap();
    fails_until_rebuilt(&dir, "garbage with a SQLite header");
}

#[test]
fn a_truncated_graph_db_is_one_line_and_rebuild_repairs_it() {
    let tmp = tempdir();
    let dir = small(tmp.path());
    let db = dir.join(".ploke/graph.db");
    let len = std::fs::metadata(&db).unwrap().len();
    assert!(len > 4096, "a real index is larger than 4096 bytes ({len})");
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(4096).unwrap();
    drop(f);
    fails_until_rebuilt(&dir, "truncated");
}

#[test]
fn a_database_locked_by_another_program_is_one_line_not_a_hang() {
    let tmp = tempdir();
    let dir = small(tmp.path());
    let db = dir.join(".ploke/graph.db");
    let conn = sqlite::open(&db).unwrap();
    conn.execute(
        "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS other_program (x); INSERT INTO other_program VALUES (1);",
    )
    .unwrap();
    for args in [
        &["search", "add"][..],
        &["item", "add"],
        &["index", "--no-embed"],
    ] {
        let out = run_for(&mut ploke(&dir, args), Duration::from_secs(60));
        let line = one_error_line(&out);
        assert!(
            line.contains("locked by another program"),
            "`ploke {}`: {line}",
            args.join(" ")
        );
    }
    conn.execute("ROLLBACK;").unwrap();
    drop(conn);
    let hits = json(&ok(&mut ploke(&dir, &["search", "add", "--json"])).stdout);
    assert_eq!(hits[0]["name"], "add", "{hits:#}");
}

#[test]
fn a_closed_stdout_is_exit_141_without_a_panic() {
    let tmp = tempdir();
    let dir = small(tmp.path());
    for args in [
        &["index", "--no-embed"][..],
        &["index", "--no-embed", "--json"],
        &["search", "add"],
        &["search", "add", "--json"],
        &["item", "add"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = ploke(&dir, args);
        let child = cmd.stdout(writer).stderr(Stdio::piped()).spawn().unwrap();
        // The parent's copy of the write end goes with `cmd`.
        drop(cmd);
        let out = finish(child, Duration::from_secs(60), "ploke");
        no_panic(&out);
        assert_eq!(
            out.code,
            Some(0),
            "`ploke {}`:\n{}",
            args.join(" "),
            out.show()
        );
        assert!(
            !out.stderr.contains("error"),
            "`ploke {}` says nothing:\n{}",
            args.join(" "),
            out.show()
        );
    }
}

// ---------------------------------------------------------------------------------------
// 7. Secrets.

const CHAT_KEY: &str = "sk-planted-chat-7f3a9e";
const EMBED_KEY: &str = "sk-planted-embed-2c81d4";
const URL_PASSWORD: &str = "sk-planted-pw-55e0b1";

/// Standard base64 (for the `Authorization: Basic` form of the URL's user info).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every form in which a planted secret could leak.
fn planted() -> Vec<String> {
    let mut s = vec![
        CHAT_KEY.to_string(),
        EMBED_KEY.to_string(),
        URL_PASSWORD.to_string(),
        "sk-planted".to_string(),
    ];
    let basic = base64(format!("user:{URL_PASSWORD}").as_bytes());
    // Without the padding, and without the last (partial) group, so that any encoding of
    // the credentials is caught.
    s.push(basic.trim_end_matches('=').to_string());
    s.push(basic[..basic.len() - 4].to_string());
    s
}

/// A server that refuses every request with `status`, echoing the request's
/// `Authorization` header in the error body (as some proxies do).
fn echoing(status: u16) -> Server {
    Server::start(move |_, req| {
        let auth = req.header_values("authorization").join(", ");
        Response::json(
            status,
            &json!({"error": {"message": format!("rejected credentials: {auth}"), "type": "invalid_request_error", "authorization": auth}}),
        )
    })
}

#[test]
fn planted_secrets_never_reach_output_or_the_index() {
    let tmp = tempdir();
    let dir = askt(tmp.path(), false);
    // Few retries, short waits: the failures come quickly.
    std::fs::write(
        dir.join("ploke.toml"),
        "[llm]\nmax_retries = 1\nretry_backoff_ms = 10\ntimeout_secs = 20\n\n[embed]\nremote.max_retries = 1\nremote.timeout_secs = 20\nremote.model = \"m\"\n",
    )
    .unwrap();
    let chat_401 = echoing(401);
    let chat_500 = echoing(500);
    let embed_500 = echoing(500);
    let embed_ok = Server::start(|_, req| embeddings_reply(req));
    let chat_ask = Server::start(|_, _| {
        Response::json(
            200,
            &completion(Some("It is 100 ms times `askt::backoff`."), vec![]),
        )
    });
    let chat_edit = Server::start(|n, _| match n % 2 {
        0 => Response::json(200, &replace_retry_delay(&format!("c{n}"))),
        _ => Response::json(200, &completion(Some("Done."), vec![])),
    });
    let creds = |s: &Server| s.url_with_credentials("user", URL_PASSWORD, "/v1");

    let mut outputs: Vec<(String, Out)> = Vec::new();
    // One run of `ploke ARGS` with the planted keys, the embeddings endpoint `embed_url`
    // (embeddings off without one) and the chat endpoint in PLOKE_BASE_URL if given.
    let mut one = |label: &str, args: &[&str], embed_url: Option<&str>, chat_env: Option<&str>| {
        let mut cmd = ploke(&dir, args);
        cmd.env("PLOKE_API_KEY", CHAT_KEY)
            .env("PLOKE_EMBED_API_KEY", EMBED_KEY)
            .env("PLOKE_MODEL", "test");
        match embed_url {
            Some(u) => {
                cmd.env_remove("PLOKE_EMBED").env("PLOKE_EMBED_URL", u);
            }
            None => {
                cmd.env("PLOKE_EMBED", "off");
            }
        }
        if let Some(u) = chat_env {
            cmd.env("PLOKE_BASE_URL", u);
        }
        let out = run(&mut cmd);
        no_panic(&out);
        outputs.push((format!("{label} {args:?}"), out));
    };
    const VERBOSITY: [&[&str]; 3] = [&[], &["-v"], &["-vv"]];
    fn with<'a>(args: &[&'a str], v: &[&'a str]) -> Vec<&'a str> {
        args.iter().chain(v).copied().collect()
    }
    let (e500, eok) = (creds(&embed_500), creds(&embed_ok));
    let (c401, c500, cask, cedit) = (
        creds(&chat_401),
        creds(&chat_500),
        creds(&chat_ask),
        creds(&chat_edit),
    );
    let (c401, c500, cask, cedit) = (c401.as_str(), c500.as_str(), cask.as_str(), cedit.as_str());
    for v in VERBOSITY {
        // Indexing with an embeddings endpoint that fails, then one that works.
        one(
            "index, embeddings 500",
            &with(&["index"], v),
            Some(&e500),
            None,
        );
        one(
            "index, embeddings ok",
            &with(&["index"], v),
            Some(&eok),
            None,
        );
        // Search with the request embedded remotely, by both endpoints.
        one(
            "search, embeddings ok",
            &with(&["search", "retry delay"], v),
            Some(&eok),
            None,
        );
        one(
            "search, embeddings 500",
            &with(&["search", "retry delay"], v),
            Some(&e500),
            None,
        );
        // The chat model refusing the key, failing, and answering; by flag and by environment.
        for (label, url) in [("401", c401), ("500", c500), ("ok", cask)] {
            one(
                &format!("ask --base-url, chat {label}"),
                &with(
                    &["ask", "how long is the retry delay?", "--base-url", url],
                    v,
                ),
                None,
                None,
            );
            one(
                &format!("ask PLOKE_BASE_URL, chat {label}"),
                &with(&["ask", "how long is the retry delay?"], v),
                Some(&eok),
                Some(url),
            );
        }
        for (label, url) in [("401", c401), ("500", c500)] {
            one(
                &format!("edit --base-url, chat {label}"),
                &with(&["edit", "make it 250", "--yes", "--base-url", url], v),
                None,
                None,
            );
            one(
                &format!("edit PLOKE_BASE_URL, chat {label}"),
                &with(&["edit", "make it 250", "--yes"], v),
                Some(&e500),
                Some(url),
            );
        }
        // A successful edit with embeddings on, and its undo.
        one(
            "edit, chat ok",
            &with(&["edit", "make it 250", "--yes", "--base-url", cedit], v),
            Some(&eok),
            None,
        );
        one("undo", &with(&["undo"], v), Some(&eok), None);
    }

    // The runs did what they were meant to: the keys went out, the failures came back.
    let has = |s: &Server, what: &str| {
        s.requests().iter().any(|r| {
            r.header_values("authorization")
                .iter()
                .any(|v| v.contains(what))
        })
    };
    assert!(has(&chat_401, CHAT_KEY), "the chat key was sent");
    assert!(has(&chat_500, CHAT_KEY));
    assert!(has(&embed_500, EMBED_KEY), "the embeddings key was sent");
    assert!(has(&embed_ok, EMBED_KEY));
    let applied = outputs
        .iter()
        .filter(|(l, o)| l.starts_with("edit, chat ok") && o.ok())
        .count();
    assert_eq!(applied, VERBOSITY.len(), "every successful edit applied");
    assert!(
        outputs
            .iter()
            .filter(|(l, _)| l.starts_with("index, embeddings ok"))
            .all(|(_, o)| o.ok() && o.stdout.contains("embedded")),
        "indexing with the working endpoint embeds"
    );
    assert!(
        outputs
            .iter()
            .any(|(l, o)| l.contains("chat 401") && o.stderr.contains("HTTP 401")),
        "a 401 is reported"
    );
    // No request body carries a key (only the Authorization header does).
    for s in [
        &chat_401, &chat_500, &chat_ask, &chat_edit, &embed_500, &embed_ok,
    ] {
        for r in s.requests() {
            for secret in planted() {
                assert!(!r.text().contains(&secret), "a request body holds {secret}");
            }
        }
    }

    let mut leaks = Vec::new();
    for (label, out) in &outputs {
        for secret in planted() {
            if out.stdout.contains(&secret) || out.stderr.contains(&secret) {
                leaks.push(format!("{label}: `{secret}` in\n{}", out.show()));
            }
        }
    }
    let dot = dir.join(".ploke");
    let stored = files_under(&dot);
    for want in ["graph.db", "state.bin"] {
        assert!(
            stored.iter().any(|f| f.ends_with(want)),
            "{want} in {stored:?}"
        );
    }
    assert!(
        stored.iter().any(|f| f.starts_with(dot.join("journal"))),
        "a journal: {stored:?}"
    );
    for f in &stored {
        let bytes = std::fs::read(f).unwrap();
        for secret in planted() {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                leaks.push(format!("`{secret}` stored in {}", f.display()));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}\n\nthe first in full:\n{}",
        leaks.len(),
        leaks
            .iter()
            .map(|l| l.lines().next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n"),
        leaks[0]
    );
}

// ---------------------------------------------------------------------------------------
// 8. Error lines.

#[test]
fn a_bad_manifest_is_one_plain_error_line() {
    let tmp = tempdir();
    let dir = tmp.path().join("bad");
    write_files(
        &dir,
        &[
            (
                "Cargo.toml",
                "[package\nname = \"bad\"\nversion = \"0.1.0\"\n",
            ),
            ("src/lib.rs", "pub fn f() {}\n"),
        ],
    );
    let out = run(&mut ploke(&dir, &["index"]));
    let line = one_error_line(&out);
    assert!(line.contains("Cargo.toml"), "names the manifest: {line}");
    assert!(
        !out.stderr.contains('\x1b'),
        "no ANSI codes: {:?}",
        out.stderr
    );
    for args in [&["index", "-v"][..], &["index", "-vv"]] {
        let out = run(&mut ploke(&dir, args));
        no_panic(&out);
        assert_eq!(out.code, Some(2), "{}", out.show());
        assert!(
            !out.stderr.contains('\x1b'),
            "no ANSI codes: {:?}",
            out.stderr
        );
        let errors = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count();
        assert_eq!(errors, 1, "{}", out.show());
        let mut seen = std::collections::HashSet::new();
        for l in out.stderr.lines().filter(|l| !l.trim().is_empty()) {
            // A log line starts with its time stamp: compare what follows it.
            let text = l.split_once(' ').map_or(l, |(_, rest)| rest);
            assert!(
                seen.insert(text.to_string()),
                "printed twice: {l}\n{}",
                out.show()
            );
        }
    }
    assert!(!dir.join(".ploke").exists(), "nothing created");
}

#[test]
fn an_os_error_is_said_once() {
    let tmp = tempdir();
    let dir = small(tmp.path());
    let missing = tmp.path().join("nonexistent");
    let m = missing.to_str().unwrap();
    let batch = missing.join("queries.jsonl");
    let db = missing.join("db");
    for args in [
        &["search", "x", "--path", "/nonexistent/ploke"][..],
        &["search", "x", "--path", m],
        &["index", m],
        &["search", "--batch", batch.to_str().unwrap()],
        &["search", "x", "--db", db.to_str().unwrap()],
        &["item", "x", "--db", db.to_str().unwrap()],
    ] {
        let out = run(&mut ploke(&dir, args));
        let line = one_error_line(&out).to_ascii_lowercase();
        for phrase in ["no such file or directory", "os error"] {
            assert!(
                line.matches(phrase).count() <= 1,
                "`ploke {}` says `{phrase}` more than once: {line}",
                args.join(" ")
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_module_is_reported_as_a_loop() {
    let tmp = tempdir();
    let dir = tmp.path().join("looped");
    krate(
        &dir,
        "looped",
        &[("src/lib.rs", "mod x;\n\npub fn root_fn() {}\n")],
    );
    std::os::unix::fs::symlink("y.rs", dir.join("src/x.rs")).unwrap();
    std::os::unix::fs::symlink("x.rs", dir.join("src/y.rs")).unwrap();
    let out = run(&mut ploke(&dir, &["index", "--no-embed"]));
    no_panic(&out);
    assert!(out.ok(), "{}", out.show());
    let problem = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("src/lib.rs:1:"))
        .unwrap_or_else(|| panic!("a problem at the `mod x;` line:\n{}", out.show()));
    assert!(
        problem.contains("loop") && !problem.contains("missing"),
        "reported as a loop, not a missing file: {problem}"
    );
    // The rest is indexed.
    ok(&mut ploke(&dir, &["item", "root_fn"]));
}

// ---------------------------------------------------------------------------------------
// 9. Stress: writers and readers on a real crate.

const STRESS_CRATE: &str = "either";
const STRESS_VERSION: &str = "1.16.0";

/// A file the writers flip between two versions, and an item in it the readers look up.
struct Flipped {
    file: &'static str,
    item: &'static str,
    /// The item's short name, in its source.
    name: &'static str,
    versions: [String; 2],
}

/// Version B of a file: two lines on top (every item moves down) and one item more.
fn version_b(a: &str, marker: &str) -> String {
    format!("// ploke stress: version B\n// (every item moves down two lines)\n{a}\n/// Only in version B.\npub fn {marker}() -> u8 {{\n    2\n}}\n")
}

/// `item --json` output whose every entry in `f.file` is the item's text at its lines in one
/// version of the file; `None` when it is, else why not.
fn inconsistent(v: &Value, f: &Flipped) -> Option<String> {
    let items = v.as_array()?;
    if items.is_empty() {
        return Some("no item".into());
    }
    for it in items.iter().filter(|it| it["file"] == f.file) {
        let source = it["source"].as_str().unwrap_or("");
        let (s, e) = (
            it["start_line"].as_u64().unwrap_or(0),
            it["end_line"].as_u64().unwrap_or(0),
        );
        if !source.contains(&format!("fn {}", f.name)) {
            return Some(format!("the source does not hold `fn {}`", f.name));
        }
        let at = |text: &str| lines(text, s, e).trim_start() == source.trim_start();
        if !f.versions.iter().any(|t| at(t)) {
            return Some(format!(
                "the source is not lines {s}-{e} of either version of {}",
                f.file
            ));
        }
    }
    None
}

fn stress(duration: Duration) {
    let tmp = tempdir();
    let src = registry_crate(STRESS_CRATE, STRESS_VERSION);
    let dir = tmp.path().join("either");
    copy_dir(&src, &dir);
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    let flipped = Arc::new(vec![
        Flipped {
            file: "src/lib.rs",
            item: "Either::flip",
            name: "flip",
            versions: [
                read("src/lib.rs"),
                version_b(&read("src/lib.rs"), "stress_marker_lib"),
            ],
        },
        Flipped {
            file: "src/into_either.rs",
            item: "IntoEither::into_either",
            name: "into_either",
            versions: [
                read("src/into_either.rs"),
                version_b(&read("src/into_either.rs"), "stress_marker_into"),
            ],
        },
    ]);
    ok(&mut ploke(&dir, &["index", "--no-embed"]));
    for f in flipped.iter() {
        let v = json(&ok(&mut ploke(&dir, &["item", f.item, "--json"])).stdout);
        assert_eq!(inconsistent(&v, f), None, "before the stress: {v:#}");
    }

    let deadline = Instant::now() + duration;
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let fail = |failures: &Mutex<Vec<String>>, why: String| failures.lock().unwrap().push(why);
    let writer_runs = Arc::new(AtomicUsize::new(0));
    let reader_runs = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for w in 0..2 {
        let (dir, flipped, failures, runs) = (
            dir.clone(),
            flipped.clone(),
            failures.clone(),
            writer_runs.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let f = &flipped[w];
            let mut k = 0;
            while Instant::now() < deadline {
                k += 1;
                // Saved as an editor saves (a half-written file is a state of its own).
                write_atomic(&dir.join(f.file), &f.versions[k % 2]);
                let out = run(&mut ploke(&dir, &["index", "--no-embed"]));
                runs.fetch_add(1, Ordering::SeqCst);
                if !out.ok() || out.stderr.contains("panicked") {
                    fail(&failures, format!("writer {w}, run {k}:\n{}", out.show()));
                }
            }
        }));
    }
    for r in 0..8 {
        let (dir, flipped, failures, runs) = (
            dir.clone(),
            flipped.clone(),
            failures.clone(),
            reader_runs.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let mut k = r;
            while Instant::now() < deadline {
                k += 1;
                let f = &flipped[k % 2];
                let item = k % 3 != 0;
                let out = if item {
                    run(&mut ploke(&dir, &["item", f.item, "--json"]))
                } else {
                    run(&mut ploke(
                        &dir,
                        &["search", "flip left right into either", "--json"],
                    ))
                };
                runs.fetch_add(1, Ordering::SeqCst);
                let what = if item { "item" } else { "search" };
                if !out.ok() || out.stderr.contains("panicked") {
                    fail(&failures, format!("reader {r} ({what}):\n{}", out.show()));
                    continue;
                }
                let Ok(v) = serde_json::from_str::<Value>(&out.stdout).map(common::payload) else {
                    fail(
                        &failures,
                        format!("reader {r} ({what}): not JSON\n{}", out.show()),
                    );
                    continue;
                };
                if item {
                    if let Some(why) = inconsistent(&v, f) {
                        fail(
                            &failures,
                            format!("reader {r} (item {}): {why}\n{v:#}", f.item),
                        );
                    }
                } else if v.as_array().is_none_or(|a| a.is_empty()) {
                    fail(
                        &failures,
                        format!("reader {r} (search): no results\n{}", out.show()),
                    );
                }
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let (w, r) = (
        writer_runs.load(Ordering::SeqCst),
        reader_runs.load(Ordering::SeqCst),
    );
    let failures = failures.lock().unwrap();
    if !failures.is_empty() {
        // How many of each kind (the first line names the run and what went wrong).
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for f in failures.iter() {
            *kinds.entry(f.lines().next().unwrap_or("")).or_default() += 1;
        }
        panic!(
            "{} failures in {w} writer and {r} reader runs:\n{kinds:#?}\nthe first:\n{}\nthe last:\n{}",
            failures.len(),
            failures[0],
            failures[failures.len() - 1]
        );
    }
    assert!(
        w >= 2 && r >= 8,
        "the stress ran ({w} writer, {r} reader runs)"
    );
    eprintln!("stress: {w} writer runs, {r} reader runs in {duration:?}");
    // Settled: the index holds the files as they are.
    ok(&mut ploke(&dir, &["index", "--no-embed"]));
    for f in flipped.iter() {
        let now = read(f.file);
        let v = json(&ok(&mut ploke(&dir, &["item", f.item, "--json"])).stdout);
        let it = v
            .as_array()
            .unwrap()
            .iter()
            .find(|it| it["file"] == f.file)
            .unwrap();
        let (s, e) = (
            it["start_line"].as_u64().unwrap(),
            it["end_line"].as_u64().unwrap(),
        );
        assert_eq!(
            lines(&now, s, e).trim_start(),
            it["source"].as_str().unwrap().trim_start()
        );
    }
}

#[test]
fn stress_writers_and_readers_on_a_real_crate_briefly() {
    stress(Duration::from_secs(8));
}

#[test]
#[ignore = "a minute of stress; run with --ignored"]
fn stress_writers_and_readers_on_a_real_crate_for_a_minute() {
    stress(Duration::from_secs(60));
}
