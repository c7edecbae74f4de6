//! Unit tests of what the parser extracts.

use ploke_core::{ContentHash, ItemKind};

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

// ---------------------------------------------------------------------------------------------
// Macro expansion.
// ---------------------------------------------------------------------------------------------

/// Expands every expandable call of `files[0]` with the `macro_rules!` items of all `files`
/// (by name, the last one defined wins), as the indexer would.
fn expand_all(files: &[&str]) -> Vec<(usize, Option<Vec<RawItem>>)> {
    use crate::{expand_call, ExpandLimits, MacroDefSite};
    let parsed: Vec<ParsedFile> = files.iter().map(|t| parse(t)).collect();
    let mut defs: Vec<(String, MacroDefSite)> = Vec::new();
    for (fi, p) in parsed.iter().enumerate() {
        for it in &p.items {
            if matches!(it.detail, crate::Detail::MacroRules { .. }) {
                defs.push((
                    it.name.clone(),
                    MacroDefSite {
                        file: fi as u32,
                        span: it.span,
                    },
                ));
            }
        }
    }
    let text = |id: u32| files.get(id as usize).copied();
    let mut resolve = |path: &[String]| {
        let name = path.last()?;
        defs.iter().rev().find(|(n, _)| n == name).map(|(_, s)| *s)
    };
    parsed[0]
        .calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.expandable())
        .map(|(i, c)| {
            (
                i,
                expand_call(0, c, &text, &mut resolve, &ExpandLimits::default()),
            )
        })
        .collect()
}

fn span_text<'a>(files: &[&'a str], it: &RawItem) -> &'a str {
    let f = files[it.file.map_or(0, |f| f as usize)];
    &f[it.span.start_byte as usize..it.span.end_byte as usize]
}

#[test]
fn calls_are_recorded_in_source_order() {
    let f = parse(
        "m!(a);\n#[cfg(unix)]\ncfg_x! {\n    pub fn f() {}\n    n!{}\n}\nmod inner { o!(); }\n",
    );
    let paths: Vec<String> = f.calls.iter().map(|c| c.path.join("::")).collect();
    assert_eq!(paths, ["m", "cfg_x", "n", "o"]);
    assert!(f.calls[0].expandable());
    assert!(!f.calls[1].expandable());
    assert_eq!(f.calls[1].cfg, ["unix"]);
    // As for the items of its body, the enclosing call's own attributes count: whatever the
    // call stands for is under them.
    assert_eq!(f.calls[2].cfg, ["unix", "cfg_x!"]);
    assert_eq!(item(&f, "f").cfg, ["unix", "cfg_x!"]);
    assert_eq!(
        (f.calls[1].span.start_line, f.calls[1].span.end_line),
        (2, 6)
    );
    let inner = f.items.iter().position(|i| i.name == "inner").unwrap() as u32;
    assert_eq!(f.calls[3].parent, Some(inner));
}

#[test]
fn fixed_rule_items_stay_in_the_definition() {
    let def = "macro_rules! root {\n    () => {\n        /// Docs of a.\n        pub mod a;\n        pub fn inline() -> u8 {\n            1\n        }\n    };\n}\n";
    let lib = "#[macro_use]\nmod defs;\n\nroot!();\n";
    let files = [lib, def];
    let out = expand_all(&files);
    let items = out[0].1.as_ref().expect("expanded");
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a", "inline"]);
    let a = &items[0];
    assert_eq!(a.file, Some(1));
    assert_eq!(a.docs, "Docs of a.");
    assert_eq!(span_text(&files, a), "/// Docs of a.\n        pub mod a;");
    assert_eq!((a.span.start_line, a.span.end_line), (3, 4));
    assert_eq!(a.decl_line, 4);
    let f = &items[1];
    assert_eq!((f.span.start_line, f.span.end_line), (5, 7));
    assert!(span_text(&files, f).starts_with("pub fn inline() -> u8 {"));
    assert_eq!(
        f.content_hash,
        ContentHash::of(span_text(&files, f).as_bytes())
    );
}

#[test]
fn captured_items_mix_and_land_at_the_invocation() {
    let src =
        "macro_rules! make {\n    ($($n:ident),*) => { $(pub struct $n;)* };\n}\n\nmake!(A, B);\n";
    let files = [src];
    let out = expand_all(&files);
    let items = out[0].1.as_ref().expect("expanded");
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["A", "B"]);
    for it in items {
        assert_eq!(it.file, None);
        assert_eq!(span_text(&files, it), "make!(A, B);");
        assert_eq!(it.span.start_line, 5);
        assert_eq!(it.kind, ItemKind::Struct);
    }
    assert_ne!(items[0].content_hash, items[1].content_hash);
}

