//! Expansion of item-level invocations of `macro_rules!` macros.
//!
//! [`expand_call`] expands one invocation recorded by the parser ([`MacroCall`]) with a
//! definition the caller found for it (the caller knows the crate's files and which macros are
//! in scope; this module knows neither). The result is the items the invocation stands for,
//! with spans in real files:
//!
//! 1. The invocation and the definition are lexed into token trees that remember, for every
//!    token, where its text is (file and byte range): its *origin*.
//! 2. The first rule whose matcher matches the invocation's body is transcribed (fixed tokens,
//!    fragments `$x:ident`/`ty`/`expr`/`path`/…, repetitions at any depth, `$crate`).
//!    Fragments other than `ident`, `lifetime`, `tt`, `literal`, `vis` and `block` are
//!    delimited by syn's parsers.
//! 3. The output is printed as text (tokens adjacent in their source keep the whitespace and
//!    comments between them, so lines look as written) with a map from each printed token to
//!    its origin, and that text is read like a file ([`crate::parse_file`]'s extractor).
//!    Item-level invocations in it are expanded in turn (up to [`ExpandLimits::max_depth`]),
//!    macros defined earlier in the expansion included.
//! 4. Each item is placed where its text really is: when all its tokens (after any leading
//!    attributes added from elsewhere) come, in order, from one file, its span is their range
//!    there (the definition's file for `crate_root!`-style macros, the invocation for
//!    `cfg`-wrapping ones); when they mix the definition with the invocation (`pub struct $n;`)
//!    the item is placed at the invocation.
//!
//! Anything that does not match, transcribe or parse makes the whole call `None`: the caller
//! leaves it unexpanded. Work is bounded (depth, bytes of output, matcher steps) and panics are
//! contained.

use std::collections::HashMap;
use std::rc::Rc;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

use ploke_core::{ContentHash, Span};

use crate::text::LineIndex;
use crate::{Detail, MacroCall, RawItem};

/// Where a `macro_rules!` definition is: a file (the caller's id for it) and the span of the
/// `macro_rules! name { … }` item in it (attributes included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacroDefSite {
    pub file: u32,
    pub span: Span,
}

/// Bounds on one call's expansion.
#[derive(Debug, Clone, Copy)]
pub struct ExpandLimits {
    /// Nested expansions (an expansion that invokes a macro is one level deeper): rustc's
    /// default `recursion_limit`, which `cfg_if!`-style macros that recurse once per branch
    /// need (libc's has 45 branches).
    pub max_depth: usize,
    /// Bytes of expanded text, all levels together.
    pub max_bytes: usize,
}

impl Default for ExpandLimits {
    fn default() -> Self {
        ExpandLimits {
            max_depth: 128,
            max_bytes: crate::MAX_FILE_BYTES,
        }
    }
}

/// Matcher steps, fragment tokens handed to syn and tokens transcribed, per call.
const MAX_WORK: usize = 4_000_000;
/// Whitespace and comments longer than this between two tokens are printed as one space.
const MAX_GAP: u32 = 4096;

/// Expands the item-level invocation `call` of file `file`. `text` gives the text of a file by
/// id (`file`'s, and that of every file `resolve` names); `resolve` names the definition a
/// macro path refers to where the call is (`["m"]`, `["crate", "m"]`), for the call and for the
/// invocations its expansion makes.
///
/// Returns the items in source order with `parent` indices into the returned list (`None`:
/// the module the call is in), `file` set for items whose span is in a file other than
/// `file` (as that file's id), and the call's `cfg` not yet added (the caller adds
/// [`MacroCall::cfg`]). `None` when the call cannot be expanded: no definition, no rule
/// matches, the result does not parse as items, or a limit was reached. Never panics.
///
/// One call; to expand many, an [`Expander`] keeps what they share.
pub fn expand_call<'t>(
    file: u32,
    call: &MacroCall,
    text: &dyn Fn(u32) -> Option<&'t str>,
    resolve: &mut dyn FnMut(&[String]) -> Option<MacroDefSite>,
    limits: &ExpandLimits,
) -> Option<Vec<RawItem>> {
    Expander::new(*limits).expand(file, call, text, resolve)
}

/// Expands many invocations over the same files, keeping the definitions it has read and the
/// line tables of the files between calls: the texts its callers give must not change for its
/// lifetime (make one per walk over a crate).
pub struct Expander {
    limits: ExpandLimits,
    lines: HashMap<u32, LineIndex>,
    defs: HashMap<(u32, u32, u32), Option<Rc<MacroDef>>>,
}

impl Expander {
    pub fn new(limits: ExpandLimits) -> Expander {
        Expander {
            limits,
            lines: HashMap::new(),
            defs: HashMap::new(),
        }
    }

    /// [`expand_call`], with what earlier calls read. Releases this thread's proc-macro2
    /// span map when done (as [`crate::on_parser_stack`] does).
    pub fn expand<'t>(
        &mut self,
        file: u32,
        call: &MacroCall,
        text: &dyn Fn(u32) -> Option<&'t str>,
        resolve: &mut dyn FnMut(&[String]) -> Option<MacroDefSite>,
    ) -> Option<Vec<RawItem>> {
        // Matching, transcribing and printing recurse as deep as the tokens nest (the
        // parser's limits bound that): on a short stack, continue on a larger one.
        let result = stacker::maybe_grow(4 << 20, 256 << 20, || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.expand_here(file, call, text, resolve)
            }))
        });
        // Every text lexed here is in proc-macro2's span map; nothing keeps a span past this.
        proc_macro2::extra::invalidate_current_thread_spans();
        result.ok().flatten()
    }

    fn expand_here<'t>(
        &mut self,
        file: u32,
        call: &MacroCall,
        text: &dyn Fn(u32) -> Option<&'t str>,
        resolve: &mut dyn FnMut(&[String]) -> Option<MacroDefSite>,
    ) -> Option<Vec<RawItem>> {
        let mut s = Session {
            text,
            resolve,
            limits: self.limits,
            call_file: file,
            call_span: call.span,
            lines: &mut self.lines,
            chunks: Vec::new(),
            file_defs: &mut self.defs,
            chunk_defs: HashMap::new(),
            bytes: 0,
            work: 0,
            over: false,
        };
        let mut items = s.expand_outer(call)?;
        for it in &mut items {
            if it.file == Some(file) {
                it.file = None;
            }
        }
        Some(items)
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens with origins.
// ---------------------------------------------------------------------------------------------

const NO_FILE: u32 = u32::MAX;

/// Where a token's text is: a byte range of a file (`file` as the caller numbers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    file: u32,
    start: u32,
    end: u32,
}

