//! The live index: a session that watches its workspace answers `search` with every change
//! soon after it is written, whatever the change (new function, deleted file, new module,
//! new package, half-written file), ignores what it should, and stays consistent.

// Test helpers say what they measured or waited for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ploke_session::{
    Environment, Event, LiveOptions, OpenOptions, Overrides, SearchMode, SearchRequest, Session,
};
use ploke_test_support::{copy_dir, fixture};

struct Ws {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn workspace() -> Ws {
    let tmp = tempfile::Builder::new()
        .prefix("ploke-live-")
        .tempdir()
        .unwrap();
    let root = tmp.path().join("ws");
    copy_dir(&fixture("workspace_multi"), &root);
    let root = root.canonicalize().unwrap();
    Ws { _tmp: tmp, root }
}

impl Ws {
    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn append(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        let mut t = std::fs::read_to_string(&p).unwrap();
        t.push_str(text);
        std::fs::write(p, t).unwrap();
    }

    fn session(&self) -> Arc<Session> {
        let mut opts = OpenOptions::new(&self.root);
        opts.create = true;
        opts.env = Environment::from_pairs([("HOME".to_string(), "/nonexistent".to_string())]);
        opts.overrides = Overrides {
            no_embed: true,
            ..Overrides::default()
        };
        opts.holder = "live test".into();
        Arc::new(Session::open(&opts).unwrap())
    }
}

fn paths(s: &Session, q: &str) -> Vec<String> {
    s.search(&SearchRequest {
        query: q.into(),
        k: 20,
        mode: SearchMode::Lexical,
        scope: Default::default(),
    })
    .unwrap()
    .into_iter()
    .map(|h| h.item.path)
    .collect()
}

/// Waits until `pred` holds (or fails after a few seconds, naming `what`).
fn eventually(what: &str, mut pred: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if pred() {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{what}: not seen within 10 s");
}

fn events(s: &Session) -> Arc<Mutex<Vec<Event>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    s.subscribe(Arc::new(move |e: &Event| {
        if std::env::var_os("LIVE_DEBUG").is_some() {
            eprintln!("{e:?}");
        }
        sink.lock().unwrap().push(e.clone())
    }));
    seen
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn changes_of_every_kind_reach_search() {
    let ws = workspace();
    let s = ws.session();
    let rt = runtime();
    let _guard = rt.enter();
    let handle = s.watch(LiveOptions::default()).unwrap();
    let _seen = events(&s);
    assert!(paths(&s, "area").contains(&"shape_kit::area".to_string()));

    // A new function.
    ws.append(
        "crates/shape-kit/src/lib.rs",
        "\npub fn frobnicate_widgets() -> u32 {\n    7\n}\n",
    );
    eventually("a new function", || {
        paths(&s, "frobnicate_widgets").contains(&"shape_kit::frobnicate_widgets".to_string())
    });

    // A new module file and its declaration, in one save.
    ws.write(
        "crates/shape-kit/src/gears.rs",
        "pub fn spin_the_gears() {}\n",
    );
    ws.append("crates/shape-kit/src/lib.rs", "pub mod gears;\n");
    eventually("a new module", || {
        paths(&s, "spin_the_gears").contains(&"shape_kit::gears::spin_the_gears".to_string())
    });

    // A deleted file (its declaration stays: it is reported, its items are gone).
    std::fs::remove_file(ws.root.join("crates/shape-kit/src/gears.rs")).unwrap();
    eventually("a deleted file", || {
        !paths(&s, "spin_the_gears").contains(&"shape_kit::gears::spin_the_gears".to_string())
    });

    // A new workspace member.
    ws.write(
        "crates/extra/Cargo.toml",
        "[package]\nname = \"extra\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    ws.write(
        "crates/extra/src/lib.rs",
        "pub fn quux_from_a_new_member() {}\n",
    );
    let manifest = std::fs::read_to_string(ws.root.join("Cargo.toml")).unwrap();
    ws.write(
        "Cargo.toml",
        &manifest.replace("\"crates/app\"]", "\"crates/app\", \"crates/extra\"]"),
    );
    eventually("a new member package", || {
        paths(&s, "quux_from_a_new_member").contains(&"extra::quux_from_a_new_member".to_string())
    });

    handle.stop();
}

#[test]
fn ignored_files_and_the_index_directory_trigger_nothing() {
    let ws = workspace();
    ws.write(".gitignore", "generated/\n");
    let s = ws.session();
    let rt = runtime();
    let _guard = rt.enter();
    let handle = s.watch(LiveOptions::default()).unwrap();
    let seen = events(&s);
    // Settle: nothing should come from the first index's own writes.
    std::thread::sleep(Duration::from_millis(400));
    seen.lock().unwrap().clear();
    ws.write("generated/out.rs", "pub fn generated() {}\n");
    ws.write("crates/app/target/debug/x.rs", "fn x() {}\n");
    ws.write("README.md", "# hi\n");
    std::thread::sleep(Duration::from_millis(600));
    let updates: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Updated(_)))
        .cloned()
        .collect();
    assert!(
        updates.is_empty(),
        "no update for ignored files: {updates:?}"
    );
    // A real change still comes through, once.
    ws.append("crates/app/src/lib.rs", "\npub fn after_ignored() {}\n");
    eventually("the real change", || {
        paths(&s, "after_ignored").contains(&"app::after_ignored".to_string())
    });
    std::thread::sleep(Duration::from_millis(400));
    let n = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Updated(_)))
        .count();
    assert_eq!(n, 1, "one update, and the index's own writes trigger none");
    handle.stop();
}

