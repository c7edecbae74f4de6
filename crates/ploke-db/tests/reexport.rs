//! Public re-export paths (`indexmap::IndexMap` for `indexmap::map::IndexMap`) resolved to
//! their definitions by `Db::find_items`, `Db::find_items_how` and `Db::resolve_reexport`,
//! against a graph built by hand in the shape the indexer writes: `use` items are nodes of
//! kind `use` named by their use tree text, at `<module>::{use <text>}`, contained in their
//! module, with `reexports` edges (non-private) or `imports` edges (private) to what they
//! bring in.

use ploke_core::{ContentHash, Edge, EdgeKind, Graph, ItemKind, Node, NodeId, Span, Visibility};
use ploke_db::{Db, Found};

const K: &str = "ix";

#[derive(Default)]
struct Builder {
    g: Graph,
}

impl Builder {
    fn add(
        &mut self,
        kind: ItemKind,
        name: &str,
        path: &str,
        vis: Visibility,
        parent: Option<NodeId>,
    ) -> NodeId {
        let id = NodeId::new(K, path, kind, "");
        self.g.nodes.push(Node {
            id,
            kind,
            crate_name: K.into(),
            name: name.into(),
            display_name: name.into(),
            path: path.into(),
            module: String::new(),
            file: "src/lib.rs".into(),
            span: Span {
                start_byte: 0,
                end_byte: 1,
                start_line: 1,
                end_line: 1,
            },
            visibility: vis,
            docs: String::new(),
            attrs: vec![],
            cfg: String::new(),
            signature: String::new(),
            content_hash: ContentHash::of(path.as_bytes()),
            is_test: false,
            parent,
        });
        if let Some(p) = parent {
            self.edge(p, EdgeKind::Contains, id);
        }
        id
    }

    fn path_of(&self, id: NodeId) -> String {
        self.g
            .nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap()
            .path
            .clone()
    }

    /// An item `name` in module `parent`.
    fn item(&mut self, kind: ItemKind, parent: NodeId, name: &str, vis: Visibility) -> NodeId {
        let path = format!("{}::{name}", self.path_of(parent));
        self.add(kind, name, &path, vis, Some(parent))
    }

    /// `<vis> use <text>;` in module `parent`, bringing in `targets`.
    fn use_item(&mut self, parent: NodeId, text: &str, vis: Visibility, targets: &[NodeId]) {
        let path = format!("{}::{{use {text}}}", self.path_of(parent));
        let kind = if vis == Visibility::Private {
            EdgeKind::Imports
        } else {
            EdgeKind::Reexports
        };
        let id = self.add(ItemKind::Use, text, &path, vis, Some(parent));
        for &t in targets {
            self.edge(id, kind, t);
        }
    }

    fn edge(&mut self, src: NodeId, kind: EdgeKind, dst: NodeId) {
        self.g.edges.push(Edge {
            src,
            kind,
            dst,
            line: 1,
        });
    }
}

struct Fx {
    db: Db,
    index_map: NodeId,
    entry: NodeId,
    deep: NodeId,
    stream_ext: NodeId,
    thing: NodeId,
    g_fn: NodeId,
    red: NodeId,
    cyc_item: NodeId,
    method_new: NodeId,
}