impl Origin {
    const NONE: Origin = Origin {
        file: NO_FILE,
        start: 0,
        end: 0,
    };

    fn join(self, other: Origin) -> Origin {
        if self.file == other.file {
            Origin {
                file: self.file,
                start: self.start.min(other.start),
                end: self.end.max(other.end),
            }
        } else {
            self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    /// One punctuation character or an operator of several (`::`, `=>`, `..=`), as rustc's
    /// lexer glues them.
    Punct,
    Literal,
    /// `'a`.
    Lifetime,
}

#[derive(Debug, Clone)]
struct Leaf {
    kind: Kind,
    text: Rc<str>,
    origin: Origin,
}

#[derive(Debug, Clone)]
struct Group {
    delim: Delimiter,
    open: Origin,
    close: Origin,
    inner: Rc<[Tt]>,
}

#[derive(Debug, Clone)]
enum Tt {
    Leaf(Leaf),
    Group(Group),
}

impl Tt {
    fn leaf(&self) -> Option<&Leaf> {
        match self {
            Tt::Leaf(l) => Some(l),
            Tt::Group(_) => None,
        }
    }

    fn is_punct(&self, text: &str) -> bool {
        matches!(self, Tt::Leaf(l) if l.kind == Kind::Punct && &*l.text == text)
    }

    fn is_ident(&self, text: &str) -> bool {
        matches!(self, Tt::Leaf(l) if l.kind == Kind::Ident && &*l.text == text)
    }

    /// How many proc-macro2 token trees it is rebuilt as.
    fn pm_len(&self) -> usize {
        match self {
            Tt::Leaf(l) => match l.kind {
                Kind::Punct => l.text.chars().count(),
                Kind::Lifetime => 2,
                Kind::Ident | Kind::Literal => 1,
            },
            Tt::Group(_) => 1,
        }
    }
}

/// Operators rustc lexes as one token, longest first. Those that start with `>` stay apart:
/// rustc's parser splits them where a type ends (`Vec<Vec<u8>>` as a `$t:ty` followed by
/// `>`), and keeping them apart on both sides of a match gives the same result.
const OPS: &[&str] = &[
    "<<=", "...", "..=", "::", "->", "=>", "==", "!=", "<=", "&&", "||", "+=", "-=", "*=", "/=",
    "%=", "^=", "&=", "|=", "<<", "..",
];

/// A printed expansion: its text and the origin of each printed token, by byte range.
struct Chunk {
    text: String,
    /// `(start, end, origin)` in the text, in order.
    map: Vec<(u32, u32, Origin)>,
    lines: LineIndex,
}

impl Chunk {
    /// The origin of the printed token that holds byte `at`.
    fn origin_at(&self, at: u32) -> Origin {
        let i = self.map.partition_point(|e| e.0 <= at);
        match i.checked_sub(1).map(|i| self.map[i]) {
            Some((s, e, o)) if s <= at && at < e.max(s + 1) => o,
            _ => Origin::NONE,
        }
    }
}

/// Where lexed text comes from.
#[derive(Clone, Copy)]
enum Place<'c> {
    /// Bytes of file `file` from `base` on.
    File { file: u32, base: u32 },
    /// Bytes of a printed expansion from `base` on.
    Chunk { chunk: &'c Chunk, base: u32 },
}

impl Place<'_> {
    fn origin(&self, span: proc_macro2::Span) -> Origin {
        let r = span.byte_range();
        match *self {
            Place::File { file, base } => Origin {
                file,
                start: base + r.start as u32,
                end: base + r.end as u32,
            },
            Place::Chunk { chunk, base } => chunk.origin_at(base + r.start as u32),
        }
    }
}

/// Lexes `text` (which sits at `place`) into token trees with origins.
fn lex(text: &str, place: Place) -> Option<Vec<Tt>> {
    let ts: TokenStream = text.parse().ok()?;
    Some(convert(ts, place))
}

fn convert(ts: TokenStream, place: Place) -> Vec<Tt> {
    let mut out = Vec::new();
    let mut iter = ts.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Group(g) => {
                let inner = convert(g.stream(), place);
                out.push(Tt::Group(Group {
                    delim: g.delimiter(),
                    open: place.origin(g.span_open()),
                    close: place.origin(g.span_close()),
                    inner: inner.into(),
                }));
            }
            TokenTree::Ident(i) => out.push(Tt::Leaf(Leaf {
                kind: Kind::Ident,
                text: i.to_string().into(),
                origin: place.origin(i.span()),
            })),
            TokenTree::Literal(l) => out.push(Tt::Leaf(Leaf {
                kind: Kind::Literal,
                text: l.to_string().into(),
                origin: place.origin(l.span()),
            })),
            TokenTree::Punct(p) => {
                if p.as_char() == '\'' && p.spacing() == Spacing::Joint {
                    if let Some(TokenTree::Ident(_)) = iter.peek() {
                        let Some(TokenTree::Ident(i)) = iter.next() else {
                            unreachable!()
                        };
                        out.push(Tt::Leaf(Leaf {
                            kind: Kind::Lifetime,
                            text: format!("'{i}").into(),
                            origin: place.origin(p.span()).join(place.origin(i.span())),
                        }));
                        continue;
                    }
                }
                // A run of joint punctuation, cut into rustc's operators.
                let mut run = vec![(p.as_char(), place.origin(p.span()))];
                let mut joint = p.spacing() == Spacing::Joint;
                while joint {
                    match iter.peek() {
                        Some(TokenTree::Punct(q)) if q.as_char() != '\'' => {
                            run.push((q.as_char(), place.origin(q.span())));
                            joint = q.spacing() == Spacing::Joint;
                            iter.next();
                        }
                        _ => break,
                    }
                }
                let mut i = 0;
                while i < run.len() {
                    let rest: String = run[i..].iter().take(3).map(|(c, _)| *c).collect();
                    let n = OPS
                        .iter()
                        .find(|op| rest.starts_with(*op))
                        .map(|op| op.len())
                        .unwrap_or(1);
                    let text: String = run[i..i + n].iter().map(|(c, _)| *c).collect();
                    let origin = run[i..i + n]
                        .iter()
                        .map(|(_, o)| *o)
                        .reduce(Origin::join)
                        .unwrap_or(Origin::NONE);
                    out.push(Tt::Leaf(Leaf {
                        kind: Kind::Punct,
                        text: text.into(),
                        origin,
                    }));
                    i += n;
                }
            }
        }
    }
    out
}

