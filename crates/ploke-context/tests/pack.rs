//! Packs built from a real index of the `item_kinds` fixture (`tests/fixtures/item_kinds`),
//! checked against the fixture's source text and re-counted with the real tokenizer.

use std::path::PathBuf;
use std::sync::OnceLock;

use ploke_context::{
    build_pack, Cl100k, ContextError, Pack, PackItem, PackOptions, Role, TokenCounter,
};
use ploke_core::{ItemKind, Node, NodeId};
use ploke_db::Db;
use ploke_test_support::Project;

/// One indexed copy of a fixture.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    db: Db,
}

/// Copies `tests/fixtures/item_kinds` to a temp directory and indexes it.
fn item_kinds() -> Fixture {
    let p = Project::fixture("item_kinds");
    let db_dir = p.db("db");
    p.index(&db_dir);
    let db = Db::open(&db_dir).unwrap();
    Fixture {
        _tmp: p.tmp,
        root: p.root,
        db,
    }
}

fn counter() -> &'static Cl100k {
    static COUNTER: OnceLock<Cl100k> = OnceLock::new();
    COUNTER.get_or_init(|| Cl100k::new().unwrap())
}

impl Fixture {
    /// The one node with this canonical path and kind.
    fn node(&self, path: &str, kind: ItemKind) -> Node {
        let mut found: Vec<Node> = self
            .db
            .nodes_by_path(path)
            .unwrap()
            .into_iter()
            .filter(|n| n.kind == kind)
            .collect();
        assert_eq!(found.len(), 1, "one {kind} at {path}");
        found.pop().unwrap()
    }

    /// The source text of `node` read from the fixture on disk: its span, from the start of
    /// its first line when only indentation precedes it.
    fn source_of(&self, node: &Node) -> String {
        let text = std::fs::read_to_string(self.root.join(&node.file)).unwrap();
        let (start, end) = (node.span.start_byte as usize, node.span.end_byte as usize);
        let line_start: usize = text
            .split_inclusive('\n')
            .take(node.span.start_line as usize - 1)
            .map(str::len)
            .sum();
        let from = if text[line_start..start].trim().is_empty() {
            line_start
        } else {
            start
        };
        text[from..end].to_string()
    }

    fn pack(&self, ranked: &[&Node], opts: &PackOptions) -> Pack {
        let ranked = rank(ranked);
        build_pack(&self.db, "where are points built", &ranked, opts, counter()).unwrap()
    }

    /// Every fn, method, type, trait and impl of the fixture, ordered by path: a stand-in for
    /// a long search result.
    fn everything(&self) -> Vec<(NodeId, f32)> {
        let mut nodes: Vec<Node> = self
            .db
            .all_nodes()
            .unwrap()
            .into_iter()
            .filter(|n| {
                matches!(
                    n.kind,
                    ItemKind::Fn
                        | ItemKind::Method
                        | ItemKind::Struct
                        | ItemKind::Enum
                        | ItemKind::Trait
                        | ItemKind::Impl
                )
            })
            .collect();
        nodes.sort_by(|a, b| (&a.path, a.id).cmp(&(&b.path, b.id)));
        let refs: Vec<&Node> = nodes.iter().collect();
        rank(&refs)
    }
}

/// Ranked pairs with decreasing scores.
fn rank(nodes: &[&Node]) -> Vec<(NodeId, f32)> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, 10.0 - i as f32 * 0.1))
        .collect()
}

fn entry(pack: &Pack, id: NodeId) -> Option<&PackItem> {
    pack.items.iter().find(|i| i.id == id)
}

fn opts(budget: usize) -> PackOptions {
    PackOptions {
        budget,
        ..Default::default()
    }
}

/// The pack's markdown re-counted: exactly `tokens`, within the budget.
fn assert_within_budget(pack: &Pack) {
    let counted = counter().count(&pack.to_markdown());
    assert_eq!(counted, pack.tokens, "tokens is the count of the markdown");
    assert!(
        counted <= pack.budget,
        "{counted} tokens > budget {}",
        pack.budget
    );
}

