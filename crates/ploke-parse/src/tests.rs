//! Unit tests of what the parser extracts.

use ploke_core::ItemKind;

use crate::{parse_file, ParseOptions, ParsedFile, RawItem, RefKind};

fn parse(src: &str) -> ParsedFile {
    parse_file(src, &ParseOptions::default())
}

fn item<'a>(f: &'a ParsedFile, name: &str) -> &'a RawItem {
    f.items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no item `{name}` in {:#?}", f.items))
}

fn refs(i: &RawItem, kind: RefKind) -> Vec<String> {
    i.refs
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.path.join("::"))
        .collect()
}

#[test]
fn use_names_keep_their_spacing() {
    let f = parse("use std::collections::HashMap as Map;\nuse crate::a::{self, b::{c, D}, E as F, g::*};\nuse ::x::y;\n");
    let names: Vec<&str> = f.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "std::collections::HashMap as Map",
            "crate::a::{self, b::{c, D}, E as F, g::*}",
            "::x::y"
        ]
    );
}

#[test]
fn cfg_predicates_have_one_spelling() {
    let f = parse(
        "#[cfg(all(test,unix))] fn a() {}\n#[cfg( not( target_os = \"linux\" ) )] fn b() {}\n#[cfg(any(unix, windows,))] fn c() {}\n#[cfg(feature=\"x\")] fn d() {}\n",
    );
    let cfgs: Vec<&str> = f.items.iter().map(|i| i.cfg[0].as_str()).collect();
    assert_eq!(
        cfgs,
        [
            "all(test, unix)",
            "not(target_os = \"linux\")",
            "any(unix, windows)",
            "feature = \"x\""
        ]
    );
    assert!(item(&f, "a").test_marker);
    assert!(!item(&f, "b").test_marker);
}

#[test]
fn self_receivers_name_no_type() {
    let f = parse(
        "impl P {\n fn a(&self) {}\n fn b(&mut self, x: Q) {}\n fn c(self: Box<Self>) {}\n}\n",
    );
    assert!(refs(item(&f, "a"), RefKind::Type).is_empty());
    assert_eq!(refs(item(&f, "b"), RefKind::Type), ["Q"]);
    assert_eq!(refs(item(&f, "c"), RefKind::Type), ["Box", "Self"]);
}

#[test]
fn uses_inside_bodies_apply_to_their_block() {
    let src = "fn f() {\n    use some_dep::Client;\n    use crate::m::{self as mm, helper as h};\n    Client::connect();\n    h();\n    mm::g();\n    { use other::Client; Client::x(); }\n}\nfn g() { Client::y(); }\n";
    let f = parse(src);
    let calls = refs(item(&f, "f"), RefKind::Call);
    assert_eq!(
        calls,
        [
            "some_dep::Client::connect",
            "crate::m::helper",
            "crate::m::g",
            "other::Client::x"
        ]
    );
    assert_eq!(refs(item(&f, "g"), RefKind::Call), ["Client::y"]);
}

#[test]
fn inner_docs_are_module_docs() {
    let f = parse("//! File docs.\n//! Second line.\n\n/// Outer.\nmod m {\n    //! Inner.\n    fn x() {}\n}\n");
    assert_eq!(f.docs, "File docs.\nSecond line.");
    let m = item(&f, "m");
    assert_eq!(m.docs, "Outer.\nInner.");
    assert_eq!(
        m.span.start_line, 4,
        "inner attributes do not move the span"
    );
    assert_eq!(m.kind, ItemKind::Module);
}

#[test]
fn broken_files_keep_what_parses() {
    let f =
        parse("//! Docs.\npub fn before() {}\npub fn broken() { let x = ; }\npub fn after() {}\n");
    assert!(f.parsed);
    assert_eq!(f.docs, "Docs.");
    let names: Vec<&str> = f.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["before", "after"]);
    assert_eq!(f.issues.len(), 1);
    assert_eq!(f.issues[0].line, 3);

    let f = parse("fn a() {}\nfn b() {\n    if x {\n}\n");
    assert!(!f.parsed && f.items.is_empty());
    assert_eq!(f.issues.len(), 1);
    assert!(
        f.issues[0].message.contains("unbalanced delimiter"),
        "{}",
        f.issues[0].message
    );
}

#[test]
fn thread_local_declarations_are_statics() {
    let src = "thread_local! {\n    /// The current context.\n    static CONTEXT: Context = Context::new();\n    pub(crate) static COUNT: Cell<u32> = const { Cell::new(0) }\n}\n";
    let f = parse(src);
    assert!(f.issues.is_empty(), "{:?}", f.issues);
    let ctx = item(&f, "CONTEXT");
    assert_eq!(ctx.kind, ItemKind::Static);
    assert_eq!((ctx.span.start_line, ctx.span.end_line), (2, 3));
    assert_eq!(ctx.docs, "The current context.");
    assert_eq!(ctx.signature, "static CONTEXT: Context");
    assert_eq!(ctx.cfg, vec!["thread_local!".to_string()]);
    assert!(refs(ctx, RefKind::Call).contains(&"Context::new".to_string()));
    let count = item(&f, "COUNT");
    assert_eq!(count.kind, ItemKind::Static);
    assert_eq!(count.span.start_line, 4);
    assert!(
        &src[count.span.start_byte as usize..count.span.end_byte as usize]
            .ends_with("Cell::new(0) }")
    );
    // A malformed body yields nothing and no panic.
    assert!(parse("thread_local! { static X = 1; }").items.is_empty());
}

#[test]
fn thread_local_wrappers_are_read_too() {
    let f = parse(
        "tokio_thread_local! {\n    static CONTEXT: Context = const { Context { a: 1 } };\n}\n",
    );
    assert_eq!(item(&f, "CONTEXT").kind, ItemKind::Static);
    assert_eq!(
        item(&f, "CONTEXT").cfg,
        vec!["tokio_thread_local!".to_string()]
    );
}
