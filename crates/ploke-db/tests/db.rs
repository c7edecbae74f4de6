//! Round trips, deltas, queries and schema checks against a real on-disk store.

mod common;

use common::{sources, synthetic};
use ploke_core::{
    ContentHash, Edge, EdgeKind, Graph, ItemKind, Node, NodeId, Skipped, Span, Unresolved,
    Visibility,
};
use ploke_db::{Db, DbError, Stats, SCHEMA_VERSION};

fn write_all(db: &Db, g: &Graph) {
    db.apply(&Graph::diff(&Graph::default(), g), &sources(g, 200), &[])
        .unwrap();
}

#[test]
fn round_trip_on_disk_and_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let g = synthetic(1, 5, 300, 4);
    {
        let db = Db::open(dir.path()).unwrap();
        assert_eq!(db.load_graph().unwrap(), Graph::default());
        write_all(&db, &g);
        assert_eq!(db.load_graph().unwrap(), g);
    }
    assert!(dir.path().join(ploke_db::DB_FILE_NAME).exists());
    let db = Db::open(dir.path()).unwrap();
    assert_eq!(db.load_graph().unwrap(), g);
    assert_eq!(db.all_nodes().unwrap(), g.nodes);
    assert_eq!(db.files().unwrap(), g.files);
    assert_eq!(db.crates().unwrap(), g.crates);
    assert_eq!(db.skipped().unwrap(), g.skipped);
    let srcs = sources(&g, 200);
    assert_eq!(
        db.source(&srcs[2].0).unwrap().as_deref(),
        Some(srcs[2].1.as_str())
    );
    assert_eq!(db.source("no/such/file.rs").unwrap(), None);
    assert_eq!(
        db.stats().unwrap(),
        Stats {
            crates: g.crates.len() as u64,
            files: g.files.len() as u64,
            nodes: g.nodes.len() as u64,
            edges: g.edges.len() as u64,
            unresolved: g.unresolved.len() as u64,
            skipped: g.skipped.len() as u64,
        }
    );
}

/// Hand-built nodes exercising the edges of every field's encoding.
#[test]
fn round_trip_extreme_values() {
    let mut nodes = Vec::new();
    for (i, vis) in [
        Visibility::Private,
        Visibility::Public,
        Visibility::Crate,
        Visibility::Super,
        Visibility::Restricted("crate::a".into()),
    ]
    .into_iter()
    .enumerate()
    {
        nodes.push(Node {
            id: NodeId(u64::MAX - i as u64), // negative as i64
            kind: ItemKind::ALL[i * 5 % ItemKind::ALL.len()],
            crate_name: "ünï".into(),
            name: format!("n{i}"),
            display_name: "impl Trait<\"x\"> for Type".into(),
            path: format!("ünï::<Type as Trait>::n{i}"),
            module: String::new(),
            file: "src/lib.rs".into(),
            span: Span {
                start_byte: u32::MAX - 1,
                end_byte: u32::MAX,
                start_line: 0,
                end_line: u32::MAX,
            },
            visibility: vis,
            docs: "quote \" backslash \\ newline \n nul-free 🦀 $x {y}".into(),
            attrs: vec![
                "#[doc(hidden)]".into(),
                String::new(),
                "#[attr = \"é\"]".into(),
            ],
            cfg: "not(any(windows, target_os = \"macos\"))".into(),
            signature: "fn f<'a>(x: &'a str) -> impl Fn() + 'a".into(),
            content_hash: ContentHash(u128::MAX - i as u128),
            is_test: i % 2 == 0,
            parent: if i == 0 { None } else { Some(NodeId(i as u64)) },
        });
    }
    let mut g = Graph {
        nodes,
        ..Graph::default()
    };
    g.edges.push(Edge {
        src: NodeId(u64::MAX),
        kind: EdgeKind::Calls,
        dst: NodeId(0),
        line: u32::MAX,
    });
    g.unresolved.push(Unresolved {
        src: NodeId(1),
        kind: EdgeKind::UsesType,
        text: String::new(),
        line: 0,
    });
    g.skipped.push(Skipped {
        path: "a \"b\".rs".into(),
        line: 0,
        reason: String::new(),
        whole_file: true,
    });
    g.canonicalize();
    let db = Db::open_in_memory().unwrap();
    db.apply(
        &Graph::diff(&Graph::default(), &g),
        &[("e.rs".into(), String::new())],
        &[],
    )
    .unwrap();
    assert_eq!(db.load_graph().unwrap(), g);
    assert_eq!(db.source("e.rs").unwrap().as_deref(), Some(""));
    for n in &g.nodes {
        assert_eq!(db.node(n.id).unwrap().as_ref(), Some(n));
    }
}

