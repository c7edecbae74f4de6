//! Parse one Rust source file with `syn` into flat item records.
//!
//! [`parse_file`] never fails and never panics on any input: it returns the items it could
//! read plus the problems it met. Each [`RawItem`] carries its kind, name, exact span,
//! visibility, docs, attributes, own `cfg` predicates, signature text, a content hash and the
//! references found in its signature and body ([`RawRef`]), still as unresolved paths. Items
//! inside item-level macro invocations (`cfg_rt! { … }`) are read from the token tree when
//! they parse as items, and the branches of `cfg_if! { if #[cfg(P)] { … } else { … } }` as
//! items under the cfg each branch has (`P`, `not(P)`); every item-level invocation is recorded ([`MacroCall`]), and
//! [`expand_call`] (or an [`Expander`]) expands one with a `macro_rules!` definition the
//! caller found for it, placing each resulting item where its text really is (see the
//! `expand` module). Turning these records into a resolved graph is `ploke-graph`'s job;
//! this crate knows nothing of modules on disk, crates or the database.

mod expand;
mod extract;
mod refs;
#[cfg(test)]
mod tests;
mod text;

use ploke_core::{ContentHash, ItemKind, Span, Visibility};

pub use expand::{expand_call, ExpandLimits, Expander, MacroDefSite};
pub use text::LineIndex;

/// Changes whenever what [`parse_file`] extracts changes, so caches of parse results made by
/// an older parser are thrown away.
pub const PARSER_VERSION: u32 = 13;

/// Everything read from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParsedFile {
    /// Items in source order; `parent` indexes into this list.
    pub items: Vec<RawItem>,
    /// Problems, each with a 1-based line. Non-empty means the file was (partly) unreadable.
    pub issues: Vec<ParseIssue>,
    /// Whether anything of the file was indexed (false when syn rejected the whole file).
    pub parsed: bool,
    pub lines: u32,
    /// The file's inner doc comments (`//! …`): the docs of the module (or crate) it is.
    pub docs: String,
    /// Item-level macro invocations (`m!(…);`, `cfg_rt! { … }`) outside function bodies, in
    /// source order: what a caller that knows the crate's `macro_rules!` definitions may
    /// expand ([`expand_call`]).
    pub calls: Vec<MacroCall>,
    /// The files that items with [`RawItem::file`] set point into (workspace-relative paths).
    /// Always empty in what [`parse_file`] returns: filled in by whoever splices macro
    /// expansions into a file's items (the indexer).
    pub files: Vec<String>,
}

/// One item-level macro invocation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MacroCall {
    /// The macro's path as written: `["cfg_rt"]`, `["crate", "m"]`, `["tokio", "select"]`.
    pub path: Vec<String>,
    /// The inline module it sits in (an index into the items), `None` at file level.
    pub parent: Option<u32>,
    /// The invocation with its attributes (`#[cfg(x)] m!(…);`).
    pub span: Span,
    /// The items `[start, end)` read directly from its body (`cfg_rt! { pub mod rt; }`);
    /// empty when its body is not items. `start` is also where the call sits among the
    /// items: the number of items before it.
    pub items: (u32, u32),
    /// Its own `cfg` predicates, plus `name!` for each item-level macro it was found inside:
    /// what every item it expands to is under.
    pub cfg: Vec<String>,
    /// `#[cfg(test)]` on the invocation.
    pub test_marker: bool,
    /// Hash of its text (with attributes).
    pub content_hash: ContentHash,
    /// Its body was read as the branches of `cfg_if!` (the macro of the `cfg-if` crate,
    /// named by any path ending in `cfg_if`): the items `[start, end)` are each branch's, under
    /// the cfg the macro gives them (see [`MacroCall::expandable`]).
    #[serde(default)]
    pub branches: bool,
}

impl MacroCall {
    /// Places the items an expansion of this call gave among a file's items, the first at
    /// index `base`: their own nesting kept, the top ones under `parent` (the call's module
    /// where it now sits) with the call's cfg and test marker.
    pub fn adopt(&self, items: &mut [RawItem], base: u32, parent: Option<u32>) {
        for it in items {
            match it.parent {
                Some(p) => it.parent = Some(base + p),
                None => {
                    it.parent = parent;
                    it.cfg.extend(self.cfg.iter().cloned());
                    it.test_marker |= self.test_marker;
                }
            }
        }
    }
}