#[test]
fn wrapped_items_keep_their_own_text() {
    let src = "macro_rules! gated {\n    ($($i:item)*) => { $( #[cfg(feature = \"x\")] $i )* };\n}\n\ngated!(\n    /// One.\n    pub fn one() {}\n    fn two() {}\n);\n";
    let files = [src];
    // A body of items is read as written and not expanded ...
    assert!(expand_all(&files).is_empty());
    // ... but an invocation whose body is not items is.
    let src2 = "macro_rules! fns {\n    ($($name:ident => $t:ty),* $(,)?) => { $( #[cfg(unix)] pub fn $name() -> $t { todo!() } )* };\n}\nfns! { a => u8, b => Vec<Vec<u8>>, }\n";
    let files = [src2];
    let out = expand_all(&files);
    let items = out[0].1.as_ref().expect("expanded");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].signature, "pub fn b() -> Vec<Vec<u8>>");
    assert_eq!(items[0].cfg, ["unix"]);
}

#[test]
fn nested_invocations_expand() {
    let src = "macro_rules! inner {\n    ($n:ident) => { pub struct $n; };\n}\nmacro_rules! outer {\n    ($($n:ident)*) => { $( inner!($n); )* $crate::inner!(Z); };\n}\nouter!(X Y);\n";
    let files = [src];
    let out = expand_all(&files);
    let items = out[0].1.as_ref().expect("expanded");
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["X", "Y", "Z"]);
    assert!(items.iter().all(|i| i.span.start_line == 7));
}

#[test]
fn recursive_muncher_and_macros_defined_by_expansions() {
    let src = "macro_rules! count {\n    () => {};\n    ($first:ident $($rest:ident)*) => { pub fn $first() {} count!($($rest)*); };\n}\nmacro_rules! defines {\n    () => {\n        macro_rules! made { ($x:ident) => { pub struct $x; }; }\n        made!(Made);\n    };\n}\ncount!(a b c);\ndefines!();\n";
    let files = [src];
    let out = expand_all(&files);
    let a = out[0].1.as_ref().expect("expanded");
    let names: Vec<&str> = a.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let d = out[1].1.as_ref().expect("expanded");
    let names: Vec<&str> = d.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["made", "Made"]);
    // The definition made by the expansion is where its text is.
    assert_eq!(d[0].file, None);
    assert!(span_text(&files, &d[0]).starts_with("macro_rules! made"));
}

#[test]
fn unexpandable_calls_give_nothing_and_never_panic() {
    let src = "macro_rules! one {\n    (x) => { pub struct X; };\n}\nmacro_rules! bad {\n    ($i:ident) => { pub fn $i(); struct };\n}\nmacro_rules! forever {\n    () => { forever!(); };\n}\none!(y);\nbad!(f);\nforever!();\nunknown!(z);\n";
    let files = [src];
    let out = expand_all(&files);
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|(_, r)| r.is_none()), "{out:#?}");
}

#[test]
fn fragments_of_every_kind_match() {
    let src = r#"macro_rules! all {
    ($v:vis $n:ident: $t:ty = $e:expr; $p:path; $l:literal; $lt:lifetime; #[$m:meta] $b:block $pat:pat, $tt:tt $i:item) => {
        #[$m] $v const $n: $t = $e;
        pub struct Holder<$lt>(&$lt $p);
        pub fn f() -> i32 { let $pat = $l; $b; $tt }
        $i
    };
}
all!(pub(crate) N: Vec<u8> = vec![1, 2]; std::string::String; -1; 'a; #[doc = "d"] { 1 } (x, _), 7 enum E { A });
"#;
    let files = [src];
    let out = expand_all(&files);
    let items = out[0].1.as_ref().expect("expanded");
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["N", "Holder", "0", "f", "E", "A"]);
    assert_eq!(items[0].signature, "pub(crate) const N: Vec<u8>");
    assert_eq!(items[0].docs, "d");
    // `enum E { A }` is the invocation's own text.
    let e = &items[4];
    assert_eq!(span_text(&files, e), "enum E { A }");
}

