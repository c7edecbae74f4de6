//! The analyses a commit writes, on a fixture crate with known answers: method calls through
//! `self.field` and typed locals resolved to the right type's method; the impact of an
//! internal method reaching the public API and the tests in `tests/`; the test map; dead
//! code candidates and everything that is not one (re-exports, trait impls, tests, `main`,
//! `#[no_mangle]`); a module cycle; the public API and its difference between generations;
//! per-function metrics; and an update after a one-file edit that gives what a clean index
//! of the same tree gives.

mod common;

use std::path::Path;

use common::{load, node, Project};
use ploke_analyze::{api_diff, impact, CodeGraph, Via};
use ploke_db::Db;
use ploke_index::{IndexOptions, Indexer, NoProgress};

const LIB: &str = r#"//! Locks.

mod sem;
pub mod cycle_a;
pub mod cycle_b;
mod hidden;

pub use hidden::Exported;

use std::sync::Arc;

/// A mutual exclusion lock.
pub struct Mutex {
    s: sem::Semaphore,
}

impl Mutex {
    pub fn new() -> Mutex {
        Mutex { s: sem::Semaphore::new(1) }
    }

    /// Locks it.
    pub fn lock(&self) -> bool {
        self.acquire()
    }

    fn acquire(&self) -> bool {
        self.s.acquire(1)
    }
}

/// A reader-writer lock.
pub struct RwLock {
    s: Arc<sem::Semaphore>,
}

impl RwLock {
    pub fn new() -> RwLock {
        RwLock { s: Arc::new(sem::Semaphore::new(8)) }
    }

    pub fn read(&self) -> bool {
        self.s.acquire(1)
    }

    pub fn write(&self) -> bool {
        let s = &self.s;
        s.acquire(8)
    }
}

/// How long to wait.
pub trait Policy {
    fn delay(&self, attempt: u32) -> u64;
}

pub struct Fixed;

impl Policy for Fixed {
    fn delay(&self, _attempt: u32) -> u64 {
        10
    }
}

pub fn wait_for(p: &dyn Policy) -> u64 {
    p.delay(1)
}

fn never_called() -> u32 {
    7
}

pub(crate) fn crate_only_unused() {}

#[no_mangle]
pub extern "C" fn exported_to_c() -> u32 {
    3
}

/// Measured: branches, nesting, an unwrap and a panic.
pub fn measured(v: &[u32], x: Option<u32>) -> u32 {
    let mut total = x.unwrap();
    for i in v {
        if *i > 10 && *i < 20 {
            total += i;
        } else if *i == 0 {
            panic!("zero");
        }
    }
    total
}
"#;

const SEM: &str = r#"pub(crate) struct Semaphore {
    permits: u32,
}

impl Semaphore {
    pub(crate) fn new(permits: u32) -> Semaphore {
        Semaphore { permits }
    }

    pub(crate) fn acquire(&self, n: u32) -> bool {
        self.permits >= n
    }
}

/// Another `acquire`, so the name alone says nothing.
pub(crate) struct Other;

impl Other {
    pub(crate) fn acquire(&self, _n: u32) -> bool {
        false
    }
}
"#;

const CYCLE_A: &str =
    "pub fn a() -> u32 {\n    crate::cycle_b::b() + 1\n}\n\npub fn base() -> u32 {\n    1\n}\n";
const CYCLE_B: &str = "pub fn b() -> u32 {\n    crate::cycle_a::base()\n}\n";
const HIDDEN: &str = "pub struct Exported;\n\npub fn hidden_pub_unused() {}\n";
const MAIN: &str = "fn main() {\n    locks::wait_for(&locks::Fixed);\n}\n";

const TEST_MUTEX: &str = r#"use locks::Mutex;

#[test]
fn locks_once() {
    let m = Mutex::new();
    assert!(m.lock());
}
"#;

const TEST_RWLOCK: &str = r#"use std::sync::Arc;

#[test]
fn reads_and_writes() {
    let l = Arc::new(locks::RwLock::new());
    assert!(l.read());
    assert!(l.clone().write());
}
"#;