impl MacroCall {
    /// Whether a `macro_rules!` definition in scope may expand it: when its body was not read
    /// as items (a body of items, as in `cfg_rt! { … }`, is indexed as written), or was read as
    /// `cfg_if!` branches ([`MacroCall::branches`]). A crate's own `cfg_if` wins over the
    /// well-known one: its expansion stands for the call, in place of the items
    /// `[start, end)` (nested invocations included); with none in scope those stay.
    pub fn expandable(&self) -> bool {
        self.items.0 == self.items.1 || self.branches
    }

    /// Whether its expansion stands in place of what was read from its body: the items
    /// `[start, end)` and the invocations written inside it ([`MacroCall::branches`]; a branch
    /// may hold only invocations).
    pub fn replaces_items(&self) -> bool {
        self.branches
    }

    /// Whether `other`, an invocation of the same file, is written inside this one.
    pub fn encloses(&self, other: &MacroCall) -> bool {
        self.span.start_byte <= other.span.start_byte
            && other.span.end_byte <= self.span.end_byte
            && self.span != other.span
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseIssue {
    pub line: u32,
    pub message: String,
}

/// One item as written, before name resolution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawItem {
    pub kind: ItemKind,
    /// The item's own name (`spawn`, `JoinHandle`, `0` for a tuple field, `*` for a glob use,
    /// `impl Future for JoinHandle` for impls, `extern "C"` for extern blocks).
    pub name: String,
    pub parent: Option<u32>,
    /// Includes outer attributes and doc comments.
    pub span: Span,
    pub visibility: Visibility,
    pub docs: String,
    /// Non-doc attributes as written.
    pub attrs: Vec<String>,
    /// The item's own `cfg` predicates (`unix`, `feature = "rt"`), plus `name!` for each
    /// item-level macro it was found inside.
    pub cfg: Vec<String>,
    /// The declaration without its body, whitespace collapsed.
    pub signature: String,
    pub content_hash: ContentHash,
    /// `#[test]`-like attribute, `#[cfg(test)]`, or a module named `tests`/`test`.
    pub test_marker: bool,
    /// 1-based line of the declaration itself (after doc comments and attributes): where a
    /// problem with the item is reported.
    pub decl_line: u32,
    pub detail: Detail,
    /// References in the signature and body, deduplicated by (kind, path).
    pub refs: Vec<RawRef>,
    /// For an item made by a macro expansion whose text lies in another file (the macro's
    /// definition): that file, as an index into [`ParsedFile::files`]. `None`: the span points
    /// into the file the item was read from.
    pub file: Option<u32>,
}

/// Kind-specific data the resolver needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Detail {
    #[default]
    None,
    Module {
        /// `mod foo { … }` (true) or `mod foo;` (false).
        inline: bool,
        /// The `#[path = "…"]` attribute, if any.
        path_attr: Option<String>,
        /// Whether it is one of the twins a `mod foo;` with `#[cfg_attr(PRED, path = "…")]`
        /// attributes is read as.
        cfg_path: CfgPath,
    },
    Impl {
        /// Path segments of the self type's head (`[io, Error]` for `io::Error<T>`); empty when
        /// the self type is not a path (a reference, tuple, slice…).
        self_path: Vec<String>,
        /// Last segment of the self type without generics, or its text when not a path.
        self_name: String,
        trait_path: Option<Vec<String>>,
        trait_name: Option<String>,
        /// `impl !Send for T`.
        negative: bool,
    },
    Use {
        entries: Vec<UseEntry>,
    },
    ExternCrate {
        crate_name: String,
    },
    MacroRules {
        /// `#[macro_export]`: the macro lives at the crate root.
        exported: bool,
    },
}

/// `#[cfg_attr(PRED, path = "…")] mod foo;` is read as twins, one module per file it may be
/// (cfgs are not evaluated: every configuration counts, as for `#[cfg]`): the declaration as
/// written, under `not(PRED)` (`not(any(PRED1, …))`), then one per attribute, under its `PRED`
/// with its `path`. Whoever maps modules to files (the indexer) leaves out a twin whose file does
/// not exist: an alternative (a configuration this tree does not build, as serde_core's
/// `docsrs` paths), or the declaration as written when an alternative exists (lazy_static's
/// `lazy.rs`); [`CfgPath::Default`] says which `not(…)` to take back then.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CfgPath {
    /// No such attribute.
    #[default]
    None,
    /// The declaration as written; `preds` are its alternatives' predicates, in order, and
    /// [`cfg_none_of`]`(preds)` is among its cfgs.
    Default { preds: Vec<String> },
    /// An alternative, under `pred` (among its cfgs).
    Alternative { pred: String },
}