#[test]
fn primary_is_the_exact_source_of_the_item() {
    let fx = item_kinds();
    let new = fx.node("item_kinds::Point::new", ItemKind::Method);
    let pack = fx.pack(&[&new], &opts(8000));
    let item = &pack.items[0];
    assert_eq!(item.id, new.id);
    assert_eq!(item.role, Role::Primary);
    assert_eq!(item.text, fx.source_of(&new));
    assert!(
        item.text
            .starts_with("    /// Make a point.\n    pub fn new("),
        "{:?}",
        item.text
    );
    assert!(item.text.ends_with("\n    }"));
    assert_eq!(
        (item.path.as_str(), item.name.as_str()),
        ("item_kinds::Point::new", "Point::new")
    );
    assert_eq!(
        (item.kind, item.file.as_str()),
        (ItemKind::Method, "src/lib.rs")
    );
    assert_eq!((item.start_line, item.end_line), (96, 99));
    assert_eq!(item.reason, "search hit #1 (score 10.00)");
    assert_eq!(item.tokens, counter().count(&item.to_markdown()));
    assert_within_budget(&pack);

    let md = pack.to_markdown();
    assert!(
        md.starts_with("# Context pack: where are points built\n"),
        "{md}"
    );
    let section = "### item_kinds::Point::new (method) — src/lib.rs:96-99\n\
                   primary: search hit #1 (score 10.00)\n\n```rust\n    /// Make a point.\n";
    assert!(md.contains(section), "{md}");
}

#[test]
fn method_brings_its_type_and_callers() {
    let fx = item_kinds();
    let new = fx.node("item_kinds::Point::new", ItemKind::Method);
    let pack = fx.pack(&[&new], &opts(8000));

    let point = fx.node("item_kinds::Point", ItemKind::Struct);
    let ty = entry(&pack, point.id).expect("the method's type is in the pack");
    assert_eq!(
        (ty.role, ty.reason.as_str()),
        (Role::Neighbour, "type of method Point::new")
    );
    assert_eq!(
        ty.text,
        "/// A point with named fields.\n#[derive(Debug, Clone, Default)]\npub struct Point {\n    \
         pub x: i32,\n    pub(crate) y: i32,\n    tags: Map<String, u8>,\n}"
    );

    for caller in [
        "item_kinds::file_mod::make",
        "item_kinds::Point::flipped",
        "item_kinds::uses_everything",
    ] {
        let kind = if caller.ends_with("flipped") {
            ItemKind::Method
        } else {
            ItemKind::Fn
        };
        let node = fx.node(caller, kind);
        let e = entry(&pack, node.id).unwrap_or_else(|| panic!("caller {caller} is in the pack"));
        assert_eq!(
            (e.role, e.reason.as_str()),
            (Role::Neighbour, "caller of Point::new")
        );
        assert!(
            e.text.ends_with(&format!("{};", node.signature)),
            "{:?}",
            e.text
        );
    }
    // Point::new calls nothing indexed, so there are exactly these four neighbours.
    assert_eq!(pack.items.len(), 5, "{:#?}", pack.items);
    assert_within_budget(&pack);
}

#[test]
fn function_brings_its_callees_in_call_order() {
    let fx = item_kinds();
    let uses = fx.node("item_kinds::uses_everything", ItemKind::Fn);
    let opts = PackOptions {
        max_neighbours_per_item: 3,
        ..opts(8000)
    };
    let pack = fx.pack(&[&uses], &opts);
    let neighbours: Vec<(&str, &str)> = pack
        .items
        .iter()
        .filter(|i| i.role == Role::Neighbour)
        .map(|i| (i.path.as_str(), i.reason.as_str()))
        .collect();
    assert_eq!(
        neighbours,
        [
            ("item_kinds::Point::new", "callee of uses_everything"),
            ("item_kinds::Point::norm", "callee of uses_everything"),
            ("item_kinds::local_max", "callee of uses_everything"),
        ]
    );
    let new = entry(
        &pack,
        fx.node("item_kinds::Point::new", ItemKind::Method).id,
    )
    .unwrap();
    assert_eq!(
        new.text,
        "/// Make a point.\npub fn new(x: i32, y: i32) -> Self;"
    );
    assert_within_budget(&pack);
}