fn project() -> Project {
    Project::new(
        "locks",
        &[
            ("src/lib.rs", LIB),
            ("src/sem.rs", SEM),
            ("src/cycle_a.rs", CYCLE_A),
            ("src/cycle_b.rs", CYCLE_B),
            ("src/hidden.rs", HIDDEN),
            ("src/main.rs", MAIN),
            ("tests/sync_mutex.rs", TEST_MUTEX),
            ("tests/sync_rwlock.rs", TEST_RWLOCK),
        ],
    )
}

fn paths(db: &Db, ids: impl IntoIterator<Item = ploke_core::NodeId>) -> Vec<String> {
    let mut out: Vec<String> = ids
        .into_iter()
        .map(|id| db.node(id).unwrap().expect("a stored node").path)
        .collect();
    out.sort();
    out
}

fn index(p: &Project, db: &Path) {
    p.index(db);
}

#[test]
fn analyses_of_a_fixture_crate() {
    let p = project();
    let db_dir = p.root.join(".ploke");
    index(&p, &db_dir);
    let g = load(&db_dir);
    let db = Db::open(&db_dir).unwrap();

    // Calls through a field and through typed locals reach the right `acquire`.
    let acquire = node(&g, "locks::sem::Semaphore::acquire").id;
    let cg = CodeGraph::new(&g.nodes, &g.edges);
    let callers: Vec<String> = cg
        .dependents_of(cg.index_of(acquire).unwrap())
        .iter()
        .filter(|(_, v)| *v == Via::Calls)
        .map(|(i, _)| cg.node(*i).path.clone())
        .collect();
    let mut sorted = callers.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "locks::Mutex::acquire",
            "locks::RwLock::read",
            "locks::RwLock::write"
        ]
    );
    let other = node(&g, "locks::sem::Other::acquire").id;
    assert!(
        cg.dependents_of(cg.index_of(other).unwrap()).is_empty(),
        "nothing calls Other::acquire"
    );

    // Impact: the public API above it and the tests that reach it.
    let hit = impact(&cg, &[acquire], 6);
    let reached: Vec<&str> = hit
        .iter()
        .map(|h| cg.node(cg.index_of(h.id).unwrap()).path.as_str())
        .collect();
    for want in [
        "locks::Mutex::acquire",
        "locks::Mutex::lock",
        "locks::RwLock::read",
        "locks::RwLock::write",
        "sync_mutex::locks_once",
        "sync_rwlock::reads_and_writes",
    ] {
        assert!(reached.contains(&want), "{want} in {reached:?}");
    }
    let lock = hit
        .iter()
        .find(|h| cg.node(cg.index_of(h.id).unwrap()).path == "locks::Mutex::lock")
        .unwrap();
    assert_eq!((lock.depth, lock.via), (2, Via::Calls));

    // The stored test map.
    let tests = paths(
        &db,
        db.tests_of(acquire).unwrap().into_iter().map(|(t, _)| t),
    );
    assert_eq!(
        tests,
        ["sync_mutex::locks_once", "sync_rwlock::reads_and_writes"]
    );
    let lock_id = node(&g, "locks::Mutex::lock").id;
    assert_eq!(db.tests_of(lock_id).unwrap()[0].1, 1, "the test calls lock");
    // Dispatch: the trait method's implementation is reached through the trait.
    let delay_impl = node(&g, "locks::<Fixed as Policy>::delay").id;
    let via_main = cg
        .dependents_of(cg.index_of(delay_impl).unwrap())
        .iter()
        .any(|(_, v)| *v == Via::Dispatch);
    assert!(via_main);

    // Dead code candidates, and what is not one.
    let dead = paths(&db, db.dead_code().unwrap().into_iter().map(|(id, _)| id));
    for want in [
        "locks::never_called",
        "locks::crate_only_unused",
        "locks::hidden::hidden_pub_unused",
        "locks::sem::Other",
        "locks::sem::Other::acquire",
    ] {
        assert!(dead.contains(&want.to_string()), "{want} in {dead:?}");
    }
    for not in [
        "locks::exported_to_c",
        "locks::hidden::Exported",
        "locks::Mutex::lock",
        "locks::<Fixed as Policy>::delay",
        "locks::Policy::delay",
        "locks::sem::Semaphore::acquire",
        "locks::measured",
        "sync_mutex::locks_once",
        "locks::main",
    ] {
        assert!(
            !dead.contains(&not.to_string()),
            "{not} is not dead: {dead:?}"
        );
    }

    // The module cycle.
    let cycles: Vec<Vec<String>> = db
        .module_cycles()
        .unwrap()
        .into_iter()
        .map(|c| paths(&db, c))
        .collect();
    assert_eq!(cycles, [["locks::cycle_a", "locks::cycle_b"]]);

    // The public API.
    let gens = db.api_generations().unwrap();
    assert_eq!(gens.len(), 1);
    let api = db.api_surface(gens[0]).unwrap();
    let api_paths: Vec<&str> = api.iter().map(|a| a.path.as_str()).collect();
    for want in [
        "locks::Mutex",
        "locks::Mutex::lock",
        "locks::Policy::delay",
        "locks::hidden::Exported",
        "locks::cycle_a::a",
    ] {
        assert!(api_paths.contains(&want), "{want} in {api_paths:?}");
    }
    for not in [
        "locks::sem::Semaphore",
        "locks::Mutex::acquire",
        "locks::never_called",
        "locks::hidden::hidden_pub_unused",
    ] {
        assert!(!api_paths.contains(&not), "{not} is not API: {api_paths:?}");
    }

    // Metrics.
    let measured = node(&g, "locks::measured").id;
    let m = db
        .all_metrics()
        .unwrap()
        .into_iter()
        .find(|(id, _, _)| *id == measured)
        .map(|(_, _, m)| m)
        .expect("metrics of `measured`");
    assert_eq!(m.cyclomatic, 1 + 1 + 1 + 1 + 1, "for, if, &&, else if");
    assert_eq!(m.nesting, 2);
    assert_eq!((m.unwraps, m.panics), (1, 1));
}