#[test]
fn a_half_written_file_keeps_its_last_good_items_and_says_so_once() {
    let ws = workspace();
    let s = ws.session();
    let rt = runtime();
    let _guard = rt.enter();
    let handle = s.watch(LiveOptions::default()).unwrap();
    let seen = events(&s);
    let geo = ws.root.join("crates/shape-kit/src/geometry.rs");
    let good = std::fs::read_to_string(&geo).unwrap();
    // Saved half-way, twice (an editor's autosave).
    std::fs::write(&geo, &good[..good.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&geo, format!("{}\n", &good[..good.len() / 2])).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        paths(&s, "size").contains(&"shape_kit::geometry::Thing::size".to_string()),
        "the last good items stay"
    );
    let warnings: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "reported once: {warnings:?}");
    assert!(warnings[0].contains("geometry.rs"), "{warnings:?}");
    std::fs::write(&geo, good.replace("pub fn size", "pub fn measured_size")).unwrap();
    eventually("the fixed file", || {
        paths(&s, "measured_size")
            .contains(&"shape_kit::geometry::Thing::measured_size".to_string())
    });
    handle.stop();
}

#[test]
fn a_burst_settles_in_few_updates_and_readers_never_fail() {
    let ws = workspace();
    let s = ws.session();
    let rt = runtime();
    let _guard = rt.enter();
    let handle = s.watch(LiveOptions::default()).unwrap();
    let seen = events(&s);
    // Readers search all the time meanwhile.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (s, stop) = (s.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let hits = s
                        .search(&SearchRequest {
                            query: "area size".into(),
                            k: 5,
                            mode: SearchMode::Lexical,
                            scope: Default::default(),
                        })
                        .expect("search during updates");
                    assert!(!hits.is_empty());
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut decl = String::new();
    for i in 0..120 {
        ws.write(
            &format!("crates/app/src/m{i}.rs"),
            &format!("pub fn burst_item_{i}() {{}}\n"),
        );
        decl.push_str(&format!("pub mod m{i};\n"));
    }
    ws.append("crates/app/src/lib.rs", &decl);
    let has = |q: &str, p: &str| paths(&s, q).contains(&p.to_string());
    eventually("all 120 modules", || {
        has("burst_item_119", "app::m119::burst_item_119")
            && has("burst_item_0", "app::m0::burst_item_0")
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    let updates = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Updated(_)))
        .count();
    assert!(updates <= 6, "a burst is batched: {updates} updates");
    handle.stop();
}

#[test]
fn a_second_live_index_on_the_same_index_is_refused() {
    let ws = workspace();
    let s = ws.session();
    let rt = runtime();
    let _guard = rt.enter();
    let handle = s.watch(LiveOptions::default()).unwrap();
    let other = ws.session();
    let err = other
        .watch(LiveOptions::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("live test"), "names the holder: {err}");
    assert!(err.contains("already"), "{err}");
    handle.stop();
    // Once stopped, another may start.
    let again = other.watch(LiveOptions::default()).unwrap();
    again.stop();
}