/// Rebuilds token trees for syn (spans are call-site: nothing here is reported by position).
fn to_pm(tts: &[Tt], out: &mut Vec<TokenTree>) -> Option<()> {
    use proc_macro2::{Ident, Literal, Punct, Span as PmSpan};
    for tt in tts {
        match tt {
            Tt::Group(g) => {
                let mut inner = Vec::new();
                to_pm(&g.inner, &mut inner)?;
                out.push(TokenTree::Group(proc_macro2::Group::new(
                    g.delim,
                    inner.into_iter().collect(),
                )));
            }
            Tt::Leaf(l) => match l.kind {
                Kind::Ident => out.push(TokenTree::Ident(match l.text.strip_prefix("r#") {
                    Some(raw) => Ident::new_raw(raw, PmSpan::call_site()),
                    None => Ident::new(&l.text, PmSpan::call_site()),
                })),
                Kind::Literal => out.push(TokenTree::Literal(l.text.parse::<Literal>().ok()?)),
                Kind::Lifetime => {
                    out.push(TokenTree::Punct(Punct::new('\'', Spacing::Joint)));
                    out.push(TokenTree::Ident(Ident::new(
                        l.text.trim_start_matches('\''),
                        PmSpan::call_site(),
                    )));
                }
                Kind::Punct => {
                    let n = l.text.chars().count();
                    for (i, c) in l.text.chars().enumerate() {
                        let spacing = if i + 1 < n {
                            Spacing::Joint
                        } else {
                            Spacing::Alone
                        };
                        out.push(TokenTree::Punct(Punct::new(c, spacing)));
                    }
                }
            },
        }
    }
    Some(())
}

// ---------------------------------------------------------------------------------------------
// Definitions: matchers and transcribers.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frag {
    Ident,
    Lifetime,
    Tt,
    Literal,
    Vis,
    Block,
    Item,
    Stmt,
    Expr,
    Ty,
    Path,
    Pat,
    PatParam,
    Meta,
}

impl Frag {
    fn of(name: &str) -> Option<Frag> {
        Some(match name {
            "ident" => Frag::Ident,
            "lifetime" => Frag::Lifetime,
            "tt" => Frag::Tt,
            "literal" => Frag::Literal,
            "vis" => Frag::Vis,
            "block" => Frag::Block,
            "item" => Frag::Item,
            "stmt" => Frag::Stmt,
            "expr" | "expr_2021" => Frag::Expr,
            "ty" => Frag::Ty,
            "path" => Frag::Path,
            "pat" => Frag::Pat,
            "pat_param" => Frag::PatParam,
            "meta" => Frag::Meta,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RepOp {
    /// `*`
    Any,
    /// `+`
    Some,
    /// `?`
    Maybe,
}

#[derive(Debug)]
struct Rep<T> {
    body: Vec<T>,
    sep: Option<Leaf>,
    op: RepOp,
    /// The variables inside, at any depth.
    vars: Vec<Rc<str>>,
}

#[derive(Debug)]
enum Pat {
    Tok(Leaf),
    Group(Delimiter, Vec<Pat>),
    Frag(Rc<str>, Frag),
    Rep(Rep<Pat>),
}

#[derive(Debug)]
enum Tr {
    Tt(Leaf),
    Group(Delimiter, Origin, Origin, Vec<Tr>),
    /// `$name`, with the `$` and name tokens for when it is not bound (a nested definition's
    /// own variable).
    Var(Rc<str>, Leaf, Leaf),
    /// `$crate`.
    Crate(Origin),
    Rep(Rep<Tr>),
}

#[derive(Debug)]
struct Rule {
    matcher: Vec<Pat>,
    body: Vec<Tr>,
}

#[derive(Debug)]
struct MacroDef {
    rules: Vec<Rule>,
}

/// Skips outer attributes (`#[…]`, doc comments) at `tts[i..]`.
fn skip_attrs(tts: &[Tt], mut i: usize) -> usize {
    while tts.get(i).is_some_and(|t| t.is_punct("#")) {
        let mut j = i + 1;
        if tts.get(j).is_some_and(|t| t.is_punct("!")) {
            j += 1;
        }
        match tts.get(j) {
            Some(Tt::Group(g)) if g.delim == Delimiter::Bracket => i = j + 1,
            _ => break,
        }
    }
    i
}

/// `macro_rules! name { rules }` → its rules. Rules that cannot be read are left out.
fn parse_def(tts: &[Tt]) -> Option<MacroDef> {
    let i = skip_attrs(tts, 0);
    if !tts.get(i)?.is_ident("macro_rules") || !tts.get(i + 1)?.is_punct("!") {
        return None;
    }
    let Some(Tt::Group(body)) = tts.get(i + 3) else {
        return None;
    };
    let mut rules = Vec::new();
    let toks = &body.inner;
    let mut j = 0;
    while j < toks.len() {
        let (Some(Tt::Group(m)), Some(arrow), Some(Tt::Group(t))) =
            (toks.get(j), toks.get(j + 1), toks.get(j + 2))
        else {
            break;
        };
        if !arrow.is_punct("=>") {
            break;
        }
        if let (Some(matcher), Some(body)) = (parse_pat(&m.inner), parse_tr(&t.inner)) {
            rules.push(Rule { matcher, body });
        }
        j += 3;
        if toks.get(j).is_some_and(|t| t.is_punct(";")) {
            j += 1;
        }
    }
    (!rules.is_empty()).then_some(MacroDef { rules })
}

/// After `$( … )` at `tts[i]`: the separator and the operator, and the index past them.
fn rep_tail(tts: &[Tt], i: usize) -> Option<(Option<Leaf>, RepOp, usize)> {
    let op = |t: &Tt| match t.leaf().map(|l| &*l.text) {
        Some("*") => Some(RepOp::Any),
        Some("+") => Some(RepOp::Some),
        Some("?") => Some(RepOp::Maybe),
        _ => None,
    };
    let first = tts.get(i)?;
    if let Some(o) = op(first) {
        return Some((None, o, i + 1));
    }
    let sep = first.leaf()?.clone();
    let o = op(tts.get(i + 1)?)?;
    (o != RepOp::Maybe).then_some((Some(sep), o, i + 2))
}

fn parse_pat(tts: &[Tt]) -> Option<Vec<Pat>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            Tt::Leaf(l) if l.kind == Kind::Punct && &*l.text == "$" => match tts.get(i + 1) {
                Some(Tt::Leaf(name)) if name.kind == Kind::Ident => {
                    if !tts.get(i + 2)?.is_punct(":") {
                        return None;
                    }
                    let kind = tts.get(i + 3)?.leaf()?;
                    let frag = Frag::of(&kind.text)?;
                    out.push(Pat::Frag(name.text.clone(), frag));
                    i += 4;
                }
                Some(Tt::Group(g)) if g.delim == Delimiter::Parenthesis => {
                    let body = parse_pat(&g.inner)?;
                    let (sep, op, next) = rep_tail(tts, i + 2)?;
                    let mut vars = Vec::new();
                    pat_vars(&body, &mut vars);
                    out.push(Pat::Rep(Rep {
                        body,
                        sep,
                        op,
                        vars,
                    }));
                    i = next;
                }
                _ => return None,
            },
            Tt::Leaf(l) => {
                out.push(Pat::Tok(l.clone()));
                i += 1;
            }
            Tt::Group(g) => {
                out.push(Pat::Group(g.delim, parse_pat(&g.inner)?));
                i += 1;
            }
        }
    }
    Some(out)
}

fn pat_vars(p: &[Pat], out: &mut Vec<Rc<str>>) {
    for x in p {
        match x {
            Pat::Frag(n, _) => out.push(n.clone()),
            Pat::Group(_, inner) => pat_vars(inner, out),
            Pat::Rep(r) => out.extend(r.vars.iter().cloned()),
            Pat::Tok(_) => {}
        }
    }
}

fn parse_tr(tts: &[Tt]) -> Option<Vec<Tr>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            Tt::Leaf(l) if l.kind == Kind::Punct && &*l.text == "$" => match tts.get(i + 1) {
                Some(Tt::Leaf(name)) if name.kind == Kind::Ident => {
                    if &*name.text == "crate" {
                        out.push(Tr::Crate(name.origin));
                    } else {
                        out.push(Tr::Var(name.text.clone(), l.clone(), name.clone()));
                    }
                    i += 2;
                }
                Some(Tt::Group(g)) if g.delim == Delimiter::Parenthesis => {
                    let body = parse_tr(&g.inner)?;
                    let (sep, op, next) = rep_tail(tts, i + 2)?;
                    let mut vars = Vec::new();
                    tr_vars(&body, &mut vars);
                    out.push(Tr::Rep(Rep {
                        body,
                        sep,
                        op,
                        vars,
                    }));
                    i = next;
                }
                _ => {
                    out.push(Tr::Tt(l.clone()));
                    i += 1;
                }
            },
            Tt::Leaf(l) => {
                out.push(Tr::Tt(l.clone()));
                i += 1;
            }
            Tt::Group(g) => {
                out.push(Tr::Group(g.delim, g.open, g.close, parse_tr(&g.inner)?));
                i += 1;
            }
        }
    }
    Some(out)
}