#[test]
fn an_edit_updates_the_analysis_as_a_clean_index_would() {
    let p = project();
    let db_dir = p.root.join(".ploke");
    let opts = IndexOptions {
        db_dir: Some(db_dir.clone()),
        ..IndexOptions::default()
    };
    let mut ix = Indexer::open(&p.root, &opts).unwrap();
    ix.refresh(ploke_index::Changes::All, &NoProgress).unwrap();
    let db = Db::open(&db_dir).unwrap();
    let first_api = db.api_surface(db.api_generations().unwrap()[0]).unwrap();

    // A new test; `lock` changes its signature; `a` goes (and with it the cycle).
    p.write(
        "tests/sync_mutex.rs",
        format!("{TEST_MUTEX}\n#[test]\nfn calls_it() {{\n    let _ = locks::Mutex::new().lock();\n}}\n"),
    );
    p.edit(
        "src/lib.rs",
        "pub fn lock(&self) -> bool {",
        "pub fn lock(&self, _fair: bool) -> bool {",
    );
    p.write("src/cycle_a.rs", "pub fn base() -> u32 {\n    1\n}\n");
    ix.refresh(ploke_index::Changes::All, &NoProgress).unwrap();
    let incremental = db.stored_analysis().unwrap();

    let gens = db.api_generations().unwrap();
    assert_eq!(gens.len(), 2);
    let diff = api_diff(&first_api, &db.api_surface(gens[1]).unwrap());
    let removed: Vec<&str> = diff.removed.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(removed, ["locks::cycle_a::a"]);
    let changed: Vec<&str> = diff.changed.iter().map(|(o, _)| o.path.as_str()).collect();
    assert_eq!(changed, ["locks::Mutex::lock"]);
    assert!(diff.added.is_empty(), "{:?}", diff.added);
    assert!(db.module_cycles().unwrap().is_empty(), "the cycle is gone");

    // A clean index of the same tree stores the same analysis.
    let clean_dir = p.root.join(".ploke-clean");
    p.index(&clean_dir);
    let clean = Db::open(&clean_dir).unwrap().stored_analysis().unwrap();
    let sorted = |mut a: ploke_db::StoredAnalysis| {
        a.tests.sort();
        a.dead.sort_by_key(|d| d.id);
        a.module_deps.sort();
        a.metrics.sort_by_key(|m| m.0);
        a.api_generations.clear();
        a
    };
    assert_eq!(sorted(incremental), sorted(clean));
}