/// The cfg under which none of `preds` holds: `not(P)`, `not(any(P1, P2))`; `None` for none.
pub fn cfg_none_of(preds: &[String]) -> Option<String> {
    match preds {
        [] => None,
        [p] => Some(format!("not({p})")),
        ps => Some(format!("not(any({}))", ps.join(", "))),
    }
}

/// One leaf of a use tree: `use a::b::{c, d as e, f::*}` gives `a::b::c`, `a::b::d as e`,
/// `a::b::f::*`. A leading `::` is kept as an empty first segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct UseEntry {
    pub path: Vec<String>,
    /// `as name`; `_` for `as _`.
    pub alias: Option<String>,
    pub glob: bool,
    pub line: u32,
}

/// How a path was used.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum RefKind {
    /// `path(args)`.
    Call,
    /// `recv.name(args)`: only the method name is known.
    Method,
    /// A type in a signature, field, or body (`let x: T`, `T::new`'s `T`, struct literals).
    Type,
    /// A value path with at least two segments: `Kind::Variant`, `Type::CONST`, `module::CONST`.
    Value,
    /// `name!(…)`.
    Macro,
}

/// A reference to another item, as written.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RawRef {
    pub kind: RefKind,
    pub path: Vec<String>,
    pub line: u32,
    /// For a method call, what its receiver is when the code says (`self.sem.acquire()`,
    /// `let m = Mutex::new(0); m.lock()`); `None` when only the method name is known.
    pub recv: Option<Receiver>,
}

/// The receiver of a method call as far as the code names its type: a base value and the
/// fields taken from it (`self.inner.sem` is `Self` then `inner`, `sem`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Receiver {
    pub base: RecvBase,
    pub fields: Vec<String>,
}

/// Where a receiver starts.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum RecvBase {
    /// `self`.
    SelfValue,
    /// A value of a named type: a parameter `x: &Foo`, `let x: Foo`, `let x = Foo::new(…)`,
    /// `Foo { … }`, or such an expression itself (smart pointers `Arc`, `Rc`, `Box`, `Pin`
    /// and references looked through).
    Typed(Vec<String>),
}

/// The default [`ParseOptions::max_file_bytes`]: a larger file is skipped whole. Whoever writes
/// source files (the edit crate) refuses to make a file larger than this, so that an edit never
/// drops a file out of the index.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Limits that keep pathological input cheap.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Files larger than this are not parsed (generated code, data blobs).
    pub max_file_bytes: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_file_bytes: MAX_FILE_BYTES,
        }
    }
}

/// Why [`parse_file`] would skip `source` whole without parsing it (too large, nested too
/// deep), or `None` when it would parse it. One pass over the bytes.
pub fn over_limits(source: &str, opts: &ParseOptions) -> Option<String> {
    if source.len() > opts.max_file_bytes {
        return Some(format!(
            "file is {} bytes, over the {} byte limit for parsing (generated or data file?)",
            source.len(),
            opts.max_file_bytes
        ));
    }
    let depth = nesting_estimate(source);
    (depth > MAX_NESTING).then(|| {
        format!(
            "nesting about {depth} levels deep, over the limit of {MAX_NESTING} (generated file?)"
        )
    })
}

