//! The question loop ([`ask::ask`]), the in-process model as a chat backend ([`local`]),
//! and the read-only tools a model may call while answering a request about a code base, and
//! their execution against a ploke index.
//!
//! [`tool_specs`] describes each tool (name, what it does, JSON-schema parameters) in the
//! provider-neutral form chat APIs take; [`Toolbox::call`] runs one call and returns text for
//! the model, never an error: a bad call gets a one-line explanation the model can act on.
//! Every answer is capped ([`MAX_RESULT_CHARS`]) so one call cannot flood the context.
//!
//! | tool | arguments | returns |
//! |---|---|---|
//! | `search_code` | `query`, `k`, `mode`, `scope` | ranked items: kind, path, file:lines |
//! | `get_item` | `path` (canonical path or name) | the item's source with file and lines |
//! | `get_callers` / `get_callees` | `path` | items with the line of each call |
//! | `find_implementations` | `path` (trait or type) | impl blocks |
//! | `read_file_range` | `file`, `start_line`, `end_line` | those lines of an indexed file |
//! | `list_module` | `path` (module) | the module's items with signatures |

pub mod ask;
pub mod edit;
pub mod local;

use std::sync::{Arc, OnceLock};

use ploke_core::{CrateRecord, ItemKind, Node};
use ploke_db::Db;
use ploke_retrieve::{Mode, Retriever, Scope};
use serde_json::{json, Value};

/// Longest answer of one tool call, in characters; longer ones are cut with a note.
pub const MAX_RESULT_CHARS: usize = 12_000;

/// A tool's description for a chat API.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON schema of the arguments object.
    pub parameters: Value,
}

fn path_param(what: &str) -> Value {
    json!({
        "type": "object",
        "properties": { "path": { "type": "string", "description": what } },
        "required": ["path"]
    })
}

/// Every read-only tool.
pub fn tool_specs() -> Vec<ToolDef> {
    vec![
        ToolDef {
            name: "search_code",
            description: "Search the code base (BM25 + embeddings + code graph) for items relevant to a description. Returns ranked items with their canonical path, kind and file:lines.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": { "type": "string", "description": "What to look for, in words or identifiers" },
                    "k": { "type": "integer", "description": "Number of results (default 10, at most 50)" },
                    "mode": { "type": "string", "enum": ["hybrid", "lexical", "vector"], "description": "Signals to rank with (default hybrid: BM25 + embeddings + code graph)" },
                    "scope": { "type": "string", "description": "Where to search: `workspace` (the default: the workspace's own items), `all` (also the dependencies indexed with it, read-only), a crate of either (`tokio`, `hyper_util`), a path prefix (`tokio::sync`), or a directory of the workspace (`crates/app/`)" }
                },
                "required": ["query"]
            }),
        },
        ToolDef {
            name: "get_item",
            description: "The full source of an item (function, method, type, trait, impl, module) with its file and lines.",
            parameters: path_param("Canonical path (`crate::module::Type::method`) or name (`Type::method`, `function`)"),
        },
        ToolDef {
            name: "get_callers",
            description: "The functions and methods that call an item, with the line of each call.",
            parameters: path_param("Canonical path or name of the called function or method"),
        },
        ToolDef {
            name: "get_callees",
            description: "The functions and methods an item calls, with the line of each call.",
            parameters: path_param("Canonical path or name of the calling function or method"),
        },
        ToolDef {
            name: "find_implementations",
            description: "The impl blocks of a trait, or the impl blocks for a type.",
            parameters: path_param("Canonical path or name of a trait or a type"),
        },
        ToolDef {
            name: "read_file_range",
            description: "Lines of an indexed source file (1-based, inclusive).",
            parameters: json!({
                "type": "object",
                "properties": {
                    "file": { "type": "string", "description": "File path as shown in results (relative to the workspace root)" },
                    "start_line": { "type": "integer" },
                    "end_line": { "type": "integer" }
                },
                "required": ["file", "start_line", "end_line"]
            }),
        },
        ToolDef {
            name: "list_module",
            description: "The items a module contains, with their signatures.",
            parameters: path_param("Canonical path of the module (`crate::module`); the crate name alone lists the crate root"),
        },
    ]
}

/// Embeds a search query for the dense signal (`None` when no vector can be had).
pub type QueryEmbedder<'e> = dyn Fn(&str) -> Option<Vec<f32>> + Sync + 'e;

/// The retriever of a search scope other than the workspace (the dependencies attached to the
/// index, one crate), built when first asked for; `None` when the workspace's answers it
/// (every item, when no dependency is attached); `Err` says why it cannot be had.
pub type ScopedRetriever<'s> = dyn Fn(&Scope) -> Result<Option<Arc<Retriever>>, String> + Sync + 's;

