//! [`ploke_index::freshness`]: after an index, the stamps it saved tell from a stat of each
//! file whether the index still matches the files: an edit (even one that keeps the size, or
//! the size and the modification time within the racy window), a removal, a new target, a
//! manifest edit; and no answer at all without stamps of the database's generation.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::Project;
use ploke_index::{freshness, Changes, Freshness, IndexOptions, IndexReport, Indexer, NoProgress};

const LIB: &str =
    "pub mod util;\npub mod shapes;\n\npub fn entry() -> u32 {\n    util::helper(1)\n}\n";
const UTIL: &str = "pub fn helper(x: u32) -> u32 {\n    x + 1\n}\n";
const SHAPES: &str = "pub mod circle;\n";
const CIRCLE: &str = "pub struct Circle {\n    pub r: f64,\n}\n";
const TOOL: &str = "fn main() {\n    fresh::entry();\n}\n";

fn project() -> Project {
    Project::new(
        "fresh",
        &[
            ("src/lib.rs", LIB),
            ("src/util.rs", UTIL),
            ("src/shapes/mod.rs", SHAPES),
            ("src/shapes/circle.rs", CIRCLE),
            ("src/bin/tool.rs", TOOL),
        ],
    )
}

/// The freshness of the index in `db` at the generation its database holds now.
fn check(db: &Path, root: &Path) -> Freshness {
    let generation = ploke_db::Db::open(db).unwrap().generation().unwrap();
    freshness(db, root, generation)
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

fn set_mtime(p: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Replaces the one occurrence of `from` in `rel` by `to` (of the same length): the file keeps
/// its size.
fn edit_same_size(p: &Project, rel: &str, from: &str, to: &str) -> PathBuf {
    assert_eq!(from.len(), to.len());
    p.edit(rel, from, to);
    p.path(rel)
}

fn stale(changed: &[PathBuf], rediscover: bool) -> Freshness {
    Freshness::Stale {
        changed: changed.to_vec(),
        rediscover,
    }
}

/// Indexes `p` into `db`; returns the report and the workspace root as the indexer sees it.
fn index(p: &Project, db: &Path) -> (IndexReport, PathBuf) {
    let r = p.index(db);
    let root = r.workspace_root.clone();
    (r, root)
}

#[test]
fn fresh_right_after_an_index_and_after_a_reindex_from_the_cache() {
    let p = project();
    let db = p.db("db");
    let (r, root) = index(&p, &db);
    assert_eq!(freshness(&db, &root, r.generation), Freshness::Fresh);
    assert!(db.join("stamps.bin").is_file());

    // A second process: every file comes from the parse cache, and is stamped all the same.
    let (r2, _) = index(&p, &db);
    assert_eq!(r2.parsed_files, 0);
    assert_eq!(r2.generation, r.generation + 1);
    assert_eq!(freshness(&db, &root, r2.generation), Freshness::Fresh);
    let util = root.join("src/util.rs");
    let t = mtime(&util) + Duration::from_secs(5);
    edit_same_size(&p, "src/util.rs", "x + 1", "x + 2");
    set_mtime(&util, t);
    assert_eq!(check(&db, &root), stale(&[util], false));
}

#[test]
fn an_edit_that_keeps_the_size_is_stale_with_that_file_alone() {
    let p = project();
    let db = p.db("db");
    let (_, root) = index(&p, &db);
    let circle = root.join("src/shapes/circle.rs");
    let t = mtime(&circle) + Duration::from_secs(3);
    edit_same_size(&p, "src/shapes/circle.rs", "f64", "f32");
    set_mtime(&circle, t);
    assert_eq!(check(&db, &root), stale(&[circle], false));

    // A re-index brings it back.
    index(&p, &db);
    assert_eq!(check(&db, &root), Freshness::Fresh);
}

#[test]
fn a_removed_file_is_stale() {
    let p = project();
    let db = p.db("db");
    let (_, root) = index(&p, &db);
    // `src/shapes` is not a directory where Cargo finds targets: nothing to discover again.
    p.remove("src/shapes/circle.rs");
    assert_eq!(
        check(&db, &root),
        stale(&[root.join("src/shapes/circle.rs")], false)
    );
    // `src` is: removing a file there also changes its stamp.
    p.remove("src/util.rs");
    assert_eq!(
        check(&db, &root),
        stale(
            &[root.join("src/shapes/circle.rs"), root.join("src/util.rs")],
            true
        )
    );
}

#[test]
fn a_new_bin_target_means_rediscover() {
    let p = project();
    let db = p.db("db");
    let (_, root) = index(&p, &db);
    p.write("src/bin/other.rs", "fn main() {}\n");
    assert_eq!(check(&db, &root), stale(&[], true));
    index(&p, &db);
    assert_eq!(check(&db, &root), Freshness::Fresh);
}

#[test]
fn a_new_target_directory_means_rediscover() {
    let p = project();
    let db = p.db("db");
    let (_, root) = index(&p, &db);
    // `tests/` did not exist: the package directory's stamp changes.
    p.write("tests/t.rs", "#[test]\nfn t() {}\n");
    assert_eq!(check(&db, &root), stale(&[], true));
}

#[test]
fn an_edited_manifest_means_rediscover() {
    let p = project();
    let db = p.db("db");
    let (_, root) = index(&p, &db);
    let manifest = p.read("Cargo.toml");
    p.write("Cargo.toml", format!("{manifest}\n# a comment\n"));
    assert_eq!(check(&db, &root), stale(&[], true));
}

#[test]
fn stamps_of_another_generation_or_none_are_unknown() {
    let p = project();
    let db = p.db("db");
    let (r, root) = index(&p, &db);
    let stamps = db.join("stamps.bin");
    let first = std::fs::read(&stamps).unwrap();

    // Another writer wrote the next generation, and its stamps did not survive it: the ones
    // left describe an older generation.
    let (r2, _) = index(&p, &db);
    assert_eq!(r2.generation, r.generation + 1);
    std::fs::write(&stamps, &first).unwrap();
    assert_eq!(check(&db, &root), Freshness::Unknown);
    assert_eq!(freshness(&db, &root, r.generation), Freshness::Fresh);

    // Unreadable stamps.
    std::fs::write(&stamps, b"\x07not stamps").unwrap();
    assert_eq!(check(&db, &root), Freshness::Unknown);
    std::fs::write(&stamps, b"").unwrap();
    assert_eq!(check(&db, &root), Freshness::Unknown);

    // None at all: a database written before stamps existed, or a directory with no index.
    std::fs::remove_file(&stamps).unwrap();
    assert_eq!(check(&db, &root), Freshness::Unknown);
    assert_eq!(freshness(&p.db("nothing"), &root, 0), Freshness::Unknown);
}

/// Racy clean: a file rewritten within the timestamp granularity of the index can keep its
/// size and modification time; the check reads such a file and compares its hash.
#[test]
fn a_rewrite_that_keeps_size_and_mtime_is_stale_when_racy() {
    let p = project();
    let db = p.db("db");
    let (_, root) = index(&p, &db);
    let util = root.join("src/util.rs");
    let t = mtime(&util);
    edit_same_size(&p, "src/util.rs", "x + 1", "x - 1");
    set_mtime(&util, t);
    assert_eq!(std::fs::metadata(&util).unwrap().len(), UTIL.len() as u64);
    assert_eq!(check(&db, &root), stale(std::slice::from_ref(&util), false));

    // Rewritten back to what was indexed, still with the same time: fresh again.
    edit_same_size(&p, "src/util.rs", "x - 1", "x + 1");
    set_mtime(&util, t);
    assert_eq!(check(&db, &root), Freshness::Fresh);
}

/// Files last modified well before the index are trusted by their stat alone: the check does
/// not read them (which is what keeps it cheap), so only a change of size or time shows.
#[test]
fn old_files_are_judged_by_their_stat_alone() {
    let p = project();
    let db = p.db("db");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for rel in [
        "src/lib.rs",
        "src/util.rs",
        "src/shapes/mod.rs",
        "src/shapes/circle.rs",
        "src/bin/tool.rs",
    ] {
        set_mtime(&p.path(rel), hour_ago);
    }
    let (_, root) = index(&p, &db);
    assert_eq!(check(&db, &root), Freshness::Fresh);
    let util = root.join("src/util.rs");
    edit_same_size(&p, "src/util.rs", "x + 1", "x * 1");
    set_mtime(&util, hour_ago);
    assert_eq!(check(&db, &root), Freshness::Fresh, "not read: not racy");
    set_mtime(&util, hour_ago + Duration::from_secs(1));
    assert_eq!(check(&db, &root), stale(&[util], false));
}

/// A long-lived indexer told which files changed (a watcher) stamps each generation too,
/// files it did not read again included; a file whose last good version it keeps is stamped as
/// the version it saw and refused.
#[test]
fn a_live_indexer_stamps_every_refresh() {
    let p = project();
    let db = p.db("db");
    let opts = IndexOptions {
        db_dir: Some(db.clone()),
        keep_last_good: true,
        ..Default::default()
    };
    let mut ix = Indexer::open(&p.root, &opts).unwrap();
    ix.refresh(Changes::All, &NoProgress).unwrap();
    let root = ix.workspace().root.clone();
    assert_eq!(freshness(&db, &root, ix.generation()), Freshness::Fresh);

    p.edit("src/util.rs", "x + 1", "x + 100");
    let util = root.join("src/util.rs");
    assert_eq!(
        freshness(&db, &root, ix.generation()),
        stale(std::slice::from_ref(&util), false)
    );
    ix.refresh(Changes::Paths(vec![util.clone()]), &NoProgress)
        .unwrap();
    assert_eq!(freshness(&db, &root, ix.generation()), Freshness::Fresh);

    // Half-written: the last good version stays indexed, and the index counts as current.
    p.write("src/util.rs", "pub fn helper(x: u32) -> u32 {\n    x +\n");
    let r = ix
        .refresh(Changes::Paths(vec![util.clone()]), &NoProgress)
        .unwrap();
    assert_eq!(r.new_problems.len(), 1, "{:?}", r.new_problems);
    assert_eq!(freshness(&db, &root, ix.generation()), Freshness::Fresh);
    p.write("src/util.rs", UTIL);
    assert!(matches!(
        freshness(&db, &root, ix.generation()),
        Freshness::Stale { .. }
    ));
}
