//! A long-lived [`Indexer`] told which files changed (as a watcher does) must leave exactly
//! the graph a clean index of the same tree gives, after every step, while rebuilding only
//! the targets a change can affect.

mod common;

use std::path::PathBuf;

use ploke_core::Graph;
use ploke_index::{Changes, IndexOptions, Indexer, NoProgress};

/// A copy of the two-package fixture (`shape-kit`, a library; `app`, a library, a binary
/// and an example that use it).
struct Ws {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
}

impl Ws {
    fn new() -> Ws {
        let p = common::Project::copy_of(&ploke_test_support::fixture("workspace_multi"), "ws");
        let db = p.db("db");
        Ws {
            _tmp: p.tmp,
            root: p.root,
            db,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn edit(&self, rel: &str, from: &str, to: &str) -> PathBuf {
        let text = self.read(rel);
        assert_eq!(text.matches(from).count(), 1, "`{from}` once in {rel}");
        self.write(rel, &text.replacen(from, to, 1))
    }

    fn indexer(&self) -> Indexer {
        let opts = IndexOptions {
            db_dir: Some(self.db.clone()),
            ..Default::default()
        };
        let mut ix = Indexer::open(&self.root, &opts).unwrap();
        ix.refresh(Changes::All, &NoProgress).unwrap();
        ix
    }

    /// A clean index of the tree as it is now.
    fn clean(&self) -> Graph {
        let dir = tempfile::tempdir().unwrap();
        common::index_dir(&self.root, dir.path());
        common::load(dir.path())
    }
}

/// Refreshes `changed` and checks memory and database against a clean index; returns how
/// many targets were rebuilt.
fn step(ws: &Ws, ix: &mut Indexer, changed: Vec<PathBuf>, what: &str) -> usize {
    let r = ix.refresh(Changes::Paths(changed), &NoProgress).unwrap();
    let clean = ws.clean();
    common::assert_same_graph(&ix.graph(), &clean, &format!("{what}: in memory"));
    common::assert_same_graph(&common::load(&ws.db), &clean, &format!("{what}: stored"));
    r.rebuilt_targets
}

const KIT_LIB: &str = "crates/shape-kit/src/lib.rs";
const KIT_GEO: &str = "crates/shape-kit/src/geometry.rs";
const APP_LIB: &str = "crates/app/src/lib.rs";
const APP_MAIN: &str = "crates/app/src/main.rs";

#[test]
fn every_step_equals_a_clean_index_and_only_affected_targets_are_rebuilt() {
    let ws = Ws::new();
    let mut ix = ws.indexer();
    common::assert_same_graph(&ix.graph(), &ws.clean(), "first index");
    let targets = ix.graph().crates.len();
    assert_eq!(targets, 4, "shape_kit, app (lib), app (bin), demo");

    // A body changes: only its target is built again.
    let f = ws.edit(KIT_GEO, "self.size\n", "self.size + 0\n");
    assert_eq!(step(&ws, &mut ix, vec![f], "edit a body"), 1);

    // A new function nobody mentions: still only its target.
    let f = ws.edit(
        KIT_LIB,
        "pub fn area",
        "pub fn perimeter(t: &Thing) -> u32 {\n    4 * t.size()\n}\n\npub fn area",
    );
    assert_eq!(step(&ws, &mut ix, vec![f], "add an unused function"), 1);

    // A call to a function that does not exist yet stays unresolved ...
    let f = ws.edit(
        APP_LIB,
        "pub fn build()",
        "pub fn scaled() -> u32 {\n    shape_kit::double(2)\n}\n\npub fn build()",
    );
    assert_eq!(step(&ws, &mut ix, vec![f], "call a missing function"), 1);
    // ... until it is written: then the caller's target is built again too.
    let f = ws.edit(
        KIT_LIB,
        "pub fn area",
        "pub fn double(x: u32) -> u32 {\n    2 * x\n}\n\npub fn area",
    );
    assert_eq!(step(&ws, &mut ix, vec![f], "define the called function"), 2);

    // A type is renamed in its crate, and in a user in the same save.
    let mut changed = Vec::new();
    for rel in [
        KIT_LIB,
        KIT_GEO,
        APP_LIB,
        APP_MAIN,
        "crates/app/examples/demo.rs",
    ] {
        let text = ws.read(rel).replace("Thing", "Widget");
        changed.push(ws.write(rel, &text));
    }
    step(&ws, &mut ix, changed, "rename a type everywhere");

    // A re-export appears: users of the re-exported name resolve through it.
    let f = ws.edit(
        KIT_LIB,
        "pub use geometry::Widget;",
        "pub use geometry::Widget;\npub use geometry::Widget as Gadget;",
    );
    step(&ws, &mut ix, vec![f], "add a renamed re-export");
    let f = ws.edit(
        APP_MAIN,
        "fn main() {",
        "fn gadget() -> shape_kit::Gadget {\n    shape_kit::Gadget::new(1)\n}\n\nfn main() {",
    );
    step(&ws, &mut ix, vec![f], "use the re-export");

    // A new module file, then its declaration.
    let new = ws.write(
        "crates/shape-kit/src/extra.rs",
        "pub fn extra() -> u32 {\n    crate::double(1)\n}\n",
    );
    step(&ws, &mut ix, vec![new], "a file no module declares yet");
    let f = ws.edit(
        KIT_LIB,
        "pub mod geometry;",
        "pub mod geometry;\npub mod extra;",
    );
    step(&ws, &mut ix, vec![f], "declare the new module");
    let f = ws.edit(
        APP_LIB,
        "pub fn build()",
        "pub fn via_extra() -> u32 {\n    shape_kit::extra::extra()\n}\n\npub fn build()",
    );
    step(&ws, &mut ix, vec![f], "call into the new module");

    // A glob import brings names into scope.
    let f = ws.edit(
        APP_LIB,
        "use shape_kit::Widget;",
        "use shape_kit::Widget;\nuse shape_kit::extra::*;",
    );
    step(&ws, &mut ix, vec![f], "glob import");
    let f = ws.edit(APP_LIB, "shape_kit::extra::extra()", "extra()");
    step(&ws, &mut ix, vec![f], "call through the glob");
    let f = ws.edit(
        "crates/shape-kit/src/extra.rs",
        "pub fn extra()",
        "pub fn spare() -> u32 {\n    0\n}\n\npub fn extra()",
    );
    step(&ws, &mut ix, vec![f], "the glob's module gains a name");

    // A file goes away (its declaration stays: a problem), then comes back.
    let gone = ws.path("crates/shape-kit/src/extra.rs");
    let kept = ws.read("crates/shape-kit/src/extra.rs");
    std::fs::remove_file(&gone).unwrap();
    step(&ws, &mut ix, vec![gone.clone()], "delete a module file");
    ws.write("crates/shape-kit/src/extra.rs", &kept);
    step(&ws, &mut ix, vec![gone], "restore it");

    // A syntax error comes and goes.
    let f = ws.edit(KIT_GEO, "Widget { size }", "Widget { size: }");
    step(&ws, &mut ix, vec![f], "syntax error");
    let f = ws.edit(KIT_GEO, "Widget { size: }", "Widget { size }");
    step(&ws, &mut ix, vec![f], "fix the syntax error");

    // A whole directory of new files (a checkout), with one event for the directory.
    ws.write(
        "crates/app/src/more/mod.rs",
        "pub mod deep;\npub fn more() {}\n",
    );
    ws.write(
        "crates/app/src/more/deep.rs",
        "pub fn deep() -> u32 {\n    shape_kit::double(3)\n}\n",
    );
    let f = ws.edit(
        APP_LIB,
        "use shape_kit::Widget;",
        "pub mod more;\nuse shape_kit::Widget;",
    );
    step(
        &ws,
        &mut ix,
        vec![ws.path("crates/app/src/more"), f],
        "a new directory",
    );
    // And the directory goes.
    std::fs::remove_dir_all(ws.path("crates/app/src/more")).unwrap();
    let f = ws.edit(APP_LIB, "pub mod more;\n", "");
    step(
        &ws,
        &mut ix,
        vec![ws.path("crates/app/src/more"), f],
        "a directory removed",
    );

    // A manifest change (a new example target) is picked up from the manifest's path.
    ws.write(
        "crates/app/examples/second.rs",
        "fn main() {\n    app::build();\n}\n",
    );
    let m = ws.edit(
        "crates/app/Cargo.toml",
        "[dependencies]",
        "[[example]]\nname = \"second\"\n\n[dependencies]",
    );
    step(&ws, &mut ix, vec![m], "a new example in the manifest");
    assert_eq!(ix.graph().crates.len(), 5);
}

#[test]
fn many_random_edits_stay_equal_to_a_clean_index() {
    // A fixed pseudo-random walk over edits that move names between crates.
    let ws = Ws::new();
    let mut ix = ws.indexer();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for i in 0..24 {
        let name = format!("f{}", rand(4));
        let (rel, text) = match rand(5) {
            // Define (or redefine) a function in the library.
            0 => (KIT_LIB, format!("\npub fn {name}() -> u32 {{\n    {i}\n}}\n")),
            // Call it from app's library.
            1 => (APP_LIB, format!("\npub fn call_{i}() -> u32 {{\n    shape_kit::{name}()\n}}\n")),
            // Import it and call it by its bare name.
            2 => (APP_LIB, format!("\nuse shape_kit::{name} as g{i};\npub fn bare_{i}() -> u32 {{\n    g{i}()\n}}\n")),
            // Re-export it under a module path.
            3 => (KIT_GEO, format!("\npub use crate::{name} as re_{name}_{i};\n")),
            // Remove every definition of it.
            _ => {
                let text = ws.read(KIT_LIB);
                let cut = text.find(&format!("\npub fn {name}()")).map(|at| {
                    let end = text[at + 1..].find("\n}\n").map_or(text.len(), |e| at + 1 + e + 3);
                    format!("{}{}", &text[..at], &text[end..])
                });
                match cut {
                    Some(t) => {
                        let f = ws.write(KIT_LIB, &t);
                        step(&ws, &mut ix, vec![f], &format!("step {i}: remove {name}"));
                        continue;
                    }
                    None => continue,
                }
            }
        };
        let mut full = ws.read(rel);
        full.push_str(&text);
        let f = ws.write(rel, &full);
        step(
            &ws,
            &mut ix,
            vec![f],
            &format!("step {i}: {rel} += {}", text.trim()),
        );
    }
}

#[test]
fn a_write_by_another_process_is_read_back_before_the_next_delta() {
    let ws = Ws::new();
    let mut ix = ws.indexer();
    // Someone else indexes a change this indexer has not been told about.
    ws.edit(KIT_GEO, "self.size\n", "self.size * 1\n");
    common::index_dir(&ws.root, &ws.db);
    // This indexer's next refresh must still leave the database right.
    let f = ws.edit(APP_LIB, "Thing::new(3)", "Thing::new(4)");
    step(&ws, &mut ix, vec![f], "after another writer");
    // It never saw the geometry change as a path, yet the graph holds it: a generation it
    // did not write makes it read every file again.
    assert!(ix
        .graph()
        .nodes
        .iter()
        .any(|n| n.path == "shape_kit::geometry::Thing::size"));
}

#[test]
fn a_half_written_file_keeps_its_last_good_items_when_asked() {
    let ws = Ws::new();
    let opts = IndexOptions {
        db_dir: Some(ws.db.clone()),
        keep_last_good: true,
        ..Default::default()
    };
    let mut ix = Indexer::open(&ws.root, &opts).unwrap();
    ix.refresh(Changes::All, &NoProgress).unwrap();
    let good = ix.graph();
    // Saved half-way: the file ends in the middle of an item.
    let text = ws.read(KIT_GEO);
    let f = ws.write(KIT_GEO, &text[..text.len() / 2]);
    let r = ix
        .refresh(Changes::Paths(vec![f.clone()]), &NoProgress)
        .unwrap();
    let mut now = ix.graph();
    assert_eq!(
        now.nodes, good.nodes,
        "the items of the last good version stay"
    );
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert!(
        r.skipped[0].reason.contains("last good version"),
        "{}",
        r.skipped[0].reason
    );
    // Stored text and spans agree: the text of the last good version is kept too.
    let db = ploke_db::Db::open(&ws.db).unwrap();
    assert_eq!(db.source(KIT_GEO).unwrap().as_deref(), Some(text.as_str()));
    // Once whole again it is indexed as usual, and the problem is gone.
    std::fs::write(&f, &text).unwrap();
    let r = ix.refresh(Changes::Paths(vec![f]), &NoProgress).unwrap();
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    now = ix.graph();
    common::assert_same_graph(&now, &ws.clean(), "after the file is whole again");
}