#[test]
fn cfg_attr_paths_make_one_twin_per_file() {
    let src = "#[cfg_attr(feature = \"spin_no_std\", path = \"core_lazy.rs\")]\n\
         #[cfg_attr(not(feature = \"spin_no_std\"), path = \"inline_lazy.rs\")]\n\
         pub mod lazy;\n\
         #[cfg(unix)]\n#[path = \"plain.rs\"]\n#[cfg_attr(test, path = \"other.rs\")]\nmod both;\n\
         #[cfg_attr(x, derive(Debug))]\nmod none;\n\
         #[cfg_attr(x, path = \"inline.rs\")]\nmod inline {}\n";
    let f = parse(src);
    /// Name, `#[path]`, twin, cfgs, test.
    type Row<'a> = (&'a str, Option<&'a str>, crate::CfgPath, Vec<String>, bool);
    let rows: Vec<Row> = f
        .items
        .iter()
        .map(|i| match &i.detail {
            crate::Detail::Module {
                path_attr,
                cfg_path,
                ..
            } => (
                i.name.as_str(),
                path_attr.as_deref(),
                cfg_path.clone(),
                i.cfg.clone(),
                i.test_marker,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let spin = "feature = \"spin_no_std\"".to_string();
    let not_spin = "not(feature = \"spin_no_std\")".to_string();
    assert_eq!(
        rows,
        [
            (
                "lazy",
                None,
                crate::CfgPath::Default {
                    preds: vec![spin.clone(), not_spin.clone()]
                },
                vec![format!("not(any({spin}, {not_spin}))")],
                false
            ),
            (
                "lazy",
                Some("core_lazy.rs"),
                crate::CfgPath::Alternative { pred: spin.clone() },
                vec![spin.clone()],
                false
            ),
            (
                "lazy",
                Some("inline_lazy.rs"),
                crate::CfgPath::Alternative {
                    pred: not_spin.clone()
                },
                vec![not_spin],
                false
            ),
            (
                "both",
                Some("plain.rs"),
                crate::CfgPath::Default {
                    preds: s(&["test"])
                },
                s(&["unix", "not(test)"]),
                false
            ),
            (
                "both",
                Some("other.rs"),
                crate::CfgPath::Alternative {
                    pred: "test".into()
                },
                s(&["unix", "test"]),
                true
            ),
            ("none", None, crate::CfgPath::None, vec![], false),
            ("inline", None, crate::CfgPath::None, vec![], false),
        ]
    );
    // Twins are the one declaration: same text.
    assert_eq!(f.items[0].span, f.items[2].span);
    assert_eq!(
        text_of(src, &f.items[1]),
        src[..src.find("pub mod lazy;").unwrap() + "pub mod lazy;".len()].to_string()
    );
}

// ---------------------------------------------------------------------------------------------
// `cfg_if!`, the macro of the `cfg-if` crate.
// ---------------------------------------------------------------------------------------------

fn text_of<'a>(src: &'a str, it: &RawItem) -> &'a str {
    &src[it.span.start_byte as usize..it.span.end_byte as usize]
}

#[test]
fn cfg_if_branches_are_items_under_their_cfg() {
    let src = "cfg_if::cfg_if! {\n    if #[cfg(unix)] {\n        /// Unix.\n        pub fn a() {}\n        mod imp;\n    } else if #[cfg(target_os = \"wasi\")] {\n        #[path = \"wasi.rs\"]\n        mod imp;\n    } else if #[cfg(windows)] {\n        fn c() {}\n    } else {\n        #[cfg(feature = \"x\")]\n        struct D;\n    }\n}\nfn after() {}\n";
    let f = parse(src);
    assert!(f.issues.is_empty(), "{:?}", f.issues);
    let names: Vec<&str> = f.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a", "imp", "imp", "c", "D", "after"]);
    let cfgs: Vec<Vec<String>> = f.items.iter().map(|i| i.cfg.clone()).collect();
    assert_eq!(
        cfgs,
        [
            vec!["unix".to_string()],
            vec!["unix".to_string()],
            vec!["all(not(unix), target_os = \"wasi\")".to_string()],
            vec!["all(not(any(unix, target_os = \"wasi\")), windows)".to_string()],
            vec![
                "feature = \"x\"".to_string(),
                "not(any(unix, target_os = \"wasi\", windows))".to_string()
            ],
            vec![],
        ]
    );
    // Spans are the items' own text in the file, docs and attributes included.
    let a = &f.items[0];
    assert_eq!(text_of(src, a), "/// Unix.\n        pub fn a() {}");
    assert_eq!((a.span.start_line, a.decl_line, a.span.end_line), (3, 4, 4));
    assert_eq!(a.docs, "Unix.");
    assert_eq!(text_of(src, &f.items[1]), "mod imp;");
    assert_eq!(f.items[1].span.start_line, 5);
    assert_eq!(
        text_of(src, &f.items[2]),
        "#[path = \"wasi.rs\"]\n        mod imp;"
    );
    assert_eq!(
        f.items[2].content_hash,
        ContentHash::of(text_of(src, &f.items[2]).as_bytes())
    );
    // `mod imp;` in a branch is a module declaration like any other.
    match &f.items[2].detail {
        crate::Detail::Module {
            inline, path_attr, ..
        } => {
            assert!(!inline);
            assert_eq!(path_attr.as_deref(), Some("wasi.rs"));
        }
        other => panic!("{other:?}"),
    }
    assert!(f.items.iter().all(|i| i.parent.is_none()));
    // The call is recorded, its items are those of its branches.
    assert_eq!(f.calls.len(), 1);
    let call = &f.calls[0];
    assert_eq!(call.path, ["cfg_if", "cfg_if"]);
    assert!(call.branches);
    assert_eq!(call.items, (0, 5));
    assert!(call.expandable() && call.replaces_items());
    assert_eq!((call.span.start_line, call.span.end_line), (1, 15));
}

#[test]
fn cfg_if_without_else_and_old_style_predicates() {
    let f = parse(
        "#[macro_use] extern crate cfg_if;\ncfg_if! {\n    if #[cfg(a, b)] { fn one() {} }\n    else if #[cfg(c)] { fn two() {} }\n}\n",
    );
    assert_eq!(item(&f, "one").cfg, ["all(a, b)"]);
    assert_eq!(item(&f, "two").cfg, ["all(not(all(a, b)), c)"]);
    // With one branch and an else.
    let f = parse("cfg_if! { if #[cfg(unix)] { fn u() {} } else { fn o() {} } }\n");
    assert_eq!(item(&f, "u").cfg, ["unix"]);
    assert_eq!(item(&f, "o").cfg, ["not(unix)"]);
}

#[test]
fn cfg_if_nests_and_takes_the_cfg_of_the_invocation() {
    let src = "mod m {\n    #[cfg(feature = \"std\")]\n    cfg_if! {\n        if #[cfg(unix)] {\n            cfg_if! {\n                if #[cfg(target_os = \"linux\")] {\n                    mod linux;\n                } else {\n                    mod other;\n                }\n            }\n            fn u() {}\n        }\n    }\n}\n";
    let f = parse(src);
    assert!(f.issues.is_empty(), "{:?}", f.issues);
    let names: Vec<&str> = f.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["m", "linux", "other", "u"]);
    let std = "feature = \"std\"".to_string();
    assert_eq!(
        item(&f, "linux").cfg,
        [
            std.clone(),
            "unix".to_string(),
            "target_os = \"linux\"".to_string()
        ]
    );
    assert_eq!(
        item(&f, "other").cfg,
        [
            std.clone(),
            "unix".to_string(),
            "not(target_os = \"linux\")".to_string()
        ]
    );
    assert_eq!(item(&f, "u").cfg, [std.clone(), "unix".to_string()]);
    assert!(f.items[1..].iter().all(|i| i.parent == Some(0)));
    assert_eq!(text_of(src, item(&f, "linux")), "mod linux;");
    assert_eq!(item(&f, "linux").span.start_line, 7);
    // Both calls are recorded, the inner one inside the outer.
    assert_eq!(f.calls.len(), 2);
    let (outer, inner) = (&f.calls[0], &f.calls[1]);
    assert!(outer.branches && inner.branches);
    assert_eq!((outer.items, inner.items), ((1, 4), (1, 3)));
    assert_eq!(outer.cfg, std::slice::from_ref(&std));
    assert_eq!(inner.cfg, [std, "unix".to_string()]);
    assert!(outer.encloses(inner) && !inner.encloses(outer));
    assert_eq!(inner.parent, Some(0));
}