#[test]
fn delta_turns_g1_into_g2() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let g1 = synthetic(7, 6, 200, 3);
    write_all(&db, &g1);

    let mut g2 = g1.clone();
    // A changed edge line (same src, kind, dst).
    g2.edges[10].line += 1000;
    // A removed node (and the edges that mention it).
    let gone = g2.nodes[20].id;
    g2.nodes.remove(20);
    g2.edges.retain(|e| e.src != gone && e.dst != gone);
    g2.unresolved.retain(|u| u.src != gone);
    // A changed node.
    g2.nodes[5].docs = "rewritten — “docs”".into();
    g2.nodes[5].span.end_line += 3;
    // A removed file and a changed file.
    let removed_file = g2.files.remove(0).path;
    g2.files[0].hash = ContentHash(42);
    // Changed skip record (same path and line, new reason) plus a new one.
    g2.skipped[0].reason = "a different error".into();
    g2.skipped.push(Skipped {
        path: "x.rs".into(),
        line: 9,
        reason: "bad".into(),
        whole_file: false,
    });
    // A changed unresolved line, a new edge and a new node.
    g2.unresolved[0].line += 1;
    let mut rng = common::Rng::new(99);
    let newbie = common::node(
        &mut rng,
        "synth",
        "crates/synth/src/new.rs",
        100_000,
        Some(g2.nodes[0].id),
    );
    g2.edges.push(Edge {
        src: g2.nodes[0].id,
        kind: EdgeKind::Contains,
        dst: newbie.id,
        line: 1,
    });
    g2.nodes.push(newbie);
    g2.canonicalize();

    let delta = Graph::diff(&g1, &g2);
    assert!(!delta.rm_edges.is_empty() && !delta.put_edges.is_empty());
    let changed = &g2.files[0].path;
    db.apply(
        &delta,
        &[(changed.clone(), "new text".into())],
        std::slice::from_ref(&removed_file),
    )
    .unwrap();
    assert_eq!(db.load_graph().unwrap(), g2);
    assert_eq!(db.source(&removed_file).unwrap(), None);
    assert_eq!(db.source(changed).unwrap().as_deref(), Some("new text"));
    assert_eq!(db.node(gone).unwrap(), None);

    // And back again, after a reopen.
    drop(db);
    let db = Db::open(dir.path()).unwrap();
    db.apply(&Graph::diff(&g2, &g1), &[], &[]).unwrap();
    assert_eq!(db.load_graph().unwrap(), g1);
    // An empty delta is a no-op.
    db.apply(&Graph::diff(&g1, &g1), &[], &[]).unwrap();
    assert_eq!(db.load_graph().unwrap(), g1);
}

#[test]
fn rm_then_put_with_same_key_keeps_the_put() {
    let db = Db::open_in_memory().unwrap();
    let e = Edge {
        src: NodeId(1),
        kind: EdgeKind::Calls,
        dst: NodeId(2),
        line: 5,
    };
    let mut delta = ploke_core::GraphDelta {
        put_edges: vec![e.clone()],
        ..Default::default()
    };
    db.apply(&delta, &[], &[]).unwrap();
    // Remove and re-put the very same row in one delta: the put wins.
    delta.rm_edges = vec![e.clone()];
    db.apply(&delta, &[], &[]).unwrap();
    assert_eq!(db.load_graph().unwrap().edges, vec![e]);
}

/// A small hand-made graph for the query tests:
/// ```text
/// krate ─contains→ Tr (trait), S (struct), imp (impl Tr for S), f, g
/// imp ─implements→ Tr, imp ─impl_for→ S, imp ─contains→ m (method)
/// f ─calls→ g (line 10), f ─calls→ m (line 11), g ─calls→ m (line 20)
/// ```
struct Fixture {
    g: Graph,
    krate: NodeId,
    tr: NodeId,
    s: NodeId,
    imp: NodeId,
    m: NodeId,
    f: NodeId,
    gf: NodeId,
}