/// Runs `f`, which parses `source` (or a part of it) with syn or proc-macro2, on a stack deep
/// enough for any input that [`over_limits`] lets through, then releases this thread's span map
/// (proc-macro2 keeps every lexed text in a thread-local map that only grows).
///
/// Call it only for input within [`over_limits`]; spans made before the call on this thread
/// must not be used after it.
pub fn on_parser_stack<R>(source: &str, f: impl FnOnce() -> R) -> R {
    let result = with_parser_stack(source, f);
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// [`on_parser_stack`] without releasing the span map: for parses nested in a larger one.
pub(crate) fn with_parser_stack<R>(source: &str, f: impl FnOnce() -> R) -> R {
    let depth = nesting_estimate(source);
    // Recursion also comes without brackets (`return return …`, `|x| |x| …`, `a = a = …`),
    // about one level per 4 bytes at worst: only small inputs are safe on any stack.
    if depth > SMALL_STACK_NESTING || source.len() > SMALL_STACK_BYTES {
        // Recursion depth is bounded by the nesting estimate plus about one level per 4 bytes
        // (`return return …`, `|x| |x| …`); allow ~1 KiB of stack per byte and 4 KiB per
        // estimated level. If the current stack has less left, continue on a fresh segment
        // (same thread, no spawn). Callers that parse many files give their threads big stacks
        // so this rarely allocates.
        let need = (source.len().saturating_mul(1024))
            .saturating_add(depth.saturating_mul(4096))
            .clamp(1 << 20, DEEP_STACK_BYTES);
        stacker::maybe_grow(need, DEEP_STACK_BYTES, f)
    } else {
        f()
    }
}

/// Parse `source` (the text of one file). Never panics.
pub fn parse_file(source: &str, opts: &ParseOptions) -> ParsedFile {
    let lines = text::count_lines(source);
    if let Some(message) = over_limits(source, opts) {
        return ParsedFile {
            items: Vec::new(),
            issues: vec![ParseIssue { line: 1, message }],
            parsed: false,
            lines,
            ..ParsedFile::default()
        };
    }
    // syn parses recursively: deeply nested input would overflow an ordinary thread's stack,
    // which aborts the process (no panic to catch). Nesting that deep is pathological: past a
    // bound the file is refused above, and short of it, deep files get a large stack.
    let result = on_parser_stack(source, || parse_here(source));
    match result {
        Ok(mut parsed) => {
            parsed.lines = lines;
            parsed
        }
        Err(_) => ParsedFile {
            items: Vec::new(),
            issues: vec![ParseIssue {
                line: 1,
                message: "internal parser panic on this file (please report it)".into(),
            }],
            parsed: false,
            lines,
            ..ParsedFile::default()
        },
    }
}

/// Stack a thread should have to parse files up to 64 KiB without growing its stack.
pub const RECOMMENDED_STACK_BYTES: usize = 80 << 20;

/// Nesting an ordinary 2 MiB thread stack handles with a wide margin (it aborts at ~270
/// nested generics in the worst case measured).
const SMALL_STACK_NESTING: usize = 64;
/// Nesting refused outright; [`DEEP_STACK_BYTES`] holds well over this in every shape measured.
const MAX_NESTING: usize = 3000;
/// Files up to this size cannot nest deep enough to exhaust a 2 MiB stack.
const SMALL_STACK_BYTES: usize = 1024;
/// A virtual reservation: only the pages a parse touches are ever backed by memory.
const DEEP_STACK_BYTES: usize = 4 << 30;

/// Extract on the current thread, containing panics.
fn parse_here(source: &str) -> Result<ParsedFile, ()> {
    // syn and proc-macro2 are not expected to panic, but a parser must never take the whole
    // index run down with it: contain any panic to this file.
    std::panic::catch_unwind(|| extract::extract(source)).map_err(|_| ())
}

/// A cheap upper-bound-ish estimate of how deeply the parser will recurse: the deepest
/// bracket nesting, plus the deepest `<` nesting within one statement, plus the longest run of
/// prefix-like `&`/`|`/`!`/`*`/`-` operators. One pass over the bytes, no lexing.
pub(crate) fn nesting_estimate(source: &str) -> usize {
    let (mut brackets, mut max_brackets) = (0usize, 0usize);
    let (mut angles, mut max_angles) = (0usize, 0usize);
    let (mut run, mut max_run) = (0usize, 0usize);
    for &b in source.as_bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                brackets += 1;
                max_brackets = max_brackets.max(brackets);
                if b == b'{' {
                    angles = 0;
                }
            }
            b')' | b']' | b'}' => {
                brackets = brackets.saturating_sub(1);
                if b == b'}' {
                    angles = 0;
                }
            }
            b';' => angles = 0,
            b'<' => {
                angles += 1;
                max_angles = max_angles.max(angles);
            }
            b'>' => angles = angles.saturating_sub(1),
            _ => {}
        }
        match b {
            b'&' | b'|' | b'!' | b'*' | b'-' => {
                run += 1;
                max_run = max_run.max(run);
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => run = 0,
        }
    }
    max_brackets + max_angles + max_run
}

/// The item as the kind-specific name a reader expects (`impl Trait for Type`).
pub fn impl_name(self_name: &str, trait_name: Option<&str>, negative: bool) -> String {
    match trait_name {
        Some(t) if negative => format!("impl !{t} for {self_name}"),
        Some(t) => format!("impl {t} for {self_name}"),
        None => format!("impl {self_name}"),
    }
}