/// Runs tool calls against one index.
pub struct Toolbox<'a> {
    db: &'a Db,
    /// The workspace's items.
    retriever: &'a Retriever,
    /// Embeds a search query for the dense signal (`None`: lexical and graph only).
    embed: Option<&'a QueryEmbedder<'a>>,
    /// Other scopes' retrievers (`None`: `search_code` searches the workspace's items only,
    /// and takes a crate or path scope as a filter of its hits).
    scoped: Option<&'a ScopedRetriever<'a>>,
    /// The crate records, once a dependency's item needs its version.
    crates: OnceLock<Vec<CrateRecord>>,
}

/// How `search_code` narrows a search beyond the retriever it runs on.
enum Narrow<'s> {
    /// Every hit.
    None,
    /// Items of this crate or under this path prefix, or in files under this directory.
    To(&'s str),
}

impl<'a> Toolbox<'a> {
    pub fn new(db: &'a Db, retriever: &'a Retriever, embed: Option<&'a QueryEmbedder<'a>>) -> Self {
        Toolbox {
            db,
            retriever,
            embed,
            scoped: None,
            crates: OnceLock::new(),
        }
    }

    /// Lets `search_code` search other scopes than the workspace: `all`, or one crate (a
    /// dependency's too) with as many hits as asked for.
    pub fn with_scopes(mut self, scoped: &'a ScopedRetriever<'a>) -> Self {
        self.scoped = Some(scoped);
        self
    }

    /// Runs tool `name` with `args`; the answer (or why the call is wrong) as text.
    pub fn call(&self, name: &str, args: &Value) -> String {
        self.run(name, args)
            .unwrap_or_else(|e| cap(format!("error: {e}")))
    }