fn tr_vars(t: &[Tr], out: &mut Vec<Rc<str>>) {
    for x in t {
        match x {
            Tr::Var(n, _, _) => out.push(n.clone()),
            Tr::Group(_, _, _, inner) => tr_vars(inner, out),
            Tr::Rep(r) => out.extend(r.vars.iter().cloned()),
            Tr::Tt(_) | Tr::Crate(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Matching and transcribing.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Binding {
    Frag(Frag, Rc<[Tt]>),
    Seq(Vec<Binding>),
}

type Bindings = Vec<(Rc<str>, Binding)>;

fn lookup<'b>(b: &'b [(Rc<str>, Binding)], name: &str) -> Option<&'b Binding> {
    b.iter().rev().find(|(n, _)| &**n == name).map(|(_, v)| v)
}

fn leaf_eq(p: &Leaf, t: &Tt) -> bool {
    matches!(t, Tt::Leaf(l) if l.kind == p.kind && l.text == p.text)
}

/// Work done so far; `None` once over the budget.
struct Budget(usize);

impl Budget {
    fn spend(&mut self, n: usize) -> Option<()> {
        self.0 = self.0.saturating_add(n);
        (self.0 <= MAX_WORK).then_some(())
    }
}

/// Matches `pat[pi..]` against `input[ii..]`; with `full`, all of the input must be used.
/// Returns where the match ends. Repetitions are greedy and give back iterations when what
/// follows does not match. `Err` when over budget.
fn match_seq(
    pat: &[Pat],
    pi: usize,
    input: &[Tt],
    ii: usize,
    full: bool,
    binds: &mut Bindings,
    budget: &mut Budget,
) -> Result<Option<usize>, ()> {
    budget.spend(1).ok_or(())?;
    let Some(p) = pat.get(pi) else {
        return Ok((!full || ii == input.len()).then_some(ii));
    };
    match p {
        Pat::Tok(l) => {
            if input.get(ii).is_some_and(|t| leaf_eq(l, t)) {
                match_seq(pat, pi + 1, input, ii + 1, full, binds, budget)
            } else {
                Ok(None)
            }
        }
        Pat::Group(delim, inner) => {
            let Some(Tt::Group(g)) = input.get(ii) else {
                return Ok(None);
            };
            if g.delim != *delim {
                return Ok(None);
            }
            let mark = binds.len();
            if match_seq(inner, 0, &g.inner, 0, true, binds, budget)?.is_some() {
                if let Some(end) = match_seq(pat, pi + 1, input, ii + 1, full, binds, budget)? {
                    return Ok(Some(end));
                }
            }
            binds.truncate(mark);
            Ok(None)
        }
        Pat::Frag(name, frag) => {
            let Some(n) = frag_len(*frag, &input[ii..], budget)? else {
                return Ok(None);
            };
            binds.push((
                name.clone(),
                Binding::Frag(*frag, input[ii..ii + n].to_vec().into()),
            ));
            let r = match_seq(pat, pi + 1, input, ii + n, full, binds, budget)?;
            if r.is_none() {
                binds.pop();
            }
            Ok(r)
        }
        Pat::Rep(rep) => {
            let mut iters: Vec<(usize, Bindings)> = Vec::new();
            let mut pos = ii;
            loop {
                if rep.op == RepOp::Maybe && !iters.is_empty() {
                    break;
                }
                let mut p = pos;
                if !iters.is_empty() {
                    if let Some(sep) = &rep.sep {
                        if input.get(p).is_some_and(|t| leaf_eq(sep, t)) {
                            p += 1;
                        } else {
                            break;
                        }
                    }
                }
                let mut b = Vec::new();
                match match_seq(&rep.body, 0, input, p, false, &mut b, budget)? {
                    Some(end) if end > pos => {
                        iters.push((end, b));
                        pos = end;
                    }
                    _ => break,
                }
            }
            let min = usize::from(rep.op == RepOp::Some);
            for k in (min..=iters.len()).rev() {
                let end = if k == 0 { ii } else { iters[k - 1].0 };
                let mark = binds.len();
                for var in &rep.vars {
                    let seq = iters[..k]
                        .iter()
                        .map(|(_, b)| lookup(b, var).cloned().unwrap_or(Binding::Seq(Vec::new())))
                        .collect();
                    binds.push((var.clone(), Binding::Seq(seq)));
                }
                if let Some(r) = match_seq(pat, pi + 1, input, end, full, binds, budget)? {
                    return Ok(Some(r));
                }
                binds.truncate(mark);
            }
            Ok(None)
        }
    }
}

/// How many token trees at the start of `input` a fragment of kind `frag` takes.
fn frag_len(frag: Frag, input: &[Tt], budget: &mut Budget) -> Result<Option<usize>, ()> {
    let first = input.first();
    let leaf = first.and_then(Tt::leaf);
    let n = match frag {
        Frag::Tt => first.map(|_| 1),
        Frag::Ident => leaf
            .filter(|l| l.kind == Kind::Ident && &*l.text != "_")
            .map(|_| 1),
        Frag::Lifetime => leaf.filter(|l| l.kind == Kind::Lifetime).map(|_| 1),
        Frag::Literal => match leaf {
            Some(l) if l.kind == Kind::Literal => Some(1),
            Some(l) if l.kind == Kind::Ident && matches!(&*l.text, "true" | "false") => Some(1),
            Some(l) if l.kind == Kind::Punct && &*l.text == "-" => input
                .get(1)
                .and_then(Tt::leaf)
                .filter(|l| l.kind == Kind::Literal)
                .map(|_| 2),
            _ => None,
        },
        Frag::Vis => Some(vis_len(input)),
        Frag::Block => match first {
            Some(Tt::Group(g)) if g.delim == Delimiter::Brace => Some(1),
            _ => None,
        },
        _ => syn_len(frag, input, budget)?,
    };
    Ok(n)
}

fn vis_len(input: &[Tt]) -> usize {
    if !input.first().is_some_and(|t| t.is_ident("pub")) {
        return 0;
    }
    match input.get(1) {
        Some(Tt::Group(g))
            if g.delim == Delimiter::Parenthesis
                && g.inner.first().is_some_and(|t| {
                    t.is_ident("crate")
                        || t.is_ident("self")
                        || t.is_ident("super")
                        || t.is_ident("in")
                }) =>
        {
            2
        }
        _ => 1,
    }
}

/// A fragment delimited by syn's parser of its kind.
fn syn_len(frag: Frag, input: &[Tt], budget: &mut Budget) -> Result<Option<usize>, ()> {
    // Expressions, types, paths, patterns and attribute contents never hold `;` or `=>` outside
    // brackets: syn need not see past them.
    let limit = match frag {
        Frag::Item | Frag::Stmt => input.len(),
        _ => input
            .iter()
            .position(|t| t.is_punct(";") || t.is_punct("=>"))
            .unwrap_or(input.len()),
    };
    let input = &input[..limit];
    if input.is_empty() {
        return Ok(None);
    }
    budget.spend(input.len()).ok_or(())?;
    let mut pm = Vec::new();
    if to_pm(input, &mut pm).is_none() {
        return Ok(None);
    }
    let total = pm.len();
    let ts: TokenStream = pm.into_iter().collect();
    let Some(taken) = syn_prefix(frag, ts).and_then(|rest| total.checked_sub(rest)) else {
        return Ok(None);
    };
    // Back to token trees (an operator is one of them); a cut inside one is no match.
    let mut sum = 0;
    for (i, t) in input.iter().enumerate() {
        if sum == taken {
            return Ok((i > 0).then_some(i));
        }
        sum += t.pm_len();
        if sum > taken {
            return Ok(None);
        }
    }
    Ok((sum == taken && taken > 0).then_some(input.len()))
}

/// Parses one `frag` at the start of `ts`; returns how many top-level token trees are left.
fn syn_prefix(frag: Frag, ts: TokenStream) -> Option<usize> {
    use syn::parse::{ParseStream, Parser};
    let parser = move |input: ParseStream| -> syn::Result<usize> {
        match frag {
            Frag::Expr => drop(input.parse::<syn::Expr>()?),
            Frag::Ty => drop(input.parse::<syn::Type>()?),
            Frag::Path => drop(input.parse::<syn::Path>()?),
            Frag::Pat => drop(syn::Pat::parse_multi_with_leading_vert(input)?),
            Frag::PatParam => drop(syn::Pat::parse_single(input)?),
            Frag::Item => drop(input.parse::<syn::Item>()?),
            Frag::Stmt => drop(input.parse::<syn::Stmt>()?),
            Frag::Meta => drop(input.parse::<syn::Meta>()?),
            _ => return Err(input.error("not a syn fragment")),
        }
        input.step(|cursor| {
            let mut rest = 0;
            let mut c = *cursor;
            while let Some((_, next)) = c.token_tree() {
                rest += 1;
                c = next;
            }
            Ok((rest, c))
        })
    };
    parser.parse2(ts).ok()
}

/// Transcribes `body` with `binds`; `at` holds the current index of each enclosing
/// repetition. `None` on a repetition that cannot be counted, a variable still repeating, or
/// too much output.
fn transcribe(
    body: &[Tr],
    binds: &Bindings,
    at: &mut Vec<usize>,
    out: &mut Vec<Tt>,
    budget: &mut Budget,
) -> Option<()> {
    for (i, t) in body.iter().enumerate() {
        match t {
            Tr::Tt(l) => {
                budget.spend(1)?;
                out.push(Tt::Leaf(l.clone()));
            }
            Tr::Crate(origin) => out.push(Tt::Leaf(Leaf {
                kind: Kind::Ident,
                text: "crate".into(),
                origin: *origin,
            })),
            Tr::Group(delim, open, close, inner) => {
                let mut v = Vec::new();
                transcribe(inner, binds, at, &mut v, budget)?;
                out.push(Tt::Group(Group {
                    delim: *delim,
                    open: *open,
                    close: *close,
                    inner: v.into(),
                }));
            }
            Tr::Var(name, dollar, ident) => match lookup(binds, name) {
                None => {
                    out.push(Tt::Leaf(dollar.clone()));
                    out.push(Tt::Leaf(ident.clone()));
                }
                Some(b) => match descend(b, at) {
                    Some(Binding::Frag(frag, tts)) => {
                        budget.spend(tts.len())?;
                        // rustc keeps a fragment whole (an invisible group); printed as text,
                        // a type before `<` would take it as its generics (`1 as $t << n`).
                        let before_lt = matches!(
                            body.get(i + 1),
                            Some(Tr::Tt(l)) if l.kind == Kind::Punct && l.text.starts_with('<')
                        );
                        if *frag == Frag::Ty && before_lt {
                            out.push(Tt::Group(Group {
                                delim: Delimiter::Parenthesis,
                                open: Origin::NONE,
                                close: Origin::NONE,
                                inner: tts.clone(),
                            }));
                        } else {
                            out.extend(tts.iter().cloned());
                        }
                    }
                    _ => return None,
                },
            },
            Tr::Rep(rep) => {
                let mut count = None;
                for v in &rep.vars {
                    if let Some(Binding::Seq(s)) = lookup(binds, v).and_then(|b| descend(b, at)) {
                        match count {
                            None => count = Some(s.len()),
                            Some(c) if c != s.len() => return None,
                            Some(_) => {}
                        }
                    }
                }
                let count = count?;
                for i in 0..count {
                    if i > 0 {
                        if let Some(sep) = &rep.sep {
                            out.push(Tt::Leaf(sep.clone()));
                        }
                    }
                    at.push(i);
                    let r = transcribe(&rep.body, binds, at, out, budget);
                    at.pop();
                    r?;
                }
            }
        }
    }
    Some(())
}

/// The binding as seen inside the repetitions `at` (a variable of depth 0 is the same in
/// every iteration).
fn descend<'b>(mut b: &'b Binding, at: &[usize]) -> Option<&'b Binding> {
    for &i in at {
        match b {
            Binding::Seq(s) => b = s.get(i)?,
            Binding::Frag(..) => return Some(b),
        }
    }
    Some(b)
}