#[test]
fn trait_impl_method_brings_the_trait_declaration_of_it() {
    let fx = item_kinds();
    let name = fx.node("item_kinds::<Point as Named>::name", ItemKind::Method);
    let pack = fx.pack(&[&name], &opts(8000));
    let named = fx.node("item_kinds::Named", ItemKind::Trait);
    let tr = entry(&pack, named.id).expect("the implemented trait is in the pack");
    assert_eq!(
        (tr.role, tr.reason.as_str()),
        (Role::Neighbour, "trait implemented by Point::name")
    );
    assert_eq!(
        tr.text,
        "/// Something with a name.\npub trait Named {\n    fn name(&self) -> String;\n    // … 3 more items\n}"
    );
    let point = fx.node("item_kinds::Point", ItemKind::Struct);
    assert_eq!(
        entry(&pack, point.id).unwrap().reason,
        "type of method Point::name"
    );
    assert_within_budget(&pack);
}

#[test]
fn trait_brings_its_implementation_headers() {
    let fx = item_kinds();
    let named = fx.node("item_kinds::Named", ItemKind::Trait);
    let pack = fx.pack(&[&named], &opts(8000));
    assert_eq!(pack.items[0].role, Role::Primary);
    let impls: Vec<(&str, &str)> = pack.items[1..]
        .iter()
        .map(|i| (i.reason.as_str(), i.text.as_str()))
        .collect();
    assert_eq!(
        impls,
        [
            (
                "implementation of Named (1 of 3)",
                "impl Named for Point { … }"
            ),
            (
                "implementation of Named (2 of 3)",
                "impl<T: fmt::Debug> Named for Wrapper<T> { … }"
            ),
            (
                "implementation of Named (3 of 3)",
                "impl crate::Named for crate::Unit { … }"
            ),
        ]
    );
    assert_within_budget(&pack);
}

#[test]
fn an_item_appears_once() {
    let fx = item_kinds();
    let imp = fx.node("item_kinds::<impl Point>", ItemKind::Impl);
    let new = fx.node("item_kinds::Point::new", ItemKind::Method);
    let norm = fx.node("item_kinds::Point::norm", ItemKind::Method);
    let make = fx.node("item_kinds::file_mod::make", ItemKind::Fn);
    let point = fx.node("item_kinds::Point", ItemKind::Struct);

    // Methods inside an included impl are not repeated, in either rank order; a ranked item
    // that is also a neighbour (make calls Point::new) stays a primary; repeats count once.
    for ranked in [
        vec![&imp, &new, &norm, &make, &point],
        vec![&new, &norm, &imp, &make, &point, &new],
    ] {
        let pack = fx.pack(&ranked, &opts(8000));
        let mut ids: Vec<NodeId> = pack.items.iter().map(|i| i.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            pack.items.len(),
            "no item twice: {:#?}",
            pack.items
        );
        assert!(
            entry(&pack, new.id).is_none(),
            "Point::new is shown inside its impl"
        );
        assert!(
            entry(&pack, norm.id).is_none(),
            "Point::norm is shown inside its impl"
        );
        assert_eq!(entry(&pack, imp.id).unwrap().role, Role::Primary);
        assert_eq!(entry(&pack, make.id).unwrap().role, Role::Primary);
        assert_eq!(entry(&pack, point.id).unwrap().role, Role::Primary);
        assert_eq!(pack.omitted, 0);
        // make's callee Point::new is inside the impl: not a neighbour either.
        assert!(pack.items.iter().all(|i| i.reason != "callee of make"));
        assert_within_budget(&pack);
    }
}