fn fixture() -> Fixture {
    let mk = |kind: ItemKind, name: &str, display: &str, path: &str, parent: Option<NodeId>| Node {
        id: NodeId::new("k", path, kind, ""),
        kind,
        crate_name: "k".into(),
        name: name.into(),
        display_name: display.into(),
        path: path.into(),
        module: String::new(),
        file: "src/lib.rs".into(),
        span: Span {
            start_byte: 0,
            end_byte: 10,
            start_line: 1,
            end_line: 2,
        },
        visibility: Visibility::Public,
        docs: String::new(),
        attrs: vec![],
        cfg: String::new(),
        signature: String::new(),
        content_hash: ContentHash::of(path.as_bytes()),
        is_test: false,
        parent,
    };
    let krate = mk(ItemKind::Crate, "k", "k", "k", None);
    let tr = mk(ItemKind::Trait, "Tr", "Tr", "k::Tr", Some(krate.id));
    let s = mk(ItemKind::Struct, "S", "S", "k::S", Some(krate.id));
    let imp = mk(
        ItemKind::Impl,
        "impl Tr for S",
        "impl Tr for S",
        "k::<S as Tr>",
        Some(krate.id),
    );
    let m = mk(
        ItemKind::Method,
        "run",
        "S::run",
        "k::<S as Tr>::run",
        Some(imp.id),
    );
    let f = mk(ItemKind::Fn, "f", "f", "k::f", Some(krate.id));
    let gf = mk(ItemKind::Fn, "g", "g", "k::g", Some(krate.id));
    let e = |src: &Node, kind, dst: &Node, line| Edge {
        src: src.id,
        kind,
        dst: dst.id,
        line,
    };
    let mut edges = vec![];
    for child in [&tr, &s, &imp, &f, &gf] {
        edges.push(e(&krate, EdgeKind::Contains, child, 1));
    }
    edges.push(e(&imp, EdgeKind::Contains, &m, 1));
    edges.push(e(&imp, EdgeKind::ImplementsTrait, &tr, 1));
    edges.push(e(&imp, EdgeKind::ImplFor, &s, 1));
    edges.push(e(&f, EdgeKind::Calls, &gf, 10));
    edges.push(e(&f, EdgeKind::Calls, &m, 11));
    edges.push(e(&gf, EdgeKind::Calls, &m, 20));
    let unresolved = vec![
        Unresolved {
            src: f.id,
            kind: EdgeKind::Calls,
            text: "std::mem::take".into(),
            line: 12,
        },
        Unresolved {
            src: f.id,
            kind: EdgeKind::UsesType,
            text: "Arc".into(),
            line: 3,
        },
        Unresolved {
            src: gf.id,
            kind: EdgeKind::Calls,
            text: ".poll".into(),
            line: 21,
        },
    ];
    let ids = (krate.id, tr.id, s.id, imp.id, m.id, f.id, gf.id);
    let mut g = Graph {
        nodes: vec![krate, tr, s, imp, m, f, gf],
        edges,
        unresolved,
        ..Graph::default()
    };
    g.canonicalize();
    Fixture {
        g,
        krate: ids.0,
        tr: ids.1,
        s: ids.2,
        imp: ids.3,
        m: ids.4,
        f: ids.5,
        gf: ids.6,
    }
}

fn ids(nodes: &[Node]) -> Vec<NodeId> {
    nodes.iter().map(|n| n.id).collect()
}

fn with_lines(rows: &[(Node, u32)]) -> Vec<(NodeId, u32)> {
    rows.iter().map(|(n, l)| (n.id, *l)).collect()
}