// ---------------------------------------------------------------------------------------------
// Printing an expansion.
// ---------------------------------------------------------------------------------------------

/// Whether `s` is only whitespace and comments that are not doc comments.
fn is_trivia(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let doc = (b.get(i + 2) == Some(&b'/') && b.get(i + 3) != Some(&b'/'))
                    || b.get(i + 2) == Some(&b'!');
                if doc {
                    return false;
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let doc = (b.get(i + 2) == Some(&b'*')
                    && !matches!(b.get(i + 3), Some(b'*') | Some(b'/')))
                    || b.get(i + 2) == Some(&b'!');
                if doc {
                    return false;
                }
                let mut depth = 0usize;
                loop {
                    if i + 1 >= b.len() {
                        return false;
                    }
                    if b[i] == b'/' && b[i + 1] == b'*' {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b[i + 1] == b'/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            _ => return false,
        }
    }
    true
}

struct Printer<'a, 't> {
    text: &'a dyn Fn(u32) -> Option<&'t str>,
    out: String,
    map: Vec<(u32, u32, Origin)>,
    prev: Option<Origin>,
    /// The last thing printed was a `//` doc comment: what follows starts a new line.
    newline: bool,
}

impl<'t> Printer<'_, 't> {
    fn source(&self, o: Origin) -> Option<&'t str> {
        if o.file == NO_FILE {
            return None;
        }
        (self.text)(o.file)?.get(o.start as usize..o.end as usize)
    }

    /// What goes between the last token and `text` at `next`: the text between them when
    /// they are neighbours in one file, else a space where the token had one before it in its
    /// own file or where the two would lex as one (a newline after a line comment).
    fn separate(&mut self, text: &str, next: Origin) {
        if let Some(p) = self.prev {
            if p.file == next.file
                && p.file != NO_FILE
                && next.start >= p.end
                && next.start - p.end <= MAX_GAP
            {
                if let Some(gap) = (self.text)(p.file)
                    .and_then(|t| t.get(p.end as usize..next.start as usize))
                    .filter(|g| is_trivia(g))
                {
                    if !self.newline || gap.contains('\n') {
                        self.out.push_str(gap);
                        self.newline = false;
                        return;
                    }
                }
            }
        }
        if self.newline {
            self.out.push('\n');
            self.newline = false;
            return;
        }
        let (Some(a), Some(b)) = (self.out.chars().next_back(), text.chars().next()) else {
            return;
        };
        if a.is_whitespace() {
            return;
        }
        let spaced_before = next.file == NO_FILE
            || next.start == 0
            || (self.text)(next.file)
                .and_then(|t| t.get(..next.start as usize))
                .and_then(|t| t.chars().next_back())
                .is_none_or(char::is_whitespace);
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let punct = |c: char| "!#$%&*+-./:;<=>?@^|~,".contains(c);
        let would_join = (word(b) && (word(a) || matches!(a, '\'' | '"' | '#')))
            || (punct(a) && punct(b))
            || (a.is_ascii_digit() && b == '.');
        if spaced_before || would_join {
            self.out.push(' ');
        }
    }

    fn put(&mut self, text: &str, origin: Origin) {
        self.separate(text, origin);
        let start = self.out.len() as u32;
        self.out.push_str(text);
        self.map.push((start, self.out.len() as u32, origin));
        self.prev = Some(origin);
    }

    fn print(&mut self, tts: &[Tt]) {
        let mut i = 0;
        while i < tts.len() {
            match &tts[i] {
                Tt::Leaf(l) => {
                    // A doc comment lexes as `#`, `!`?, `[doc = "…"]`, all at the comment:
                    // printed as the comment when those tokens are still together.
                    if &*l.text == "#" {
                        if let Some(comment) = self
                            .source(l.origin)
                            .filter(|s| s.starts_with("//") || s.starts_with("/*"))
                        {
                            let mut j = i + 1;
                            while j < tts.len() && within(origin_of(&tts[j]), l.origin) {
                                j += 1;
                            }
                            if j > i + 1 {
                                self.put(comment, l.origin);
                                self.newline = comment.starts_with("//");
                                i = j;
                                continue;
                            }
                        }
                    }
                    self.put(&l.text, l.origin);
                }
                Tt::Group(g) => {
                    let (open, close) = match g.delim {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::None => ("", ""),
                    };
                    if !open.is_empty() {
                        self.put(open, g.open);
                    }
                    self.print(&g.inner);
                    if !close.is_empty() {
                        self.put(close, g.close);
                    }
                }
            }
            i += 1;
        }
    }
}