#[test]
fn budgets_are_respected_and_text_is_never_cut() {
    let fx = item_kinds();
    let ranked = fx.everything();
    assert!(ranked.len() > 30);
    let mut sizes = Vec::new();
    for budget in [200, 1000, 8000] {
        let opts = PackOptions {
            max_primaries: ranked.len(),
            ..opts(budget)
        };
        let pack = build_pack(&fx.db, "everything", &ranked, &opts, counter()).unwrap();
        assert_within_budget(&pack);
        assert!(!pack.items.is_empty(), "budget {budget} holds something");
        for item in &pack.items {
            assert_eq!(item.tokens, counter().count(&item.to_markdown()));
            if item.role == Role::Primary {
                let node = fx.db.node(item.id).unwrap().unwrap();
                assert_eq!(item.text, fx.source_of(&node), "{} is whole", item.path);
            }
        }
        let primary: usize = pack
            .items
            .iter()
            .filter(|i| i.role == Role::Primary)
            .map(|i| i.tokens)
            .sum();
        assert!(
            primary <= budget * 7 / 10,
            "primaries stay within their share at {budget}"
        );
        sizes.push(pack.items.len());
    }
    assert!(
        sizes[0] < sizes[1] && sizes[1] < sizes[2],
        "more budget, more items: {sizes:?}"
    );
}

#[test]
fn tiny_budget_degrades_gracefully() {
    let fx = item_kinds();
    let ranked = fx.everything();
    for budget in [30, 50, 80] {
        let pack = build_pack(&fx.db, "everything", &ranked, &opts(budget), counter()).unwrap();
        assert_within_budget(&pack);
        assert!(pack
            .items
            .iter()
            .all(|i| i.role != Role::Primary || i.tokens < budget));
        assert!(pack.omitted > 0);
        assert!(
            pack.to_markdown().contains("ranked items left out"),
            "{}",
            pack.to_markdown()
        );
    }
    let err = build_pack(&fx.db, "everything", &ranked, &opts(5), counter()).unwrap_err();
    assert!(
        matches!(err, ContextError::BudgetTooSmall { budget: 5, .. }),
        "{err}"
    );
}

#[test]
fn a_container_that_does_not_fit_is_outlined() {
    let fx = item_kinds();
    let imp = fx.node("item_kinds::<impl Point>", ItemKind::Impl);
    let full = fx.pack(&[&imp], &opts(8000)).items[0].tokens;
    // The whole budget is the size of the impl's section alone: with the header it cannot fit.
    let opts = PackOptions {
        primary_share: 1.0,
        ..opts(full)
    };
    let pack = fx.pack(&[&imp], &opts);
    let item = &pack.items[0];
    assert_eq!((item.id, item.role), (imp.id, Role::Outline));
    assert_eq!(
        item.text,
        "impl Point {\n    pub const DIMS: usize;\n    pub fn new(x: i32, y: i32) -> Self;\n    \
         pub fn norm(&self) -> i32;\n    pub fn boxed(self: Box<Self>) -> i32;\n}"
    );
    assert_within_budget(&pack);
}

#[test]
fn a_function_that_does_not_fit_is_its_signature() {
    let fx = item_kinds();
    let uses = fx.node("item_kinds::uses_everything", ItemKind::Fn);
    let full = fx.pack(&[&uses], &opts(8000)).items[0].tokens;
    let pack = fx.pack(&[&uses], &opts(full));
    let item = &pack.items[0];
    assert_eq!((item.id, item.role), (uses.id, Role::Outline));
    assert_eq!(
        item.text,
        "/// Uses a bit of everything.\npub fn uses_everything() -> i32;"
    );
    assert_within_budget(&pack);
}