#[test]
fn queries() {
    let fx = fixture();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    write_all(&db, &fx.g);

    // Sorted by path: k::<S as Tr>::run < k::f < k::g.
    assert_eq!(
        with_lines(&db.callers(fx.m).unwrap()),
        vec![(fx.f, 11), (fx.gf, 20)]
    );
    assert_eq!(with_lines(&db.callers(fx.gf).unwrap()), vec![(fx.f, 10)]);
    assert!(db.callers(fx.f).unwrap().is_empty());
    assert_eq!(
        with_lines(&db.callees(fx.f).unwrap()),
        vec![(fx.m, 11), (fx.gf, 10)]
    );
    assert_eq!(with_lines(&db.callees(fx.gf).unwrap()), vec![(fx.m, 20)]);

    assert_eq!(ids(&db.implementations(fx.tr).unwrap()), vec![fx.imp]);
    assert!(db.implementations(fx.s).unwrap().is_empty());

    assert_eq!(ids(&db.children(fx.imp).unwrap()), vec![fx.m]);
    assert_eq!(
        ids(&db.children(fx.krate).unwrap()),
        vec![fx.imp, fx.s, fx.tr, fx.f, fx.gf]
    );

    // By name or display name.
    assert_eq!(ids(&db.nodes_by_name("run").unwrap()), vec![fx.m]);
    assert_eq!(ids(&db.nodes_by_name("S::run").unwrap()), vec![fx.m]);
    assert_eq!(ids(&db.nodes_by_name("S").unwrap()), vec![fx.s]);
    assert_eq!(
        ids(&db.nodes_by_name("impl Tr for S").unwrap()),
        vec![fx.imp]
    );
    assert!(db.nodes_by_name("nope").unwrap().is_empty());
    // Injection-looking names are just values.
    assert!(db.nodes_by_name("\"] := *nodes{id} #").unwrap().is_empty());

    assert_eq!(
        ids(&db.nodes_by_path("k::<S as Tr>::run").unwrap()),
        vec![fx.m]
    );
    assert!(db.nodes_by_path("k::run").unwrap().is_empty());

    let f_node = fx.g.nodes.iter().find(|n| n.id == fx.f).unwrap();
    assert_eq!(db.node(fx.f).unwrap().as_ref(), Some(f_node));
    assert_eq!(db.node(NodeId(12345)).unwrap(), None);

    let un = db.unresolved_from(fx.f).unwrap();
    assert_eq!(
        un.iter().map(|u| u.text.as_str()).collect::<Vec<_>>(),
        vec!["std::mem::take", "Arc"]
    );
    assert_eq!(db.unresolved_from(fx.gf).unwrap().len(), 1);

    assert_eq!(
        db.edges_from(fx.imp, EdgeKind::ImplFor).unwrap(),
        vec![Edge {
            src: fx.imp,
            kind: EdgeKind::ImplFor,
            dst: fx.s,
            line: 1
        }]
    );
    assert_eq!(
        db.edges_to(fx.s, EdgeKind::ImplFor).unwrap(),
        db.edges_from(fx.imp, EdgeKind::ImplFor).unwrap()
    );
    assert_eq!(
        db.edges_from(fx.krate, EdgeKind::Contains).unwrap().len(),
        5
    );
    assert!(db
        .edges_to(fx.krate, EdgeKind::Contains)
        .unwrap()
        .is_empty());
    assert_eq!(db.edges_to(fx.m, EdgeKind::Calls).unwrap().len(), 2);
}

#[test]
fn meta_round_trip() {
    let db = Db::open_in_memory().unwrap();
    assert_eq!(db.get_meta("indexed_at").unwrap(), None);
    db.set_meta("indexed_at", "2024-01-01 \"quoted\"").unwrap();
    assert_eq!(
        db.get_meta("indexed_at").unwrap().as_deref(),
        Some("2024-01-01 \"quoted\"")
    );
    db.set_meta("indexed_at", "later").unwrap();
    assert_eq!(db.get_meta("indexed_at").unwrap().as_deref(), Some("later"));
    assert_eq!(
        db.get_meta("schema_version").unwrap(),
        Some(SCHEMA_VERSION.to_string())
    );
}

#[test]
fn schema_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path()).unwrap();
        db.set_meta("schema_version", &(SCHEMA_VERSION + 1).to_string())
            .unwrap();
    }
    let err = Db::open(dir.path()).unwrap_err();
    match &err {
        DbError::SchemaMismatch { found, expected } => {
            assert_eq!(*found, SCHEMA_VERSION + 1);
            assert_eq!(*expected, SCHEMA_VERSION);
        }
        other => panic!("expected a schema mismatch, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("--rebuild") && msg.contains("delete"), "{msg}");
}

#[test]
fn opens_in_a_new_nested_directory() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/.ploke");
    let db = Db::open(&nested).unwrap();
    assert_eq!(db.stats().unwrap(), Stats::default());
    assert!(nested.join(ploke_db::DB_FILE_NAME).exists());
}