#[test]
fn cfg_if_test_branches_are_test_code() {
    let f = parse(
        "cfg_if! {\n    if #[cfg(test)] { fn t() {} } else if #[cfg(unix)] { fn u() {} } else { fn e() {} }\n}\n#[cfg(test)]\ncfg_rt! { fn r() {} }\n",
    );
    assert!(item(&f, "t").test_marker);
    assert!(!item(&f, "u").test_marker);
    assert!(!item(&f, "e").test_marker);
    assert_eq!(item(&f, "r").cfg, ["test", "cfg_rt!"]);
    assert!(item(&f, "r").test_marker);
}

#[test]
fn cfg_if_in_impls_and_traits() {
    let f = parse(
        "impl S {\n    cfg_if! {\n        if #[cfg(feature = \"blah\")] { fn blah(&self) {} } else { fn blah(&self) {} const N: u8 = 1; }\n    }\n}\ntrait T {\n    cfg_if::cfg_if! { if #[cfg(unix)] { fn t(&self); } }\n}\n",
    );
    let blahs: Vec<&RawItem> = f.items.iter().filter(|i| i.name == "blah").collect();
    assert_eq!(blahs.len(), 2);
    assert!(blahs
        .iter()
        .all(|i| i.kind == ItemKind::Method && i.parent == Some(0)));
    assert_eq!(blahs[0].cfg, ["feature = \"blah\""]);
    assert_eq!(blahs[1].cfg, ["not(feature = \"blah\")"]);
    assert_eq!(item(&f, "N").kind, ItemKind::AssocConst);
    assert_eq!(item(&f, "t").cfg, ["unix"]);
    assert_eq!(item(&f, "t").kind, ItemKind::Method);
}