#[test]
fn json_round_trips_with_stable_field_names() {
    let fx = item_kinds();
    let pack = build_pack(
        &fx.db,
        "everything",
        &fx.everything(),
        &opts(1000),
        counter(),
    )
    .unwrap();
    let json = serde_json::to_string(&pack).unwrap();
    let back: Pack = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pack);

    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in ["request", "budget", "tokens", "items"] {
        assert!(value.get(key).is_some(), "pack has `{key}`");
    }
    let item = &value["items"][0];
    for key in [
        "path",
        "name",
        "kind",
        "file",
        "start_line",
        "end_line",
        "role",
        "reason",
        "tokens",
        "text",
    ] {
        assert!(item.get(key).is_some(), "item has `{key}`");
    }
    assert_eq!(item["role"], "primary");
    assert_eq!(item["id"].as_str().map(str::len), Some(16));
}

#[test]
fn unknown_ids_are_skipped_and_bad_options_refused() {
    let fx = item_kinds();
    let new = fx.node("item_kinds::Point::new", ItemKind::Method);
    let ranked = [(NodeId(12345), 9.0), (new.id, 8.0)];
    let pack = build_pack(&fx.db, "q", &ranked, &opts(8000), counter()).unwrap();
    assert_eq!(pack.items[0].id, new.id);
    assert_eq!(pack.items[0].reason, "search hit #2 (score 8.00)");

    let bad = PackOptions {
        primary_share: 1.5,
        ..Default::default()
    };
    let err = build_pack(&fx.db, "q", &ranked, &bad, counter()).unwrap_err();
    assert!(matches!(err, ContextError::InvalidOptions(_)), "{err}");
}

#[test]
fn empty_ranking_is_an_empty_pack() {
    let fx = item_kinds();
    let pack = build_pack(&fx.db, "nothing", &[], &opts(100), counter()).unwrap();
    assert!(pack.items.is_empty());
    assert_eq!(pack.omitted, 0);
    assert_within_budget(&pack);
    assert!(pack.to_markdown().contains("no items"));
}

#[test]
fn a_module_is_outlined_with_the_items_of_its_file() {
    let fx = item_kinds();
    let module = fx.node("item_kinds::file_mod", ItemKind::Module);
    let pack = fx.pack(&[&module], &opts(8000));
    let item = &pack.items[0];
    assert_eq!(
        (item.role, item.file.as_str()),
        (Role::Outline, "src/lib.rs")
    );
    assert_eq!(
        item.text,
        "/// A module in its own file.\npub mod file_mod {\n    pub fn make() -> Point;\n    \
         pub(crate) mod nested_inline { … }\n    impl super::Point { … }\n    \
         impl crate::Named for crate::Unit { … }\n}"
    );
    assert_within_budget(&pack);
}

/// A tokenizer whose sections cost more together than apart (each section header costs as
/// much as there are section headers), so that the sum of the entries' counts underestimates
/// the pack and the final measurement has to drop entries.
struct Superadditive;

impl TokenCounter for Superadditive {
    fn count(&self, text: &str) -> usize {
        let sections = text.matches("### ").count();
        text.len() / 4 + sections * sections
    }
}

#[test]
fn a_pluggable_counter_is_obeyed_even_when_sections_do_not_add_up() {
    let fx = item_kinds();
    let ranked = fx.everything();
    let opts = PackOptions {
        max_primaries: ranked.len(),
        ..opts(1500)
    };
    let pack = build_pack(&fx.db, "everything", &ranked, &opts, &Superadditive).unwrap();
    assert!(!pack.items.is_empty());
    assert_eq!(Superadditive.count(&pack.to_markdown()), pack.tokens);
    assert!(pack.tokens <= 1500, "{} tokens", pack.tokens);
    let estimated: usize = pack.items.iter().map(|i| i.tokens).sum();
    assert!(
        estimated < pack.tokens,
        "the sections alone underestimate this counter"
    );
}