/// Every query against brute force over a larger synthetic graph.
#[test]
fn queries_match_brute_force() {
    use std::collections::BTreeSet;
    let g = synthetic(3, 10, 1500, 5);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    write_all(&db, &g);
    let by_id: std::collections::HashMap<NodeId, &Node> =
        g.nodes.iter().map(|n| (n.id, n)).collect();
    for n in g.nodes.iter().step_by(37) {
        let got: BTreeSet<NodeId> = ids(&db.nodes_by_name(&n.name).unwrap())
            .into_iter()
            .collect();
        let want: BTreeSet<NodeId> = g
            .nodes
            .iter()
            .filter(|m| m.name == n.name || m.display_name == n.name)
            .map(|m| m.id)
            .collect();
        assert_eq!(got, want);
        let got = ids(&db.nodes_by_name(&n.display_name).unwrap())
            .into_iter()
            .collect::<BTreeSet<_>>();
        assert!(got.contains(&n.id));
        assert_eq!(ids(&db.nodes_by_path(&n.path).unwrap()), vec![n.id]);

        let mut want_callers: Vec<(NodeId, u32)> = g
            .edges
            .iter()
            .filter(|e| e.dst == n.id && e.kind == EdgeKind::Calls)
            .map(|e| (e.src, e.line))
            .collect();
        let mut got_callers = with_lines(&db.callers(n.id).unwrap());
        want_callers.sort();
        got_callers.sort();
        assert_eq!(got_callers, want_callers);

        let mut want_callees: Vec<(NodeId, u32)> = g
            .edges
            .iter()
            .filter(|e| e.src == n.id && e.kind == EdgeKind::Calls)
            .map(|e| (e.dst, e.line))
            .collect();
        let mut got_callees = with_lines(&db.callees(n.id).unwrap());
        want_callees.sort();
        got_callees.sort();
        assert_eq!(got_callees, want_callees);

        for kind in EdgeKind::ALL {
            let want: Vec<Edge> = g
                .edges
                .iter()
                .filter(|e| e.src == n.id && e.kind == kind)
                .cloned()
                .collect();
            assert_eq!(db.edges_from(n.id, kind).unwrap(), want);
            let want: Vec<Edge> = g
                .edges
                .iter()
                .filter(|e| e.dst == n.id && e.kind == kind)
                .cloned()
                .collect();
            assert_eq!(db.edges_to(n.id, kind).unwrap(), want);
        }
        let want: BTreeSet<NodeId> = g
            .edges
            .iter()
            .filter(|e| e.src == n.id && e.kind == EdgeKind::Contains)
            .map(|e| e.dst)
            .collect();
        assert_eq!(
            ids(&db.children(n.id).unwrap())
                .into_iter()
                .collect::<BTreeSet<_>>(),
            want
        );
        let want: BTreeSet<NodeId> = g
            .edges
            .iter()
            .filter(|e| e.dst == n.id && e.kind == EdgeKind::ImplementsTrait)
            .map(|e| e.src)
            .collect();
        assert_eq!(
            ids(&db.implementations(n.id).unwrap())
                .into_iter()
                .collect::<BTreeSet<_>>(),
            want
        );
        let want: Vec<Unresolved> = g
            .unresolved
            .iter()
            .filter(|u| u.src == n.id)
            .cloned()
            .collect();
        assert_eq!(db.unresolved_from(n.id).unwrap(), want);
        assert_eq!(
            db.node(n.id).unwrap().as_ref(),
            Some(*by_id.get(&n.id).unwrap())
        );
    }
}

#[test]
fn concurrent_readers_and_writer() {
    let g = synthetic(5, 4, 400, 3);
    let db = std::sync::Arc::new(Db::open_in_memory().unwrap());
    write_all(&db, &g);
    let readers: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            let g = g.clone();
            std::thread::spawn(move || {
                for n in g.nodes.iter().skip(t).step_by(40) {
                    assert_eq!(db.node(n.id).unwrap().as_ref(), Some(n));
                    db.callers(n.id).unwrap();
                }
            })
        })
        .collect();
    for i in 0..5 {
        db.set_meta("counter", &i.to_string()).unwrap();
    }
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(db.load_graph().unwrap(), g);
}

#[test]
fn store_file_uses_tuned_sqlite_settings() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    write_all(&db, &fixture().g);
    drop(db);
    let conn = sqlite::Connection::open(dir.path().join(ploke_db::DB_FILE_NAME)).unwrap();
    let one = |q: &str| {
        let mut st = conn.prepare(q).unwrap();
        assert_eq!(st.next().unwrap(), sqlite::State::Row);
        st.read::<String, _>(0).unwrap()
    };
    assert_eq!(one("PRAGMA page_size"), "8192");
    assert_eq!(one("PRAGMA default_cache_size"), "8192");
    assert_eq!(one("PRAGMA journal_mode"), "wal");
    assert!(one("SELECT sql FROM sqlite_master WHERE name = 'cozo'").contains("WITHOUT ROWID"));
    // And the store still opens and reads back.
    let db = Db::open(dir.path()).unwrap();
    assert_eq!(db.load_graph().unwrap(), fixture().g);
}

