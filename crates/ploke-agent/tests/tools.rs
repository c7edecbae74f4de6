//! The read-only tools against a real index of the `item_kinds` fixture.

use std::path::PathBuf;

use ploke_agent::{tool_specs, Toolbox, MAX_RESULT_CHARS};
use ploke_db::Db;
use ploke_retrieve::Retriever;
use ploke_test_support::Project;
use serde_json::json;

/// A copy of the `item_kinds` fixture, indexed: (temp dir, root, database).
fn indexed() -> (tempfile::TempDir, PathBuf, Db) {
    let p = Project::fixture("item_kinds");
    let db_dir = p.db("db");
    p.index(&db_dir);
    let db = Db::open(&db_dir).unwrap();
    (p.tmp, p.root, db)
}

#[test]
fn every_tool_answers_from_the_index() {
    let (_tmp, root, db) = indexed();
    let retriever = Retriever::load(&db, None).unwrap();
    let tools = Toolbox::new(&db, &retriever, None);
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();

    let specs = tool_specs();
    let names: Vec<_> = specs.iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "search_code",
            "get_item",
            "get_callers",
            "get_callees",
            "find_implementations",
            "read_file_range",
            "list_module"
        ]
    );
    for t in &specs {
        assert_eq!(t.parameters["type"], "object", "{}", t.name);
        assert!(
            t.parameters["required"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{}",
            t.name
        );
    }

    let found = tools.call("search_code", &json!({"query": "supertraits", "k": 3}));
    assert!(
        found.lines().next().unwrap().contains("item_kinds::Loud"),
        "{found}"
    );
    assert!(found.lines().count() <= 3, "{found}");

    let item = tools.call("get_item", &json!({"path": "Point::new"}));
    assert!(
        item.starts_with("method item_kinds::Point::new — src/lib.rs:"),
        "{item}"
    );
    let start = lib
        .find("    /// Makes a point")
        .map(|i| i + 4)
        .unwrap_or_else(|| lib.find("pub fn new").unwrap());
    let end = lib[start..].find("\n    }").unwrap() + start + 6;
    assert!(item.contains(&lib[start..end]), "exact source:\n{item}");

    let callers = tools.call("get_callers", &json!({"path": "item_kinds::Point::new"}));
    assert!(
        callers.contains("item_kinds::uses_everything — src/lib.rs:"),
        "{callers}"
    );
    let callees = tools.call("get_callees", &json!({"path": "uses_everything"}));
    assert!(
        callees.contains("item_kinds::Point::new") && callees.contains("item_kinds::Point::norm"),
        "{callees}"
    );

    let impls = tools.call(
        "find_implementations",
        &json!({"path": "item_kinds::Named"}),
    );
    assert!(
        impls.starts_with("implementations of item_kinds::Named ("),
        "{impls}"
    );
    assert!(impls.contains("impl Named for Point"), "{impls}");

    let lines = tools.call(
        "read_file_range",
        &json!({"file": "src/lib.rs", "start_line": 2, "end_line": 3}),
    );
    let want: Vec<String> = lib
        .lines()
        .skip(1)
        .take(2)
        .enumerate()
        .map(|(i, l)| format!("{:>5} {l}", i + 2))
        .collect();
    assert_eq!(lines, want.join("\n"));

    let module = tools.call("list_module", &json!({"path": "item_kinds"}));
    assert!(
        module.starts_with("module item_kinds — src/lib.rs"),
        "{module}"
    );
    assert!(module.contains("fn uses_everything() -> i32"), "{module}");
}

#[test]
fn bad_calls_get_an_explanation_not_a_failure() {
    let (_tmp, _root, db) = indexed();
    let retriever = Retriever::load(&db, None).unwrap();
    let tools = Toolbox::new(&db, &retriever, None);
    let cases = [
        ("no_such_tool", json!({}), "unknown tool `no_such_tool`"),
        ("get_item", json!({}), "missing string argument `path`"),
        (
            "get_item",
            json!({"path": "Nope::nothing"}),
            "no item `Nope::nothing`; try search_code",
        ),
        (
            "read_file_range",
            json!({"file": "src/missing.rs", "start_line": 1, "end_line": 2}),
            "not an indexed file",
        ),
        (
            "read_file_range",
            json!({"file": "src/lib.rs", "start_line": 9, "end_line": 2}),
            "before start_line",
        ),
        (
            "read_file_range",
            json!({"file": "src/lib.rs", "start_line": 100000, "end_line": 100001}),
            "src/lib.rs has",
        ),
        (
            "list_module",
            json!({"path": "item_kinds::Point"}),
            "no module `item_kinds::Point`",
        ),
    ];
    for (name, args, want) in cases {
        let got = tools.call(name, &args);
        assert!(
            got.starts_with("error: ") && got.contains(want),
            "{name} {args}: {got}"
        );
    }
    let big = tools.call(
        "read_file_range",
        &json!({"file": "src/lib.rs", "start_line": 1, "end_line": 100000}),
    );
    assert!(big.len() <= MAX_RESULT_CHARS + 200);
}