fn within(inner: Origin, outer: Origin) -> bool {
    inner.file == outer.file && outer.start <= inner.start && inner.end <= outer.end
}

fn origin_of(t: &Tt) -> Origin {
    match t {
        Tt::Leaf(l) => l.origin,
        Tt::Group(g) => g.open,
    }
}

// ---------------------------------------------------------------------------------------------
// A call's expansion.
// ---------------------------------------------------------------------------------------------

/// Where a definition's text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DefKey {
    File(u32, u32, u32),
    Chunk(usize, u32, u32),
}

/// Where an item is placed: a span in a file.
struct Loc {
    file: u32,
    span: Span,
    /// The span is the item's own text (else the invocation's).
    exact: bool,
}

struct Session<'s, 't> {
    text: &'s dyn Fn(u32) -> Option<&'t str>,
    resolve: &'s mut dyn FnMut(&[String]) -> Option<MacroDefSite>,
    limits: ExpandLimits,
    call_file: u32,
    call_span: Span,
    lines: &'s mut HashMap<u32, LineIndex>,
    chunks: Vec<Chunk>,
    file_defs: &'s mut HashMap<(u32, u32, u32), Option<Rc<MacroDef>>>,
    chunk_defs: HashMap<(usize, u32, u32), Option<Rc<MacroDef>>>,
    bytes: usize,
    work: usize,
    /// A limit was reached: the whole call stays unexpanded.
    over: bool,
}