    /// Runs tool `name` with `args`: the answer, or (`Err`) why the call is wrong, in words a
    /// model or a person can act on. Both are capped at [`MAX_RESULT_CHARS`].
    pub fn run(&self, name: &str, args: &Value) -> Result<String, String> {
        let result = match name {
            "search_code" => self.search_code(args),
            "get_item" => self.get_item(args),
            "get_callers" => self.calls(args, true),
            "get_callees" => self.calls(args, false),
            "find_implementations" => self.implementations(args),
            "read_file_range" => self.read_file_range(args),
            "list_module" => self.list_module(args),
            other => Err(format!(
                "unknown tool `{other}`; the tools are {}",
                tool_specs()
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        result.map(cap).map_err(cap)
    }

    fn search_code(&self, args: &Value) -> Result<String, String> {
        let query = str_arg(args, "query")?;
        let k = args
            .get("k")
            .and_then(Value::as_u64)
            .unwrap_or(10)
            .clamp(1, 50) as usize;
        let mode = match args.get("mode").and_then(Value::as_str) {
            None | Some("hybrid") => Mode::Hybrid,
            Some("lexical") => Mode::Lexical,
            Some("vector") => Mode::Vector,
            Some(other) => {
                return Err(format!(
                    "unknown mode `{other}`; use hybrid, lexical or vector"
                ))
            }
        };
        let scope = args
            .get("scope")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (scoped, narrow) = self.scope_of(scope)?;
        let retriever = scoped.as_deref().unwrap_or(self.retriever);
        let vec = if mode == Mode::Lexical {
            None
        } else {
            self.embed.and_then(|f| f(query))
        };
        // Narrowed further, rank more and keep those inside.
        let want = match narrow {
            Narrow::To(_) => (k * 20).max(200),
            Narrow::None => k,
        };
        let mut hits = retriever
            .search(query, vec.as_deref(), mode, want)
            .map_err(|e| e.to_string())?;
        if let Narrow::To(scope) = narrow {
            let prefix = format!("{scope}::");
            hits.retain(|h| {
                h.node.crate_name == scope
                    || h.node.path == scope
                    || h.node.path.starts_with(&prefix)
                    || h.node.file.starts_with(scope)
            });
            hits.truncate(k);
        }
        if hits.is_empty() {
            return Ok(match scope {
                Some(s) => format!("no items in {s:?} match {query:?}"),
                None => format!("no items match {query:?}"),
            });
        }
        Ok(hits
            .iter()
            .map(|h| {
                let sig = one_line(&h.node.signature, 120);
                format!(
                    "{} {} — {}:{}-{}{}{}{}",
                    h.node.kind,
                    h.node.path,
                    h.node.file,
                    h.node.span.start_line,
                    h.node.span.end_line,
                    if sig.is_empty() { "" } else { " — " },
                    sig,
                    self.read_only_note(h.node)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// The retriever a `search_code` scope searches (`None`: the workspace's) and what it
    /// narrows its hits to: `workspace`, `all`, a crate (its own corpus, so that as many hits
    /// as asked for come back), a path inside a crate, or a directory.
    fn scope_of<'s>(
        &self,
        scope: Option<&'s str>,
    ) -> Result<(Option<Arc<Retriever>>, Narrow<'s>), String> {
        let Some(s) = scope else {
            return Ok((None, Narrow::None));
        };
        if s == "workspace" {
            return Ok((None, Narrow::None));
        }
        let Some(scoped) = self.scoped else {
            return Ok((None, Narrow::To(s)));
        };
        if s == "all" {
            return Ok((scoped(&Scope::All)?, Narrow::None));
        }
        let krate = s.split("::").next().unwrap_or(s);
        match krate.parse::<Scope>() {
            Ok(c @ Scope::Crate(_)) if !s.contains('/') => {
                let Some(r) = scoped(&c)? else {
                    return Ok((None, Narrow::To(s)));
                };
                if r.corpus.nodes.is_empty() {
                    // No such crate: a directory or file prefix, say.
                    return Ok((None, Narrow::To(s)));
                }
                let narrow = if s.contains("::") {
                    Narrow::To(s)
                } else {
                    Narrow::None
                };
                Ok((Some(r), narrow))
            }
            _ => Ok((None, Narrow::To(s))),
        }
    }

    /// ` (dependency hyper 1.3.1, read-only)` for a dependency's item; empty for the
    /// workspace's.
    fn read_only_note(&self, n: &Node) -> String {
        if !n.is_dependency() {
            return String::new();
        }
        let crates = self
            .crates
            .get_or_init(|| self.db.all_crates().unwrap_or_default());
        match ploke_db::crate_of(crates, &n.crate_name, &n.file) {
            Some(c) => format!(" (dependency {} {}, read-only)", c.package, c.version),
            None => " (dependency, read-only)".to_string(),
        }
    }

    fn get_item(&self, args: &Value) -> Result<String, String> {
        let mut out = String::new();
        for n in self.find(str_arg(args, "path")?)?.iter().take(3) {
            let text = self.source_of(n)?;
            out.push_str(&format!(
                "{} {} — {}:{}-{}{}\n```rust\n{}\n```\n",
                n.kind,
                n.path,
                self.rel(n),
                n.span.start_line,
                n.span.end_line,
                self.read_only_note(n),
                text
            ));
            out.push_str(&self.relations(n)?);
        }
        Ok(out)
    }

    /// One line per relation an item has: callers, callees, implementations, each with the
    /// first few paths (the dedicated tools list them all, with lines).
    fn relations(&self, n: &Node) -> Result<String, String> {
        const SHOWN: usize = 5;
        let list = |what: &str, tool: &str, paths: Vec<String>| -> String {
            if paths.is_empty() {
                return String::new();
            }
            let more = if paths.len() > SHOWN {
                format!(", … ({tool} lists all {})", paths.len())
            } else {
                String::new()
            };
            let shown: Vec<&str> = paths.iter().take(SHOWN).map(String::as_str).collect();
            format!("{what} ({}): {}{more}\n", paths.len(), shown.join(", "))
        };
        let err = |e: ploke_db::DbError| e.to_string();
        let callers = self.db.callers(n.id).map_err(err)?;
        let callees = self.db.callees(n.id).map_err(err)?;
        let impls = self.db.implementations_of(n).map_err(err)?;
        Ok([
            list(
                "callers",
                "get_callers",
                callers.into_iter().map(|(m, _)| m.path).collect(),
            ),
            list(
                "callees",
                "get_callees",
                callees.into_iter().map(|(m, _)| m.path).collect(),
            ),
            list(
                "implementations",
                "find_implementations",
                impls.into_iter().map(|i| i.path).collect(),
            ),
        ]
        .concat())
    }

    fn calls(&self, args: &Value, callers: bool) -> Result<String, String> {
        let mut out = String::new();
        for n in self.find(str_arg(args, "path")?)?.iter().take(3) {
            let list = if callers {
                self.db.callers(n.id)
            } else {
                self.db.callees(n.id)
            }
            .map_err(|e| e.to_string())?;
            let what = if callers { "callers of" } else { "callees of" };
            out.push_str(&format!("{what} {} ({}):\n", n.path, list.len()));
            for (m, line) in list {
                let site = if callers {
                    format!("{}:{line}", self.rel(&m))
                } else {
                    format!("called at {}:{line}", self.rel(n))
                };
                out.push_str(&format!("  {} {} — {}\n", m.kind, m.path, site));
            }
        }
        Ok(out)
    }

    fn implementations(&self, args: &Value) -> Result<String, String> {
        let mut out = String::new();
        for n in self.find(str_arg(args, "path")?)?.iter().take(3) {
            let impls = self.db.implementations_of(n).map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "implementations of {} ({}):\n",
                n.path,
                impls.len()
            ));
            for i in impls {
                out.push_str(&format!(
                    "  {} — {}:{}-{}\n",
                    i.signature.trim(),
                    self.rel(&i),
                    i.span.start_line,
                    i.span.end_line
                ));
            }
        }
        Ok(out)
    }

    fn read_file_range(&self, args: &Value) -> Result<String, String> {
        let file = str_arg(args, "file")?;
        let start = args
            .get("start_line")
            .and_then(Value::as_u64)
            .ok_or("start_line must be a positive integer")?
            .max(1) as usize;
        let end = args
            .get("end_line")
            .and_then(Value::as_u64)
            .ok_or("end_line must be a positive integer")? as usize;
        if end < start {
            return Err(format!("end_line {end} is before start_line {start}"));
        }
        // Paths as results show them (workspace-relative, a dependency's absolute); a path
        // relative to its package is taken too when only one workspace package has it.
        let rec = match self.db.file(file).map_err(|e| e.to_string())? {
            Some(rec) => rec,
            None => {
                let files = self.db.files().map_err(|e| e.to_string())?;
                let by_rel: Vec<_> = files.into_iter().filter(|f| f.rel_path == file).collect();
                match <[_; 1]>::try_from(by_rel) {
                    Ok([one]) => one,
                    Err(_) => {
                        return Err(format!(
                            "{file} is not an indexed file; use paths as search results show them"
                        ))
                    }
                }
            }
        };
        let lines = self
            .db
            .file_lines(&rec.path, start, end)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{file}: no stored text"))?;
        if lines.is_empty() {
            return Err(format!("{file} has fewer than {start} lines"));
        }
        Ok(lines
            .iter()
            .map(|(i, l)| format!("{i:>5} {l}"))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    fn list_module(&self, args: &Value) -> Result<String, String> {
        let path = str_arg(args, "path")?;
        let mut modules: Vec<Node> = self.db.nodes_by_path(path).map_err(|e| e.to_string())?;
        modules.retain(|n| matches!(n.kind, ItemKind::Module | ItemKind::Crate));
        if modules.is_empty() {
            return Err(format!(
                "no module `{path}`; give a canonical module path such as `mycrate::net`"
            ));
        }
        let mut out = String::new();
        for m in modules.iter().take(2) {
            let children = self.db.children(m.id).map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "module {} — {} ({} items):\n",
                m.path,
                self.rel(m),
                children.len()
            ));
            for c in children.iter().filter(|c| c.kind != ItemKind::Use) {
                let sig = if c.signature.is_empty() {
                    c.name.as_str()
                } else {
                    c.signature.trim()
                };
                out.push_str(&format!(
                    "  {} {} — line {}\n",
                    c.kind, sig, c.span.start_line
                ));
            }
        }
        Ok(out)
    }

    fn find(&self, target: &str) -> Result<Vec<Node>, String> {
        let found = self.db.find_items(target).map_err(|e| e.to_string())?;
        if found.is_empty() {
            // The closest names: a lexical search for the path's words.
            let words = target.replace("::", " ");
            let near: Vec<String> = self
                .retriever
                .search(&words, None, Mode::Lexical, 3)
                .map(|hits| hits.iter().map(|h| format!("`{}`", h.node.path)).collect())
                .unwrap_or_default();
            if !near.is_empty() {
                return Err(format!(
                    "no item `{target}`; did you mean {}? (search_code finds others)",
                    near.join(", ")
                ));
            }
            return Err(format!(
                "no item `{target}`; try search_code to find its path"
            ));
        }
        Ok(found)
    }

    fn source_of(&self, n: &Node) -> Result<String, String> {
        self.db
            .item_source(n)
            .map_err(|e| e.to_string())?
            .map(|s| s.text)
            .ok_or_else(|| format!("{}: no stored text for this item; re-index", n.file))
    }

    /// The item's file as results show it: relative to the workspace root (a dependency's
    /// absolute).
    fn rel(&self, n: &Node) -> String {
        n.file.clone()
    }
}

fn str_arg<'v>(args: &'v Value, key: &str) -> Result<&'v str, String> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("missing string argument `{key}`"))
}

/// `text` on one line (whitespace runs collapsed), at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    format!("{cut}…")
}

fn cap(mut text: String) -> String {
    if text.len() > MAX_RESULT_CHARS {
        let mut end = MAX_RESULT_CHARS;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let total = text.len();
        text.truncate(end);
        text.push_str(&format!("\n… cut at {MAX_RESULT_CHARS} of {total} characters; ask for less (a line range, fewer results)"));
    }
    text
}