#[test]
fn what_is_not_cfg_if_grammar_stays_unread() {
    // The macro's own internal rules, a branch that is not items, another macro's name.
    let f = parse(
        "cfg_if! { @__items () ; ((unix) (fn a() {})), }\ncfg_if! { if #[cfg(unix)] { let x = 1; } }\ncfg_if! { if #[cfg(unix)] { fn b() {} } else { fn c() {} } else { fn d() {} } }\nnot_cfg_if! { if #[cfg(unix)] { fn e() {} } }\n",
    );
    assert!(f.items.is_empty(), "{:#?}", f.items);
    assert_eq!(f.calls.len(), 4);
    assert!(f.calls.iter().all(|c| !c.branches && c.expandable()));
}

#[test]
fn a_crates_own_cfg_if_expands_in_place_of_the_branches() {
    // A `cfg_if` that an expansion invokes, with a definition in scope: its expansion
    // replaces the branches read from its body (cfg-if 1.0's own, whose cfg is spelt otherwise).
    // (In a file of its own: the attribute it puts in front is then not the item's text.)
    let def = CFG_IF_1_0;
    let src = "macro_rules! wrap {\n    (@ $($t:tt)*) => { $($t)* };\n}\nmacro_rules! make {\n    ($n:ident) => { pub struct $n; };\n}\nwrap! { @\n    cfg_if! { if #[cfg(unix)] { pub fn a() {} } else { pub fn b() {} } }\n    pub fn c() {}\n    cfg_if! { if #[cfg(windows)] { make!(D); } }\n}\n";
    let files = [src, def];
    let out = expand_all(&files);
    let items = out[0].1.as_ref().expect("expanded");
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    // Once each: the expansion's, not also the branches read from the body (nor the
    // invocations written in them).
    assert_eq!(names, ["a", "b", "c", "D"]);
    assert_eq!(items[3].cfg, ["all(windows, not(any()))"]);
    assert_eq!(items[0].file, None);
    assert_eq!(items[0].cfg, ["all(unix, not(any()))"]);
    assert_eq!(items[1].cfg, ["all(not(any(unix)))"]);
    assert_eq!(span_text(&files, &items[0]), "pub fn a() {}");
    assert_eq!(span_text(&files, &items[1]), "pub fn b() {}");
}

/// The macro of cfg-if 1.0.5, as a crate would copy it.
const CFG_IF_1_0: &str = r#"macro_rules! cfg_if {
    (
        if #[cfg( $($i_meta:tt)+ )] { $( $i_tokens:tt )* }
        $(
            else if #[cfg( $($ei_meta:tt)+ )] { $( $ei_tokens:tt )* }
        )*
        $(
            else { $( $e_tokens:tt )* }
        )?
    ) => {
        $crate::cfg_if! {
            @__items () ;
            (( $($i_meta)+ ) ( $( $i_tokens )* )),
            $(
                (( $($ei_meta)+ ) ( $( $ei_tokens )* )),
            )*
            $(
                (() ( $( $e_tokens )* )),
            )?
        }
    };
    (@__items ( $( ($($_:tt)*) , )* ) ; ) => {};
    (
        @__items ( $( ($($no:tt)+) , )* ) ;
        (( $( $($yes:tt)+ )? ) ( $( $tokens:tt )* )),
        $( $rest:tt , )*
    ) => {
        #[cfg(all(
            $( $($yes)+ , )?
            not(any( $( $($no)+ ),* ))
        ))]
        $crate::cfg_if! { @__temp_group $( $tokens )* }
        $crate::cfg_if! {
            @__items ( $( ($($no)+) , )* $( ($($yes)+) , )? ) ;
            $( $rest , )*
        }
    };
    (@__temp_group $( $tokens:tt )* ) => {
        $( $tokens )*
    };
}
"#;