fn fixture() -> Fx {
    use ItemKind as I;
    use Visibility::{Crate as PubCrate, Private, Public};
    let mut b = Builder::default();
    let root = b.add(I::Crate, K, K, Public, None);

    // pub mod map { pub struct IndexMap; pub struct Entry; pub struct Secret; fn helper() {}
    //               impl IndexMap { pub fn new() } }
    let map = b.item(I::Module, root, "map", Public);
    let index_map = b.item(I::Struct, map, "IndexMap", Public);
    let entry = b.item(I::Struct, map, "Entry", Public);
    let secret = b.item(I::Struct, map, "Secret", Public);
    b.item(I::Fn, map, "helper", Private);
    let method_new = b.add(I::Method, "new", "ix::map::IndexMap::new", Public, None);

    // Plain: `pub use crate::map::IndexMap;` at the crate root.
    b.use_item(root, "crate::map::IndexMap", Public, &[index_map]);
    // Private: `use crate::map::Secret;` is an import, not a re-export.
    b.use_item(root, "crate::map::Secret", Private, &[secret]);

    // Chain: mod inner { pub mod deep { pub struct Deep; } pub use self::deep::Deep; }
    //        pub mod prelude { pub use crate::inner::Deep; }  (edge already to the definition)
    let inner = b.item(I::Module, root, "inner", Private);
    let deep_mod = b.item(I::Module, inner, "deep", Public);
    let deep = b.item(I::Struct, deep_mod, "Deep", Public);
    b.use_item(inner, "self::deep::Deep", Public, &[deep]);
    let prelude = b.item(I::Module, root, "prelude", Public);
    b.use_item(prelude, "crate::inner::Deep", Public, &[deep]);

    // Module reached through a re-export: mod util { pub mod stream { pub trait StreamExt;
    //   pub use crate::util::other::Thing as Alias; } pub mod other { pub struct Thing; } }
    //   pub use crate::util::stream;  (so `ix::stream::StreamExt`, `ix::stream::Alias`)
    let util = b.item(I::Module, root, "util", Private);
    let stream = b.item(I::Module, util, "stream", Public);
    let stream_ext = b.item(I::Trait, stream, "StreamExt", Public);
    let other = b.item(I::Module, util, "other", Public);
    let thing = b.item(I::Struct, other, "Thing", Public);
    b.use_item(
        stream,
        "crate::util::other::Thing as Alias",
        Public,
        &[thing],
    );
    b.use_item(root, "crate::util::stream", Public, &[stream]);

    // Glob of a module: mod globbed { pub fn g_fn(); fn hidden(); } pub use self::globbed::*;
    let globbed = b.item(I::Module, root, "globbed", Private);
    let g_fn = b.item(I::Fn, globbed, "g_fn", Public);
    b.item(I::Fn, globbed, "hidden", Private);
    b.use_item(root, "self::globbed::*", Public, &[globbed]);

    // Glob of an enum: mod color { pub enum Color { Red } } pub use crate::color::Color::*;
    let color = b.item(I::Module, root, "color", Private);
    let color_enum = b.item(I::Enum, color, "Color", Public);
    let red = b.item(I::Variant, color_enum, "Red", Private);
    b.use_item(root, "crate::color::Color::*", Public, &[color_enum]);

    // Rename: pub mod renamed { pub use crate::map::{IndexMap as Map, Entry}; }
    let renamed = b.item(I::Module, root, "renamed", Public);
    b.use_item(
        renamed,
        "crate::map::{IndexMap as Map, Entry}",
        Public,
        &[index_map, entry],
    );

    // A cycle of globs: pub mod cyc_a { pub use crate::cyc_b::*; pub struct CycItem; }
    //                   pub mod cyc_b { pub use crate::cyc_a::*; }
    let cyc_a = b.item(I::Module, root, "cyc_a", Public);
    let cyc_b = b.item(I::Module, root, "cyc_b", PubCrate);
    let cyc_item = b.item(I::Struct, cyc_a, "CycItem", Public);
    b.use_item(cyc_a, "crate::cyc_b::*", Public, &[cyc_b]);
    b.use_item(cyc_b, "crate::cyc_a::*", PubCrate, &[cyc_a]);

    let mut g = b.g;
    g.canonicalize();
    let db = Db::open_in_memory().unwrap();
    db.apply(&Graph::diff(&Graph::default(), &g), &[], &[])
        .unwrap();
    Fx {
        db,
        index_map,
        entry,
        deep,
        stream_ext,
        thing,
        g_fn,
        red,
        cyc_item,
        method_new,
    }
}

fn ids(nodes: &[Node]) -> Vec<NodeId> {
    nodes.iter().map(|n| n.id).collect()
}

/// `find_items_how(target)` as ids and how.
fn how(fx: &Fx, target: &str) -> (Vec<NodeId>, Found) {
    let (nodes, how) = fx.db.find_items_how(target).unwrap();
    (ids(&nodes), how)
}

#[test]
fn plain_pub_use_at_crate_root_resolves_to_the_definition() {
    let fx = fixture();
    assert_eq!(
        how(&fx, "ix::IndexMap"),
        (vec![fx.index_map], Found::Reexport)
    );
    assert_eq!(
        ids(&fx.db.find_items("ix::IndexMap").unwrap()),
        vec![fx.index_map]
    );
    let def = &fx.db.find_items("ix::IndexMap").unwrap()[0];
    assert_eq!(def.path, "ix::map::IndexMap");
    assert_eq!(def.kind, ItemKind::Struct);
    assert_eq!(
        ids(&fx.db.resolve_reexport("ix::IndexMap").unwrap()),
        vec![fx.index_map]
    );
    // An item under a re-exported type, defined beside it: `ix::IndexMap::new`.
    assert_eq!(
        how(&fx, "ix::IndexMap::new"),
        (vec![fx.method_new], Found::Reexport)
    );
}