/// Two handles on one directory (as two processes would have): one reads while the other
/// writes, without "database is locked" errors (the store is in WAL mode).
#[test]
fn second_handle_reads_while_first_writes() {
    let dir = tempfile::tempdir().unwrap();
    let g1 = synthetic(11, 8, 800, 4);
    let mut g2 = g1.clone();
    for n in &mut g2.nodes {
        n.docs.push_str(" (edited)");
    }
    let writer = Db::open(dir.path()).unwrap();
    write_all(&writer, &g1);
    let reader = Db::open(dir.path()).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                let g = reader.load_graph().unwrap();
                assert!(g == g1 || g == g2, "a read saw a half-written graph");
                reads += 1;
            }
        });
        for _ in 0..3 {
            writer.apply(&Graph::diff(&g1, &g2), &[], &[]).unwrap();
            writer.apply(&Graph::diff(&g2, &g1), &[], &[]).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn embeddings_round_trip_by_model_and_hash() {
    use ploke_core::ContentHash;
    let db = Db::open_in_memory().unwrap();
    let (a, b) = (ContentHash::of(b"fn a() {}"), ContentHash::of(b"fn b() {}"));
    let va = vec![0.5f32, -0.25, 1.0e-7, f32::MAX];
    db.put_embeddings("m1", &[(a, va.clone()), (b, vec![1.0, 2.0, 3.0, 4.0])])
        .unwrap();
    db.put_embeddings("m2", &[(a, vec![9.0; 4])]).unwrap();
    let mut got = db.embeddings("m1").unwrap();
    got.sort_by_key(|(h, _)| h.to_hex());
    let mut want = vec![(a, va), (b, vec![1.0, 2.0, 3.0, 4.0])];
    want.sort_by_key(|(h, _)| h.to_hex());
    assert_eq!(got, want, "vectors come back bit for bit, per model");
    assert_eq!(db.embeddings("m2").unwrap(), vec![(a, vec![9.0; 4])]);
    // Re-putting a key replaces its vector.
    db.put_embeddings("m1", &[(b, vec![0.0; 4])]).unwrap();
    assert!(db.embeddings("m1").unwrap().contains(&(b, vec![0.0; 4])));
    db.remove_embeddings("m1", &[b]).unwrap();
    assert_eq!(db.embedding_hashes("m1").unwrap(), vec![a]);
    assert_eq!(
        db.embedding_hashes("m2").unwrap(),
        vec![a],
        "other models untouched"
    );
    assert!(db.embeddings("nope").unwrap().is_empty());
}

#[test]
fn version_1_store_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path()).unwrap();
        db.set_meta("schema_version", "1").unwrap();
        db.set_meta("kept", "yes").unwrap();
    }
    let db = Db::open(dir.path()).unwrap();
    assert_eq!(
        db.get_meta("schema_version").unwrap(),
        Some(SCHEMA_VERSION.to_string())
    );
    assert_eq!(db.get_meta("kept").unwrap().as_deref(), Some("yes"));
    db.put_embeddings("m", &[(ploke_core::ContentHash::of(b"x"), vec![1.0])])
        .unwrap();
}

/// Another process holds SQLite's lock for a moment (as a ploke process does while it opens
/// the store or checkpoints its log on exit): opening and reading wait for it instead of
/// failing with "locked" (a lock held for good is reported after a few seconds: see the
/// binary's tests/hardening.rs).
#[test]
fn a_lock_held_for_a_moment_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let g = synthetic(3, 3, 50, 2);
    write_all(&Db::open(dir.path()).unwrap(), &g);
    let file = dir.path().join(ploke_db::DB_FILE_NAME);
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = sqlite::Connection::open(&file).unwrap();
        conn.execute(
            "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS other (x); INSERT INTO other VALUES (1);",
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        conn.execute("ROLLBACK;").unwrap();
    });
    locked_rx.recv().unwrap();
    let start = std::time::Instant::now();
    let db = Db::open_existing(dir.path()).expect("opened once the lock was released");
    assert!(start.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(db.load_graph().unwrap(), g);
    holder.join().unwrap();
}