/// The body of a macro invocation given as tokens (`#[attr] path::m!(body);`).
fn call_body(tts: &[Tt]) -> Option<Rc<[Tt]>> {
    let mut i = skip_attrs(tts, 0);
    while let Some(Tt::Leaf(l)) = tts.get(i) {
        if l.kind == Kind::Punct && &*l.text == "!" {
            break;
        }
        i += 1;
    }
    i += 1;
    // `m! name { … }`
    if tts
        .get(i)
        .and_then(Tt::leaf)
        .is_some_and(|l| l.kind == Kind::Ident)
    {
        i += 1;
    }
    match tts.get(i) {
        Some(Tt::Group(g)) => Some(g.inner.clone()),
        _ => None,
    }
}

impl<'t> Session<'_, 't> {
    fn line_index(&mut self, file: u32) -> Option<&LineIndex> {
        if !self.lines.contains_key(&file) {
            let text = (self.text)(file)?;
            self.lines.insert(file, LineIndex::new(text));
        }
        self.lines.get(&file)
    }

    fn def(&mut self, key: DefKey) -> Option<Rc<MacroDef>> {
        match key {
            DefKey::File(file, s, e) => {
                if let Some(d) = self.file_defs.get(&(file, s, e)) {
                    return d.clone();
                }
                let def = (self.text)(file)
                    .and_then(|t| t.get(s as usize..e as usize))
                    .and_then(|text| lex(text, Place::File { file, base: s }))
                    .and_then(|t| parse_def(&t))
                    .map(Rc::new);
                self.file_defs.insert((file, s, e), def.clone());
                def
            }
            DefKey::Chunk(c, s, e) => {
                if let Some(d) = self.chunk_defs.get(&(c, s, e)) {
                    return d.clone();
                }
                let chunk = self.chunks.get(c)?;
                let def = chunk
                    .text
                    .get(s as usize..e as usize)
                    .and_then(|text| lex(text, Place::Chunk { chunk, base: s }))
                    .and_then(|t| parse_def(&t))
                    .map(Rc::new);
                self.chunk_defs.insert((c, s, e), def.clone());
                def
            }
        }
    }

    /// The tokens of the first rule that matches `body`, transcribed.
    fn apply(&mut self, def: &MacroDef, body: &[Tt]) -> Option<Vec<Tt>> {
        let mut budget = Budget(self.work);
        let mut result = None;
        for rule in &def.rules {
            let mut binds = Vec::new();
            match match_seq(&rule.matcher, 0, body, 0, true, &mut binds, &mut budget) {
                Err(()) => break,
                Ok(None) => continue,
                Ok(Some(_)) => {
                    let mut out = Vec::new();
                    result = transcribe(&rule.body, &binds, &mut Vec::new(), &mut out, &mut budget)
                        .map(|()| out);
                    break;
                }
            }
        }
        self.work = budget.0;
        if self.work > MAX_WORK {
            self.over = true;
            return None;
        }
        result
    }

    fn expand_outer(&mut self, call: &MacroCall) -> Option<Vec<RawItem>> {
        let file = self.call_file;
        let (s, e) = (call.span.start_byte, call.span.end_byte);
        let text = (self.text)(file)?.get(s as usize..e as usize)?;
        let tts = lex(text, Place::File { file, base: s })?;
        let body = call_body(&tts)?;
        let site = (self.resolve)(&call.path)?;
        let def = self.def(DefKey::File(
            site.file,
            site.span.start_byte,
            site.span.end_byte,
        ))?;
        let out = self.apply(&def, &body)?;
        let mut local = Vec::new();
        let items = self.items_of(&out, 1, &mut local);
        if self.over {
            return None;
        }
        items
    }

    /// The items of an expansion's tokens, its own item-level invocations expanded.
    /// `local` holds the macros defined by enclosing expansions so far (name, where).
    fn items_of(
        &mut self,
        tts: &[Tt],
        depth: usize,
        local: &mut Vec<(String, DefKey)>,
    ) -> Option<Vec<RawItem>> {
        if depth > self.limits.max_depth {
            self.over = true;
            return None;
        }
        let mut printer = Printer {
            text: self.text,
            out: String::new(),
            map: Vec::new(),
            prev: None,
            newline: false,
        };
        printer.print(tts);
        let (text, map) = (printer.out, printer.map);
        self.bytes += text.len();
        if self.bytes > self.limits.max_bytes || crate::nesting_estimate(&text) > crate::MAX_NESTING
        {
            self.over = true;
            return None;
        }
        let parsed = stacker::maybe_grow(256 << 10, 16 << 20, || {
            crate::with_parser_stack(&text, || crate::extract::extract(&text))
        });
        if !parsed.issues.is_empty() {
            return None;
        }
        let lines = LineIndex::new(&text);
        let ci = self.chunks.len();
        self.chunks.push(Chunk { text, map, lines });

        // Invocations in the expansion, expanded in turn (nothing of a failed one is lost:
        // it stays as the parser read it).
        let mut nested: Vec<(usize, Vec<RawItem>)> = Vec::new();
        let mut seen = 0usize;
        // The last call whose expansion replaces the items read from its body (`cfg_if!`
        // with the crate's own definition): what is written inside it is not looked at.
        let mut replaced: Option<&MacroCall> = None;
        for (k, call) in parsed.calls.iter().enumerate() {
            while seen < call.items.0 as usize {
                let it = &parsed.items[seen];
                let dropped = replaced.is_some_and(|r| seen < r.items.1 as usize);
                if !dropped && matches!(it.detail, Detail::MacroRules { .. }) {
                    local.push((
                        it.name.clone(),
                        DefKey::Chunk(ci, it.span.start_byte, it.span.end_byte),
                    ));
                }
                seen += 1;
            }
            if !call.expandable() || replaced.is_some_and(|r| r.encloses(call)) {
                continue;
            }
            let key = match call.path.as_slice() {
                [name] => local.iter().rev().find(|(n, _)| n == name).map(|(_, k)| *k),
                _ => None,
            };
            let key = match key {
                Some(k) => k,
                None => match (self.resolve)(&call.path) {
                    Some(site) => DefKey::File(site.file, site.span.start_byte, site.span.end_byte),
                    None => continue,
                },
            };
            let Some(def) = self.def(key) else { continue };
            let chunk = &self.chunks[ci];
            let (s, e) = (call.span.start_byte, call.span.end_byte);
            let Some(tts) = chunk
                .text
                .get(s as usize..e as usize)
                .and_then(|t| lex(t, Place::Chunk { chunk, base: s }))
            else {
                continue;
            };
            let Some(body) = call_body(&tts) else {
                continue;
            };
            let Some(out) = self.apply(&def, &body) else {
                continue;
            };
            if let Some(items) = self.items_of(&out, depth + 1, local) {
                nested.push((k, items));
                if call.replaces_items() {
                    replaced = Some(call);
                }
            }
        }

        let skip = replaced.map_or(0, |r| r.items.1 as usize);
        for (i, it) in parsed.items.iter().enumerate().skip(seen) {
            if i >= skip && matches!(it.detail, Detail::MacroRules { .. }) {
                local.push((
                    it.name.clone(),
                    DefKey::Chunk(ci, it.span.start_byte, it.span.end_byte),
                ));
            }
        }
        let mapped: Vec<RawItem> = parsed
            .items
            .into_iter()
            .map(|it| self.place(ci, it))
            .collect();
        Some(splice(mapped, &parsed.calls, nested))
    }

    /// Where the item of chunk `ci` with this synthetic span really is.
    fn locate(&mut self, ci: usize, start: u32, end: u32) -> Loc {
        let fallback = Loc {
            file: self.call_file,
            span: self.call_span,
            exact: false,
        };
        let map = &self.chunks[ci].map;
        let lo = map.partition_point(|e| e.0 < start);
        let hi = map.partition_point(|e| e.0 < end);
        let toks = &map[lo..hi.max(lo)];
        let Some(last) = toks.last() else {
            return fallback;
        };
        let file = last.2.file;
        if file == NO_FILE {
            return fallback;
        }
        // Attributes the macro put in front (`#[cfg(…)] $item`) are not the item's text.
        let own = toks
            .iter()
            .position(|e| e.2.file == file)
            .map_or(&toks[toks.len()..], |i| &toks[i..]);
        let mut prev_end = 0;
        for e in own {
            if e.2.file != file || e.2.start < prev_end {
                return fallback;
            }
            prev_end = e.2.end;
        }
        let (s, e) = (own[0].2.start, prev_end);
        let Some(lines) = self.line_index(file) else {
            return fallback;
        };
        let span = Span {
            start_byte: s,
            end_byte: e,
            start_line: lines.line_of(s),
            end_line: lines.line_of(e.saturating_sub(1).max(s)),
        };
        Loc {
            file,
            span,
            exact: true,
        }
    }

    /// Line `line` of chunk `ci` as a line of `loc`'s file: where its first token is, when
    /// that is inside the item's span, else the item's first line.
    fn line_in(&mut self, ci: usize, line: u32, loc: &Loc) -> u32 {
        let chunk = &self.chunks[ci];
        let start = chunk.lines.line_start(line).unwrap_or(u32::MAX);
        let end = chunk
            .lines
            .line_start(line + 1)
            .unwrap_or(chunk.text.len() as u32);
        let i = chunk.map.partition_point(|e| e.0 < start);
        let o = match chunk.map.get(i) {
            Some(e) if e.0 < end => e.2,
            _ => return loc.span.start_line,
        };
        if o.file == loc.file && loc.span.start_byte <= o.start && o.start < loc.span.end_byte {
            if let Some(lines) = self.line_index(o.file) {
                return lines.line_of(o.start);
            }
        }
        loc.span.start_line
    }

    /// The item read from chunk `ci`, placed in its real file.
    fn place(&mut self, ci: usize, mut it: RawItem) -> RawItem {
        let loc = self.locate(ci, it.span.start_byte, it.span.end_byte);
        it.decl_line = self.line_in(ci, it.decl_line, &loc);
        let mut refs = std::mem::take(&mut it.refs);
        for r in &mut refs {
            r.line = self.line_in(ci, r.line, &loc);
        }
        it.refs = refs;
        if let Detail::Use { entries } = &mut it.detail {
            let mut e = std::mem::take(entries);
            for x in &mut e {
                x.line = self.line_in(ci, x.line, &loc);
            }
            *entries = e;
        }
        if loc.exact {
            if let Some(t) = (self.text)(loc.file)
                .and_then(|t| t.get(loc.span.start_byte as usize..loc.span.end_byte as usize))
            {
                it.content_hash = ContentHash::of(t.as_bytes());
            }
        } else {
            // Same text, different arguments: the item's own tokens tell them apart.
            let chunk = &self.chunks[ci];
            if let Some(t) = chunk
                .text
                .get(it.span.start_byte as usize..it.span.end_byte as usize)
            {
                it.content_hash = ContentHash::of(t.as_bytes());
            }
        }
        it.span = loc.span;
        it.file = Some(loc.file);
        it
    }
}