#[test]
fn canonical_paths_and_names_are_found_as_before() {
    let fx = fixture();
    assert_eq!(
        how(&fx, "ix::map::IndexMap"),
        (vec![fx.index_map], Found::Path)
    );
    assert_eq!(how(&fx, "IndexMap"), (vec![fx.index_map], Found::Name));
    // A `use` node's own path names nothing: use items are never returned.
    assert_eq!(
        how(&fx, "ix::{use crate::map::IndexMap}"),
        (vec![], Found::Name)
    );
    assert!(fx.db.resolve_reexport("IndexMap").unwrap().is_empty());
}

#[test]
fn chain_of_reexports_resolves() {
    let fx = fixture();
    assert_eq!(
        how(&fx, "ix::prelude::Deep"),
        (vec![fx.deep], Found::Reexport)
    );
    // Through the private module's own re-export, too.
    assert_eq!(
        how(&fx, "ix::inner::Deep"),
        (vec![fx.deep], Found::Reexport)
    );
    assert_eq!(
        how(&fx, "ix::inner::deep::Deep"),
        (vec![fx.deep], Found::Path)
    );
}

#[test]
fn module_reached_through_a_reexport() {
    let fx = fixture();
    // `ix::stream` is `pub use crate::util::stream;` of module `ix::util::stream`.
    assert_eq!(
        how(&fx, "ix::stream::StreamExt"),
        (vec![fx.stream_ext], Found::Reexport)
    );
    // ...and a rename inside that module.
    assert_eq!(
        how(&fx, "ix::stream::Alias"),
        (vec![fx.thing], Found::Reexport)
    );
    assert_eq!(
        how(&fx, "ix::util::stream::Alias"),
        (vec![fx.thing], Found::Reexport)
    );
    // The module itself resolves to its definition.
    let (nodes, found) = fx.db.find_items_how("ix::stream").unwrap();
    assert_eq!(found, Found::Reexport);
    assert_eq!(
        nodes.iter().map(|n| n.path.as_str()).collect::<Vec<_>>(),
        vec!["ix::util::stream"]
    );
}

#[test]
fn glob_reexports_of_modules_and_enums() {
    let fx = fixture();
    assert_eq!(how(&fx, "ix::g_fn"), (vec![fx.g_fn], Found::Reexport));
    // A private item of the globbed module is not re-exported.
    assert!(fx.db.resolve_reexport("ix::hidden").unwrap().is_empty());
    // Enum variants through `pub use crate::color::Color::*`.
    assert_eq!(how(&fx, "ix::Red"), (vec![fx.red], Found::Reexport));
    // Through a glob cycle, and a name the cycle never reaches (terminates, empty).
    assert_eq!(
        how(&fx, "ix::cyc_b::CycItem"),
        (vec![fx.cyc_item], Found::Reexport)
    );
    assert!(fx
        .db
        .resolve_reexport("ix::cyc_b::Nothing")
        .unwrap()
        .is_empty());
    assert!(fx
        .db
        .resolve_reexport("ix::cyc_a::Nothing")
        .unwrap()
        .is_empty());
}

#[test]
fn renamed_reexport_resolves_under_its_new_name_only() {
    let fx = fixture();
    assert_eq!(
        how(&fx, "ix::renamed::Map"),
        (vec![fx.index_map], Found::Reexport)
    );
    assert_eq!(
        how(&fx, "ix::renamed::Entry"),
        (vec![fx.entry], Found::Reexport)
    );
    // `IndexMap as Map` does not bind `IndexMap` in `renamed`.
    assert!(fx
        .db
        .resolve_reexport("ix::renamed::IndexMap")
        .unwrap()
        .is_empty());
}

#[test]
fn private_use_is_not_a_reexport_path() {
    let fx = fixture();
    assert!(fx.db.resolve_reexport("ix::Secret").unwrap().is_empty());
    assert_eq!(how(&fx, "ix::Secret"), (vec![], Found::Name));
    assert!(fx.db.find_items("ix::Secret").unwrap().is_empty());
}

#[test]
fn nonexistent_paths_stay_empty() {
    let fx = fixture();
    for target in [
        "ix::Nope",
        "ix::map::Nope",
        "ix::stream::Nope",
        "nope::x::y",
        "ix::IndexMap::nope",
        "::",
        "ix::",
        "a::b::c::d::e::f::g::h::i::j::k",
    ] {
        assert_eq!(how(&fx, target), (vec![], Found::Name), "{target}");
        assert!(fx.db.find_items(target).unwrap().is_empty(), "{target}");
    }
}
