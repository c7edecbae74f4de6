//! `ploke item`: an item's source and its relations, each with file:line.

use anyhow::bail;
use ploke_core::{EdgeKind, ItemKind, Node};
use ploke_db::Db;

use crate::{open_db, Location};

/// `file:line` of an item. A crate root has no span of its own (its span is empty, line 0):
/// it is shown at line 1 of its root file.
fn loc_of(n: &Node) -> String {
    format!("{}:{}", n.file, n.span.start_line.max(1))
}

struct Relations {
    module: Option<Node>,
    parent: Option<Node>,
    callers: Vec<(Node, u32)>,
    callees: Vec<(Node, u32)>,
    implementations: Vec<Node>,
    implements: Vec<Node>,
    unresolved_calls: Vec<String>,
}

fn relations(db: &Db, n: &Node) -> anyhow::Result<Relations> {
    let parent = match n.parent {
        Some(p) => db.node(p)?,
        None => None,
    };
    // The containing module: walk up to the nearest module or crate root.
    let mut module = parent.clone();
    while let Some(m) = &module {
        if matches!(m.kind, ItemKind::Module | ItemKind::Crate) {
            break;
        }
        module = match m.parent {
            Some(p) => db.node(p)?,
            None => None,
        };
    }
    let mut implementations = Vec::new();
    match n.kind {
        ItemKind::Trait => implementations = db.implementations(n.id)?,
        k if k.is_type_like() => {
            for e in db.edges_to(n.id, EdgeKind::ImplFor)? {
                if let Some(i) = db.node(e.src)? {
                    implementations.push(i);
                }
            }
        }
        _ => {}
    }
    let mut implements = Vec::new();
    if n.kind == ItemKind::Impl {
        for e in db.edges_from(n.id, EdgeKind::ImplementsTrait)? {
            if let Some(t) = db.node(e.dst)? {
                implements.push(t);
            }
        }
    }
    let unresolved_calls = db
        .unresolved_from(n.id)?
        .into_iter()
        .filter(|u| u.kind == EdgeKind::Calls)
        .map(|u| format!("{} (line {})", u.text, u.line))
        .collect();
    Ok(Relations {
        module,
        parent,
        callers: db.callers(n.id)?,
        callees: db.callees(n.id)?,
        implementations,
        implements,
        unresolved_calls,
    })
}

/// The item's source text (exactly its span), and the whitespace before it on its first line
/// (so that a method prints with the same indentation on every line).
fn source_of(db: &Db, n: &Node) -> anyhow::Result<(String, String)> {
    let Some(text) = db.source(&n.file)? else {
        return Ok(Default::default());
    };
    let (s, e) = (n.span.start_byte as usize, n.span.end_byte as usize);
    let Some(src) = text.get(s..e) else {
        return Ok(Default::default());
    };
    let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..s];
    let indent = if before.chars().all(|c| c == ' ' || c == '\t') {
        before
    } else {
        ""
    };
    Ok((indent.to_string(), src.to_string()))
}

/// Related nodes with the line of the relation (a call site).
fn with_lines(rows: &[(Node, u32)]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|(c, l)| {
            let mut j = node_json(c);
            j["line"] = (*l).into();
            j
        })
        .collect()
}

fn node_json(n: &Node) -> serde_json::Value {
    serde_json::json!({
        "id": n.id.to_hex(), "kind": n.kind.as_str(), "name": n.display_name, "path": n.path,
        "file": n.file, "start_line": n.span.start_line, "end_line": n.span.end_line,
    })
}

pub fn run(target: &str, loc: &Location, json: bool) -> anyhow::Result<()> {
    let db = open_db(loc)?;
    let found = db.find_items(target)?;
    if found.is_empty() {
        bail!("no item named `{target}`; try `ploke search {target:?}` to find it");
    }
    let mut out_json = Vec::new();
    for (i, n) in found.iter().enumerate() {
        let r = relations(&db, n)?;
        let (indent, src) = source_of(&db, n)?;
        if json {
            let mut v = node_json(n);
            v["source"] = src.into();
            v["signature"] = n.signature.clone().into();
            v["visibility"] = n.visibility.as_text().into();
            v["docs"] = n.docs.clone().into();
            v["cfg"] = n.cfg.clone().into();
            v["attrs"] = n.attrs.clone().into();
            v["is_test"] = n.is_test.into();
            v["module"] = r.module.as_ref().map(node_json).into();
            v["parent"] = r.parent.as_ref().map(node_json).into();
            v["callers"] = with_lines(&r.callers).into();
            v["callees"] = with_lines(&r.callees).into();
            v["implementations"] = r
                .implementations
                .iter()
                .map(node_json)
                .collect::<Vec<_>>()
                .into();
            v["implements"] = r
                .implements
                .iter()
                .map(node_json)
                .collect::<Vec<_>>()
                .into();
            v["unresolved_calls"] = r.unresolved_calls.clone().into();
            out_json.push(v);
            continue;
        }
        if i > 0 {
            println!("\n{}", "-".repeat(60));
        }
        if n.kind == ItemKind::Crate {
            println!("{} {}  ({})", n.kind, n.path, n.file);
        } else {
            println!(
                "{} {}  ({}:{}-{})",
                n.kind, n.path, n.file, n.span.start_line, n.span.end_line
            );
        }
        if !n.cfg.is_empty() {
            println!("cfg: {}", n.cfg);
        }
        if let Some(m) = &r.module {
            println!("in module {}  ({})", m.path, loc_of(m));
        }
        println!();
        println!("{indent}{src}");
        let section = |title: &str, rows: Vec<String>| {
            if !rows.is_empty() {
                println!("\n{title}:");
                for r in rows {
                    println!("  {r}");
                }
            }
        };
        section(
            "implements",
            r.implements
                .iter()
                .map(|t| format!("{}  {}", t.path, loc_of(t)))
                .collect(),
        );
        section(
            "implementations",
            r.implementations
                .iter()
                .map(|t| format!("{}  {}", t.path, loc_of(t)))
                .collect(),
        );
        section(
            "callers",
            r.callers
                .iter()
                .map(|(c, l)| format!("{}  {}:{}", c.path, c.file, l))
                .collect(),
        );
        section(
            "callees",
            r.callees
                .iter()
                .map(|(c, _)| format!("{}  {}", c.path, loc_of(c)))
                .collect(),
        );
        section("unresolved calls", r.unresolved_calls.clone());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out_json)?);
    }
    Ok(())
}