/// `items` with the expansions of some of `calls` (by index) put where each call was: an
/// expansion's top-level items go under the call's parent, with the call's cfg; those of a
/// call that [replaces its items](MacroCall::replaces_items) in their place.
fn splice(
    items: Vec<RawItem>,
    calls: &[MacroCall],
    nested: Vec<(usize, Vec<RawItem>)>,
) -> Vec<RawItem> {
    if nested.is_empty() {
        return items;
    }
    let extra: usize = nested.iter().map(|(_, v)| v.len()).sum();
    let mut out: Vec<RawItem> = Vec::with_capacity(items.len() + extra);
    // New index of each old item.
    let mut new_idx: Vec<u32> = Vec::with_capacity(items.len());
    let mut pending = nested.into_iter().peekable();
    let mut items = items.into_iter().enumerate().peekable();
    loop {
        let next_item = items.peek().map(|(i, _)| *i);
        let next_call = pending.peek().map(|(k, _)| calls[*k].items.0 as usize);
        match (next_item, next_call) {
            (Some(i), Some(c)) if c <= i => {}
            (None, Some(_)) => {}
            (Some(_), _) => {
                let Some((_, mut it)) = items.next() else {
                    break;
                };
                it.parent = it.parent.map(|p| new_idx[p as usize]);
                new_idx.push(out.len() as u32);
                out.push(it);
                continue;
            }
            (None, None) => break,
        }
        let Some((k, expanded)) = pending.next() else {
            break;
        };
        let call = &calls[k];
        let base = out.len() as u32;
        let parent = call.parent.and_then(|p| new_idx.get(p as usize).copied());
        let mut expanded = expanded;
        call.adopt(&mut expanded, base, parent);
        out.extend(expanded);
        if call.replaces_items() {
            // Nothing outside a body has its parent inside it.
            while items.next_if(|(i, _)| *i < call.items.1 as usize).is_some() {
                new_idx.push(u32::MAX);
            }
        }
    }
    out
}