#[test]
fn cfg_if_in_extern_blocks_and_qualified_foreign_items() {
    let src = "unsafe extern \"C\" {\n    safe fn get() -> u64;\n    pub safe static X: u8;\n    pub unsafe fn raw(p: *const u8);\n    cfg_if! {\n        if #[cfg(target_arch = \"x86\")] {\n            #[link_name = \"_time32\"]\n            pub fn time(t: *mut i64) -> i64;\n        } else {\n            pub fn time(t: *mut i64) -> i64;\n        }\n    }\n}\n";
    let f = parse(src);
    assert!(f.issues.is_empty(), "{:?}", f.issues);
    let get = item(&f, "get");
    assert_eq!(get.kind, ItemKind::ForeignFn);
    assert_eq!(get.parent, Some(0));
    assert_eq!(item(&f, "X").kind, ItemKind::ForeignStatic);
    assert_eq!(item(&f, "raw").kind, ItemKind::ForeignFn);
    let times: Vec<&RawItem> = f.items.iter().filter(|i| i.name == "time").collect();
    assert_eq!(times.len(), 2);
    assert!(times.iter().all(|i| i.kind == ItemKind::ForeignFn));
    assert_eq!(times[0].cfg, ["target_arch = \"x86\""]);
    assert_eq!(times[1].cfg, ["not(target_arch = \"x86\")"]);
    assert_eq!(
        text_of(src, times[0]),
        "#[link_name = \"_time32\"]\n            pub fn time(t: *mut i64) -> i64;"
    );
}

#[test]
fn fns_without_bodies_are_fns() {
    let src = "/// Implemented elsewhere.\n#[eii(fill_uninit)]\npub(crate) fn fill_inner(dest: &mut [u8]) -> Result<(), Error>;\n";
    let f = parse(src);
    let fi = item(&f, "fill_inner");
    assert_eq!(fi.kind, ItemKind::Fn);
    assert_eq!(
        fi.signature,
        "pub(crate) fn fill_inner(dest: &mut [u8]) -> Result<(), Error>;"
    );
    assert_eq!(fi.docs, "Implemented elsewhere.");
    assert_eq!(text_of(src, fi), src.trim_end());
    assert_eq!(refs(fi, RefKind::Type), ["Result", "Error"]);
}

#[test]
fn module_files_declared_in_fn_bodies_are_modules_of_the_fn_module() {
    let src = "mod outer {\n    #[cfg(unix)]\n    fn is_good() -> bool {\n        #[path = \"../utils/lazy_bool.rs\"]\n        mod lazy;\n        mod inline { fn hidden() {} }\n        static GOOD: lazy::LazyBool = lazy::LazyBool::new();\n        GOOD.get()\n    }\n}\nimpl S {\n    #[cfg(test)]\n    fn m(&self) {\n        mod in_method;\n    }\n}\n";
    let f = parse(src);
    let names: Vec<&str> = f.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        ["outer", "is_good", "lazy", "impl S", "m", "in_method"]
    );
    let lazy = item(&f, "lazy");
    assert_eq!(lazy.kind, ItemKind::Module);
    assert_eq!(lazy.parent, Some(0));
    assert_eq!(lazy.cfg, ["unix"]);
    assert_eq!(
        text_of(src, lazy),
        "#[path = \"../utils/lazy_bool.rs\"]\n        mod lazy;"
    );
    match &lazy.detail {
        crate::Detail::Module {
            inline, path_attr, ..
        } => assert_eq!(
            (*inline, path_attr.as_deref()),
            (false, Some("../utils/lazy_bool.rs"))
        ),
        other => panic!("{other:?}"),
    }
    let m = item(&f, "in_method");
    assert_eq!((m.parent, m.test_marker), (None, true));
    assert_eq!(m.cfg, ["test"]);
}
