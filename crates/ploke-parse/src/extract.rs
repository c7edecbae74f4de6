//! Walk a syn file and emit flat [`RawItem`]s.

use std::collections::HashSet;

use proc_macro2::Span as PmSpan;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;

use ploke_core::{ContentHash, ItemKind, Span, Visibility};

use crate::refs::RefCollector;
use crate::text::{bytes, squash, LineIndex};
use crate::{
    cfg_none_of, impl_name, CfgPath, Detail, MacroCall, ParseIssue, ParsedFile, RawItem, RawRef,
    UseEntry,
};

/// Item-level macro bodies re-parsed as items can nest; past this depth they are skipped.
const MAX_MACRO_NESTING: usize = 6;

pub(crate) fn extract(source: &str) -> ParsedFile {
    // syn strips a BOM and a shebang by slicing the text, which would shift byte offsets:
    // blank them out instead so offsets stay those of the file.
    let cleaned;
    let text = if needs_cleaning(source) {
        cleaned = clean_prefix(source);
        cleaned.as_str()
    } else {
        source
    };
    let mut cx = Cx {
        src: text,
        lines: LineIndex::new(text),
        items: Vec::new(),
        issues: Vec::new(),
        calls: Vec::new(),
        in_test: false,
    };
    match syn::parse_file(text) {
        Ok(file) => {
            let docs = inner_docs(&file.attrs);
            cx.items(&file.items, None, &[], &HashSet::new(), 0);
            ParsedFile {
                items: cx.items,
                issues: cx.issues,
                parsed: true,
                lines: 0,
                docs,
                calls: cx.calls,
                files: Vec::new(),
            }
        }
        Err(err) => {
            let line = err.span().start().line.max(1) as u32;
            // Recover what we can: lex the file, then read item by item, skipping what fails.
            match text.parse::<proc_macro2::TokenStream>() {
                Ok(tokens) => {
                    cx.issues.push(ParseIssue {
                        line,
                        message: format!("syntax error: {err}"),
                    });
                    let (attrs, items) = lenient_items(tokens);
                    let parsed = !items.is_empty();
                    cx.items(&items, None, &[], &HashSet::new(), 0);
                    ParsedFile {
                        items: cx.items,
                        issues: cx.issues,
                        parsed,
                        lines: 0,
                        docs: inner_docs(&attrs),
                        calls: cx.calls,
                        files: Vec::new(),
                    }
                }
                Err(_) => {
                    // syn's own message here ("cannot parse string into token stream") says
                    // nothing useful; the usual cause is an unclosed or mismatched delimiter.
                    cx.issues.push(ParseIssue {
                        line,
                        message: "syntax error: unbalanced delimiter or invalid token; the file cannot be tokenized".into(),
                    });
                    ParsedFile {
                        issues: cx.issues,
                        ..ParsedFile::default()
                    }
                }
            }
        }
    }
}

fn needs_cleaning(s: &str) -> bool {
    s.starts_with('\u{feff}') || (s.starts_with("#!") && !s[2..].trim_start().starts_with('['))
}

fn clean_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    if let Some(r) = rest.strip_prefix('\u{feff}') {
        out.push_str("   ");
        rest = r;
    }
    if rest.starts_with("#!") && !rest[2..].trim_start().starts_with('[') {
        let end = rest.find('\n').unwrap_or(rest.len());
        out.extend(std::iter::repeat_n(' ', rest[..end].len()));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The doc comments among inner attributes (`//! …`), one line each.
fn inner_docs(attrs: &[syn::Attribute]) -> String {
    let mut docs = String::new();
    for a in attrs {
        if matches!(a.style, syn::AttrStyle::Inner(_)) {
            push_doc(a, &mut docs);
        }
    }
    docs
}

/// Append the text of a `doc` attribute (`/// …`, `//! …`, `#[doc = "…"]`) as a new line.
fn push_doc(a: &syn::Attribute, docs: &mut String) {
    if let syn::Meta::NameValue(nv) = &a.meta {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
        {
            if !docs.is_empty() {
                docs.push('\n');
            }
            let v = s.value();
            docs.push_str(v.strip_prefix(' ').unwrap_or(&v));
        }
    }
}

/// Parse items one at a time; on an error skip to the next token that can start an item.
/// Returns the file's inner attributes too.
fn lenient_items(tokens: proc_macro2::TokenStream) -> (Vec<syn::Attribute>, Vec<syn::Item>) {
    use syn::parse::{ParseStream, Parser};
    let parser = |input: ParseStream| -> syn::Result<(Vec<syn::Attribute>, Vec<syn::Item>)> {
        let attrs = input.call(syn::Attribute::parse_inner).unwrap_or_default();
        let mut out = Vec::new();
        while !input.is_empty() {
            let fork = input.fork();
            match fork.parse::<syn::Item>() {
                Ok(item) => {
                    use syn::parse::discouraged::Speculative;
                    input.advance_to(&fork);
                    out.push(item);
                }
                Err(_) => {
                    // Skip at least one token tree, then up to the next plausible item start.
                    input.step(|c| match c.token_tree() {
                        Some((_, next)) => Ok(((), next)),
                        None => Err(c.error("end")),
                    })?;
                    while !input.is_empty() && !starts_item(input) {
                        input.step(|c| match c.token_tree() {
                            Some((_, next)) => Ok(((), next)),
                            None => Err(c.error("end")),
                        })?;
                    }
                }
            }
        }
        Ok((attrs, out))
    };
    parser.parse2(tokens).unwrap_or_default()
}

fn starts_item(input: syn::parse::ParseStream) -> bool {
    use syn::Token;
    input.peek(Token![#])
        || input.peek(Token![pub])
        || input.peek(Token![fn])
        || input.peek(Token![struct])
        || input.peek(Token![enum])
        || input.peek(Token![union])
        || input.peek(Token![impl])
        || input.peek(Token![trait])
        || input.peek(Token![mod])
        || input.peek(Token![use])
        || input.peek(Token![const])
        || input.peek(Token![static])
        || input.peek(Token![type])
        || input.peek(Token![extern])
        || input.peek(Token![unsafe])
        || input.peek(Token![async])
        || input
            .cursor()
            .ident()
            .is_some_and(|(i, _)| i == "macro_rules")
}

struct Cx<'a> {
    src: &'a str,
    lines: LineIndex,
    items: Vec<RawItem>,
    issues: Vec<ParseIssue>,
    calls: Vec<MacroCall>,
    /// Inside the body of an item-level macro invocation under `#[cfg(test)]` (or a `cfg_if!`
    /// branch whose cfg says test): every item read there is test code.
    in_test: bool,
}

/// What every item has in common, gathered before the kind-specific part.
struct Common {
    start: u32,
    end: u32,
    decl_start: u32,
    docs: String,
    attrs: Vec<String>,
    cfg: Vec<String>,
    test_marker: bool,
}

fn vis_of(v: &syn::Visibility) -> Visibility {
    match v {
        syn::Visibility::Public(_) => Visibility::Public,
        syn::Visibility::Inherited => Visibility::Private,
        syn::Visibility::Restricted(r) => {
            let p: Vec<String> = r
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let p = p.join("::");
            match (r.in_token.is_some(), p.as_str()) {
                (false, "crate") => Visibility::Crate,
                (false, "super") => Visibility::Super,
                (false, "self") => Visibility::Private,
                _ => Visibility::Restricted(p),
            }
        }
    }
}

fn vis_start(v: &syn::Visibility) -> Option<PmSpan> {
    match v {
        syn::Visibility::Public(p) => Some(p.span),
        syn::Visibility::Restricted(r) => Some(r.pub_token.span),
        syn::Visibility::Inherited => None,
    }
}

fn generic_names(g: &syn::Generics, into: &mut HashSet<String>) {
    for p in &g.params {
        match p {
            syn::GenericParam::Type(t) => {
                into.insert(t.ident.to_string());
            }
            syn::GenericParam::Const(c) => {
                into.insert(c.ident.to_string());
            }
            syn::GenericParam::Lifetime(_) => {}
        }
    }
}

fn path_segs(p: &syn::Path) -> Vec<String> {
    let mut v = Vec::new();
    if p.leading_colon.is_some() {
        v.push(String::new());
    }
    v.extend(p.segments.iter().map(|s| s.ident.to_string()));
    v
}

impl<'a> Cx<'a> {
    fn slice(&self, start: u32, end: u32) -> &'a str {
        let (s, e) = (start as usize, end as usize);
        if s <= e
            && e <= self.src.len()
            && self.src.is_char_boundary(s)
            && self.src.is_char_boundary(e)
        {
            &self.src[s..e]
        } else {
            ""
        }
    }

    fn span_text(&self, span: PmSpan) -> &'a str {
        let (s, e) = bytes(span);
        self.slice(s, e)
    }

    /// Attribute-derived data plus the item's byte range. `first` is the first token of the
    /// declaration after its attributes, `last` its final token.
    fn common(&self, attrs: &[syn::Attribute], first: PmSpan, last: PmSpan) -> Common {
        let (decl_start, _) = bytes(first);
        let (_, end) = bytes(last);
        let mut start = decl_start;
        let mut docs = String::new();
        let mut out_attrs = Vec::new();
        let mut cfg = Vec::new();
        let mut test_marker = false;
        for a in attrs {
            if matches!(a.style, syn::AttrStyle::Inner(_)) {
                // `mod m { //! docs … }`: the module's docs, written inside it. Other inner
                // attributes (`#![allow(…)]`) say nothing about the item itself.
                if a.path().is_ident("doc") {
                    push_doc(a, &mut docs);
                }
                continue;
            }
            let (s, _) = bytes(a.pound_token.span);
            start = start.min(s);
            if a.path().is_ident("doc") {
                push_doc(a, &mut docs);
                continue;
            }
            let text = squash(self.span_text(a.span()));
            if a.path().is_ident("cfg") {
                if let syn::Meta::List(l) = &a.meta {
                    let pred = tokens_text(&l.tokens);
                    if cfg_mentions_test(&l.tokens) {
                        test_marker = true;
                    }
                    cfg.push(pred);
                }
            } else if a
                .path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "test" || s.ident == "bench")
            {
                // #[test], #[tokio::test], #[bench]
                test_marker = true;
            }
            out_attrs.push(text);
        }
        Common {
            start,
            end: end.max(start),
            decl_start,
            docs,
            attrs: out_attrs,
            cfg,
            test_marker,
        }
    }

    fn span_of(&self, start: u32, end: u32) -> Span {
        let end_line = if end > start {
            self.lines.line_of(end - 1)
        } else {
            self.lines.line_of(start)
        };
        Span {
            start_byte: start,
            end_byte: end,
            start_line: self.lines.line_of(start),
            end_line,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: ItemKind,
        name: String,
        parent: Option<u32>,
        c: Common,
        sig_end: u32,
        visibility: Visibility,
        macro_cfg: &[String],
        detail: Detail,
        refs: Vec<RawRef>,
    ) -> u32 {
        let signature = squash(self.slice(c.decl_start, sig_end.max(c.decl_start).min(c.end)));
        let content_hash = ContentHash::of(self.slice(c.start, c.end).as_bytes());
        let mut cfg = c.cfg;
        cfg.extend(macro_cfg.iter().cloned());
        let idx = self.items.len() as u32;
        self.items.push(RawItem {
            kind,
            name,
            parent,
            span: self.span_of(c.start, c.end),
            visibility,
            docs: c.docs,
            attrs: c.attrs,
            cfg,
            signature,
            content_hash,
            test_marker: c.test_marker || self.in_test,
            decl_line: self.lines.line_of(c.decl_start),
            detail,
            refs,
            file: None,
        });
        idx
    }

    fn collect_refs(
        &self,
        generics: &HashSet<String>,
        f: impl FnOnce(&mut RefCollector),
    ) -> Vec<RawRef> {
        let mut rc = RefCollector::new(&self.lines, generics);
        f(&mut rc);
        rc.refs
    }

    fn items(
        &mut self,
        items: &[syn::Item],
        parent: Option<u32>,
        macro_cfg: &[String],
        outer_generics: &HashSet<String>,
        nesting: usize,
    ) {
        for item in items {
            self.item(item, parent, macro_cfg, outer_generics, nesting);
        }
    }

    fn item(
        &mut self,
        item: &syn::Item,
        parent: Option<u32>,
        macro_cfg: &[String],
        outer: &HashSet<String>,
        nesting: usize,
    ) {
        use syn::Item as I;
        match item {
            I::Const(c) => {
                let first = vis_start(&c.vis).unwrap_or(c.const_token.span);
                let com = self.common(&c.attrs, first, c.semi_token.span);
                let sig_end = bytes(c.eq_token.span).0;
                let refs = self.collect_refs(outer, |r| {
                    r.visit_type(&c.ty);
                    r.visit_expr(&c.expr);
                });
                self.push(
                    ItemKind::Const,
                    c.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&c.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
            }
            I::Static(s) => {
                let first = vis_start(&s.vis).unwrap_or(s.static_token.span);
                let com = self.common(&s.attrs, first, s.semi_token.span);
                let sig_end = bytes(s.eq_token.span).0;
                let refs = self.collect_refs(outer, |r| {
                    r.visit_type(&s.ty);
                    r.visit_expr(&s.expr);
                });
                self.push(
                    ItemKind::Static,
                    s.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&s.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
            }
            I::Fn(f) => {
                let first = vis_start(&f.vis).unwrap_or_else(|| sig_first(&f.sig));
                let com = self.common(&f.attrs, first, f.block.brace_token.span.close());
                let sig_end = bytes(f.block.brace_token.span.open()).0;
                let mut g = outer.clone();
                generic_names(&f.sig.generics, &mut g);
                let refs = self.collect_refs(&g, |r| {
                    r.visit_signature(&f.sig);
                    r.visit_block(&f.block);
                });
                let idx = self.push(
                    ItemKind::Fn,
                    f.sig.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&f.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
                self.body_modules(&f.block, idx, parent, nesting);
            }
            I::Struct(s) => {
                let first = vis_start(&s.vis).unwrap_or(s.struct_token.span);
                let last = match (&s.semi_token, &s.fields) {
                    (Some(semi), _) => semi.span,
                    (None, syn::Fields::Named(n)) => n.brace_token.span.close(),
                    (None, syn::Fields::Unnamed(u)) => u.paren_token.span.close(),
                    (None, syn::Fields::Unit) => s.ident.span(),
                };
                let com = self.common(&s.attrs, first, last);
                let sig_end = match &s.fields {
                    syn::Fields::Named(n) => bytes(n.brace_token.span.open()).0,
                    _ => com.end,
                };
                let mut g = outer.clone();
                generic_names(&s.generics, &mut g);
                let refs = self.collect_refs(&g, |r| {
                    r.visit_generics(&s.generics);
                    r.visit_fields(&s.fields);
                });
                let idx = self.push(
                    ItemKind::Struct,
                    s.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&s.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
                self.fields(&s.fields, idx, &g);
            }
            I::Union(u) => {
                let first = vis_start(&u.vis).unwrap_or(u.union_token.span);
                let com = self.common(&u.attrs, first, u.fields.brace_token.span.close());
                let sig_end = bytes(u.fields.brace_token.span.open()).0;
                let mut g = outer.clone();
                generic_names(&u.generics, &mut g);
                let refs = self.collect_refs(&g, |r| {
                    r.visit_generics(&u.generics);
                    r.visit_fields_named(&u.fields);
                });
                let idx = self.push(
                    ItemKind::Union,
                    u.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&u.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
                self.fields(&syn::Fields::Named(u.fields.clone()), idx, &g);
            }
            I::Enum(e) => {
                let first = vis_start(&e.vis).unwrap_or(e.enum_token.span);
                let com = self.common(&e.attrs, first, e.brace_token.span.close());
                let sig_end = bytes(e.brace_token.span.open()).0;
                let mut g = outer.clone();
                generic_names(&e.generics, &mut g);
                let refs = self.collect_refs(&g, |r| {
                    r.visit_generics(&e.generics);
                    for v in &e.variants {
                        r.visit_fields(&v.fields);
                        if let Some((_, d)) = &v.discriminant {
                            r.visit_expr(d);
                        }
                    }
                });
                let idx = self.push(
                    ItemKind::Enum,
                    e.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&e.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
                for v in &e.variants {
                    let last = match &v.discriminant {
                        Some((_, d)) => last_span_of_expr(d),
                        None => match &v.fields {
                            syn::Fields::Named(n) => n.brace_token.span.close(),
                            syn::Fields::Unnamed(u) => u.paren_token.span.close(),
                            syn::Fields::Unit => v.ident.span(),
                        },
                    };
                    let com = self.common(&v.attrs, v.ident.span(), last);
                    let end = com.end;
                    let vidx = self.push(
                        ItemKind::Variant,
                        v.ident.to_string(),
                        Some(idx),
                        com,
                        end,
                        Visibility::Private,
                        &[],
                        Detail::None,
                        Vec::new(),
                    );
                    self.fields(&v.fields, vidx, &g);
                }
            }
            I::Type(t) => {
                let first = vis_start(&t.vis).unwrap_or(t.type_token.span);
                let com = self.common(&t.attrs, first, t.semi_token.span);
                let sig_end = com.end;
                let mut g = outer.clone();
                generic_names(&t.generics, &mut g);
                let refs = self.collect_refs(&g, |r| {
                    r.visit_generics(&t.generics);
                    r.visit_type(&t.ty);
                });
                self.push(
                    ItemKind::TypeAlias,
                    t.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&t.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
            }
            I::Trait(t) => {
                let first = vis_start(&t.vis).unwrap_or_else(|| {
                    t.unsafety
                        .map(|u| u.span)
                        .or(t.auto_token.map(|a| a.span))
                        .unwrap_or(t.trait_token.span)
                });
                let com = self.common(&t.attrs, first, t.brace_token.span.close());
                let sig_end = bytes(t.brace_token.span.open()).0;
                let mut g = outer.clone();
                generic_names(&t.generics, &mut g);
                let refs = self.collect_refs(&g, |r| {
                    r.visit_generics(&t.generics);
                    for b in &t.supertraits {
                        r.visit_type_param_bound(b);
                    }
                });
                let idx = self.push(
                    ItemKind::Trait,
                    t.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&t.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
                self.trait_items(&t.items, idx, &[], &g, nesting);
            }
            I::TraitAlias(t) => {
                let first = vis_start(&t.vis).unwrap_or(t.trait_token.span);
                let com = self.common(&t.attrs, first, t.semi_token.span);
                let end = com.end;
                self.push(
                    ItemKind::TraitAlias,
                    t.ident.to_string(),
                    parent,
                    com,
                    end,
                    vis_of(&t.vis),
                    macro_cfg,
                    Detail::None,
                    Vec::new(),
                );
            }
            I::Impl(i) => self.impl_block(i, parent, macro_cfg, outer, nesting),
            I::Mod(m) => {
                let first = vis_start(&m.vis)
                    .unwrap_or_else(|| m.unsafety.map(|u| u.span).unwrap_or(m.mod_token.span));
                let last = match (&m.content, &m.semi) {
                    (Some((brace, _)), _) => brace.span.close(),
                    (None, Some(semi)) => semi.span,
                    (None, None) => m.ident.span(),
                };
                let name = m.ident.to_string();
                let common = |cx: &Self| {
                    let mut com = cx.common(&m.attrs, first, last);
                    if name == "tests" || name == "test" {
                        com.test_marker = true;
                    }
                    com
                };
                let mut com = common(self);
                let path_attr = m
                    .attrs
                    .iter()
                    .find(|a| a.path().is_ident("path"))
                    .and_then(|a| match &a.meta {
                        syn::Meta::NameValue(nv) => path_value(nv),
                        _ => None,
                    });
                let sig_end = match &m.content {
                    Some((brace, _)) => bytes(brace.span.open()).0,
                    None => com.end,
                };
                let alternatives = match &m.content {
                    None => cfg_attr_paths(&m.attrs),
                    Some(_) => Vec::new(),
                };
                let preds: Vec<String> = alternatives.iter().map(|a| a.pred.clone()).collect();
                let cfg_path = match cfg_none_of(&preds) {
                    None => CfgPath::None,
                    Some(none) => {
                        com.cfg.push(none);
                        CfgPath::Default { preds }
                    }
                };
                let detail = Detail::Module {
                    inline: m.content.is_some(),
                    path_attr,
                    cfg_path,
                };
                let idx = self.push(
                    ItemKind::Module,
                    name.clone(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&m.vis),
                    macro_cfg,
                    detail,
                    Vec::new(),
                );
                if let Some((_, content)) = &m.content {
                    self.items(content, Some(idx), &[], &HashSet::new(), nesting);
                }
                // The twins `#[cfg_attr(PRED, path = "…")]` makes: one module per file.
                for alt in alternatives {
                    let mut com = common(self);
                    com.cfg.push(alt.pred.clone());
                    com.test_marker |= alt.test;
                    let detail = Detail::Module {
                        inline: false,
                        path_attr: Some(alt.path),
                        cfg_path: CfgPath::Alternative { pred: alt.pred },
                    };
                    self.push(
                        ItemKind::Module,
                        name.clone(),
                        parent,
                        com,
                        sig_end,
                        vis_of(&m.vis),
                        macro_cfg,
                        detail,
                        Vec::new(),
                    );
                }
            }
            I::Use(u) => {
                let first = vis_start(&u.vis).unwrap_or(u.use_token.span);
                let com = self.common(&u.attrs, first, u.semi_token.span);
                let mut entries = Vec::new();
                let mut prefix = Vec::new();
                if u.leading_colon.is_some() {
                    prefix.push(String::new());
                }
                self.use_tree(&u.tree, &mut prefix, &mut entries);
                let mut name = if u.leading_colon.is_some() {
                    "::".to_string()
                } else {
                    String::new()
                };
                use_tree_text(&u.tree, &mut name);
                let end = com.end;
                self.push(
                    ItemKind::Use,
                    name,
                    parent,
                    com,
                    end,
                    vis_of(&u.vis),
                    macro_cfg,
                    Detail::Use { entries },
                    Vec::new(),
                );
            }
            I::ExternCrate(e) => {
                let first = vis_start(&e.vis).unwrap_or(e.extern_token.span);
                let com = self.common(&e.attrs, first, e.semi_token.span);
                let crate_name = e.ident.to_string();
                let name = e
                    .rename
                    .as_ref()
                    .map(|(_, i)| i.to_string())
                    .unwrap_or_else(|| crate_name.clone());
                let end = com.end;
                self.push(
                    ItemKind::ExternCrate,
                    name,
                    parent,
                    com,
                    end,
                    vis_of(&e.vis),
                    macro_cfg,
                    Detail::ExternCrate { crate_name },
                    Vec::new(),
                );
            }
            I::ForeignMod(f) => {
                let first = f
                    .unsafety
                    .map(|u| u.span)
                    .unwrap_or(f.abi.extern_token.span);
                let com = self.common(&f.attrs, first, f.brace_token.span.close());
                let name = match &f.abi.name {
                    Some(n) => format!("extern \"{}\"", n.value()),
                    None => "extern".to_string(),
                };
                let sig_end = bytes(f.brace_token.span.open()).0;
                let idx = self.push(
                    ItemKind::ExternBlock,
                    name,
                    parent,
                    com,
                    sig_end,
                    Visibility::Private,
                    macro_cfg,
                    Detail::None,
                    Vec::new(),
                );
                self.foreign_items(&f.items, idx, &[], outer, nesting);
            }
            I::Macro(m) => self.item_macro(m, parent, macro_cfg, outer, nesting),
            // `fn f() -> T;` (an externally implemented fn), which syn leaves as tokens.
            I::Verbatim(tokens) => {
                let Ok(f) = syn::parse2::<syn::ForeignItemFn>(tokens.clone()) else {
                    return;
                };
                let first = vis_start(&f.vis).unwrap_or_else(|| sig_first(&f.sig));
                let com = self.common(&f.attrs, first, f.semi_token.span);
                let end = com.end;
                let mut g = outer.clone();
                generic_names(&f.sig.generics, &mut g);
                let refs = self.collect_refs(&g, |r| r.visit_signature(&f.sig));
                self.push(
                    ItemKind::Fn,
                    f.sig.ident.to_string(),
                    parent,
                    com,
                    end,
                    vis_of(&f.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
            }
            _ => {}
        }
    }

    /// `mod x;` written in the body of fn `f` (getrandom's `#[path = "../utils/lazy.rs"] mod
    /// lazy;`): read as a module of `module`, the module the fn is in, under the cfgs of the fn
    /// and of what holds it there, so that its file is part of the tree. (Rust scopes it to the
    /// body; other items of bodies are not indexed.)
    fn body_modules(&mut self, block: &syn::Block, f: u32, module: Option<u32>, nesting: usize) {
        struct Decls<'b>(Vec<&'b syn::ItemMod>);
        impl<'b> Visit<'b> for Decls<'b> {
            fn visit_item_mod(&mut self, m: &'b syn::ItemMod) {
                if m.content.is_none() {
                    self.0.push(m);
                }
            }
        }
        let mut decls = Decls(Vec::new());
        decls.visit_block(block);
        if decls.0.is_empty() {
            return;
        }
        // The cfgs between the fn and the module: its own, an impl's.
        let (mut cfg, mut test) = (Vec::new(), false);
        let mut cur = Some(f);
        while let Some(i) = cur.filter(|&i| Some(i) != module) {
            let it = &self.items[i as usize];
            cfg.extend(it.cfg.iter().cloned());
            test |= it.test_marker;
            cur = it.parent;
        }
        let was_test = self.in_test;
        self.in_test |= test;
        for m in decls.0 {
            self.item(
                &syn::Item::Mod(m.clone()),
                module,
                &cfg,
                &HashSet::new(),
                nesting,
            );
        }
        self.in_test = was_test;
    }

    fn fields(&mut self, fields: &syn::Fields, parent: u32, generics: &HashSet<String>) {
        for (i, f) in fields.iter().enumerate() {
            let name = f
                .ident
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_else(|| i.to_string());
            let first = vis_start(&f.vis).unwrap_or_else(|| {
                f.ident
                    .as_ref()
                    .map(|i| i.span())
                    .unwrap_or_else(|| first_span_of_type(&f.ty))
            });
            let last = last_span_of_type(&f.ty);
            let com = self.common(&f.attrs, first, last);
            let end = com.end;
            let refs = self.collect_refs(generics, |r| r.visit_type(&f.ty));
            self.push(
                ItemKind::Field,
                name,
                Some(parent),
                com,
                end,
                vis_of(&f.vis),
                &[],
                Detail::None,
                refs,
            );
        }
    }

    fn impl_block(
        &mut self,
        i: &syn::ItemImpl,
        parent: Option<u32>,
        macro_cfg: &[String],
        outer: &HashSet<String>,
        nesting: usize,
    ) {
        let first = i
            .defaultness
            .map(|d| d.span)
            .or(i.unsafety.map(|u| u.span))
            .unwrap_or(i.impl_token.span);
        let com = self.common(&i.attrs, first, i.brace_token.span.close());
        let sig_end = bytes(i.brace_token.span.open()).0;
        let mut g = outer.clone();
        generic_names(&i.generics, &mut g);
        let (self_path, self_name) = type_head(&i.self_ty, |s| squash(self.span_text(s)));
        let self_name = if self_name.is_empty() {
            squash(self.span_text(i.self_ty.span()))
        } else {
            self_name
        };
        let (trait_path, trait_name, negative) = match &i.trait_ {
            Some((bang, p, _)) => (
                Some(path_segs(p)),
                p.segments.last().map(|s| s.ident.to_string()),
                bang.is_some(),
            ),
            None => (None, None, false),
        };
        let name = impl_name(&self_name, trait_name.as_deref(), negative);
        let refs = self.collect_refs(&g, |r| {
            r.visit_generics(&i.generics);
            r.visit_type(&i.self_ty);
            if let Some((_, p, _)) = &i.trait_ {
                r.visit_path(p);
            }
        });
        let detail = Detail::Impl {
            self_path,
            self_name,
            trait_path,
            trait_name,
            negative,
        };
        let idx = self.push(
            ItemKind::Impl,
            name,
            parent,
            com,
            sig_end,
            Visibility::Private,
            macro_cfg,
            detail,
            refs,
        );
        self.impl_items(&i.items, idx, &[], &g, nesting);
    }

    fn impl_items(
        &mut self,
        items: &[syn::ImplItem],
        parent: u32,
        macro_cfg: &[String],
        g: &HashSet<String>,
        nesting: usize,
    ) {
        for it in items {
            match it {
                syn::ImplItem::Fn(f) => {
                    let first = vis_start(&f.vis).unwrap_or_else(|| {
                        f.defaultness
                            .map(|d| d.span)
                            .unwrap_or_else(|| sig_first(&f.sig))
                    });
                    let com = self.common(&f.attrs, first, f.block.brace_token.span.close());
                    let sig_end = bytes(f.block.brace_token.span.open()).0;
                    let mut g2 = g.clone();
                    generic_names(&f.sig.generics, &mut g2);
                    let refs = self.collect_refs(&g2, |r| {
                        r.visit_signature(&f.sig);
                        r.visit_block(&f.block);
                    });
                    let idx = self.push(
                        ItemKind::Method,
                        f.sig.ident.to_string(),
                        Some(parent),
                        com,
                        sig_end,
                        vis_of(&f.vis),
                        macro_cfg,
                        Detail::None,
                        refs,
                    );
                    let module = self.items[parent as usize].parent;
                    self.body_modules(&f.block, idx, module, nesting);
                }
                syn::ImplItem::Const(c) => {
                    let first = vis_start(&c.vis).unwrap_or(c.const_token.span);
                    let com = self.common(&c.attrs, first, c.semi_token.span);
                    let sig_end = bytes(c.eq_token.span).0;
                    let refs = self.collect_refs(g, |r| {
                        r.visit_type(&c.ty);
                        r.visit_expr(&c.expr);
                    });
                    self.push(
                        ItemKind::AssocConst,
                        c.ident.to_string(),
                        Some(parent),
                        com,
                        sig_end,
                        vis_of(&c.vis),
                        macro_cfg,
                        Detail::None,
                        refs,
                    );
                }
                syn::ImplItem::Type(t) => {
                    let first = vis_start(&t.vis).unwrap_or(t.type_token.span);
                    let com = self.common(&t.attrs, first, t.semi_token.span);
                    let end = com.end;
                    let refs = self.collect_refs(g, |r| r.visit_type(&t.ty));
                    self.push(
                        ItemKind::AssocType,
                        t.ident.to_string(),
                        Some(parent),
                        com,
                        end,
                        vis_of(&t.vis),
                        macro_cfg,
                        Detail::None,
                        refs,
                    );
                }
                syn::ImplItem::Macro(m) if nesting < MAX_MACRO_NESTING => {
                    self.member_macro::<syn::ImplItem>(
                        &m.mac,
                        &m.attrs,
                        macro_cfg,
                        |cx, items, cfg| cx.impl_items(items, parent, cfg, g, nesting + 1),
                    );
                }
                _ => {}
            }
        }
    }

    fn trait_items(
        &mut self,
        items: &[syn::TraitItem],
        parent: u32,
        macro_cfg: &[String],
        g: &HashSet<String>,
        nesting: usize,
    ) {
        for it in items {
            match it {
                syn::TraitItem::Fn(f) => {
                    let last = match (&f.default, &f.semi_token) {
                        (Some(b), _) => b.brace_token.span.close(),
                        (None, Some(s)) => s.span,
                        (None, None) => f.sig.ident.span(),
                    };
                    let com = self.common(&f.attrs, sig_first(&f.sig), last);
                    let sig_end = match &f.default {
                        Some(b) => bytes(b.brace_token.span.open()).0,
                        None => com.end,
                    };
                    let mut g2 = g.clone();
                    generic_names(&f.sig.generics, &mut g2);
                    let refs = self.collect_refs(&g2, |r| {
                        r.visit_signature(&f.sig);
                        if let Some(b) = &f.default {
                            r.visit_block(b);
                        }
                    });
                    self.push(
                        ItemKind::Method,
                        f.sig.ident.to_string(),
                        Some(parent),
                        com,
                        sig_end,
                        Visibility::Private,
                        macro_cfg,
                        Detail::None,
                        refs,
                    );
                }
                syn::TraitItem::Const(c) => {
                    let com = self.common(&c.attrs, c.const_token.span, c.semi_token.span);
                    let sig_end = c
                        .default
                        .as_ref()
                        .map(|(eq, _)| bytes(eq.span).0)
                        .unwrap_or(com.end);
                    let refs = self.collect_refs(g, |r| {
                        r.visit_type(&c.ty);
                        if let Some((_, e)) = &c.default {
                            r.visit_expr(e);
                        }
                    });
                    self.push(
                        ItemKind::AssocConst,
                        c.ident.to_string(),
                        Some(parent),
                        com,
                        sig_end,
                        Visibility::Private,
                        macro_cfg,
                        Detail::None,
                        refs,
                    );
                }
                syn::TraitItem::Type(t) => {
                    let com = self.common(&t.attrs, t.type_token.span, t.semi_token.span);
                    let end = com.end;
                    let refs = self.collect_refs(g, |r| {
                        for b in &t.bounds {
                            r.visit_type_param_bound(b);
                        }
                        if let Some((_, ty)) = &t.default {
                            r.visit_type(ty);
                        }
                    });
                    self.push(
                        ItemKind::AssocType,
                        t.ident.to_string(),
                        Some(parent),
                        com,
                        end,
                        Visibility::Private,
                        macro_cfg,
                        Detail::None,
                        refs,
                    );
                }
                syn::TraitItem::Macro(m) if nesting < MAX_MACRO_NESTING => {
                    self.member_macro::<syn::TraitItem>(
                        &m.mac,
                        &m.attrs,
                        macro_cfg,
                        |cx, items, cfg| cx.trait_items(items, parent, cfg, g, nesting + 1),
                    );
                }
                _ => {}
            }
        }
    }

    fn foreign_items(
        &mut self,
        items: &[syn::ForeignItem],
        parent: u32,
        macro_cfg: &[String],
        g: &HashSet<String>,
        nesting: usize,
    ) {
        for fi in items {
            match fi {
                syn::ForeignItem::Macro(m) if nesting < MAX_MACRO_NESTING => {
                    self.member_macro::<syn::ForeignItem>(
                        &m.mac,
                        &m.attrs,
                        macro_cfg,
                        |cx, items, cfg| cx.foreign_items(items, parent, cfg, g, nesting + 1),
                    );
                }
                // `safe fn f();` (Rust 2024's `unsafe extern` blocks), which syn leaves as tokens.
                syn::ForeignItem::Verbatim(tokens) => {
                    if let Ok(fi) =
                        syn::parse::Parser::parse2(parse_qualified_foreign, tokens.clone())
                    {
                        self.foreign_item(&fi, parent, macro_cfg, g);
                    }
                }
                fi => self.foreign_item(fi, parent, macro_cfg, g),
            }
        }
    }

    /// The members written in a macro invocation inside an impl, a trait or an extern block:
    /// the branches of `cfg_if!` each under its cfg, or a body of members (with the macro's
    /// name as a cfg); `read` takes them with their cfg.
    fn member_macro<T: syn::parse::Parse>(
        &mut self,
        mac: &syn::Macro,
        attrs: &[syn::Attribute],
        macro_cfg: &[String],
        mut read: impl FnMut(&mut Self, &[T], &[String]),
    ) {
        let (mut cfg, test) = own_cfg(attrs);
        cfg.extend(macro_cfg.iter().cloned());
        let was_test = self.in_test;
        self.in_test |= test;
        if let Some(branches) = cfg_if_branches::<T>(mac) {
            for b in branches {
                let mut cfg = cfg.clone();
                cfg.push(b.cfg);
                let t = self.in_test;
                self.in_test |= b.test;
                read(self, &b.items, &cfg);
                self.in_test = t;
            }
        } else if let Ok(inner) = mac.parse_body_with(parse_many::<T>) {
            cfg.push(macro_label(mac));
            read(self, &inner, &cfg);
        }
        self.in_test = was_test;
    }

    fn foreign_item(
        &mut self,
        fi: &syn::ForeignItem,
        parent: u32,
        macro_cfg: &[String],
        g: &HashSet<String>,
    ) {
        match fi {
            syn::ForeignItem::Fn(f) => {
                let first = vis_start(&f.vis).unwrap_or_else(|| sig_first(&f.sig));
                let com = self.common(&f.attrs, first, f.semi_token.span);
                let end = com.end;
                let refs = self.collect_refs(g, |r| r.visit_signature(&f.sig));
                self.push(
                    ItemKind::ForeignFn,
                    f.sig.ident.to_string(),
                    Some(parent),
                    com,
                    end,
                    vis_of(&f.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
            }
            syn::ForeignItem::Static(s) => {
                let first = vis_start(&s.vis).unwrap_or(s.static_token.span);
                let com = self.common(&s.attrs, first, s.semi_token.span);
                let end = com.end;
                let refs = self.collect_refs(g, |r| r.visit_type(&s.ty));
                self.push(
                    ItemKind::ForeignStatic,
                    s.ident.to_string(),
                    Some(parent),
                    com,
                    end,
                    vis_of(&s.vis),
                    macro_cfg,
                    Detail::None,
                    refs,
                );
            }
            syn::ForeignItem::Type(t) => {
                let first = vis_start(&t.vis).unwrap_or(t.type_token.span);
                let com = self.common(&t.attrs, first, t.semi_token.span);
                let end = com.end;
                self.push(
                    ItemKind::ForeignType,
                    t.ident.to_string(),
                    Some(parent),
                    com,
                    end,
                    vis_of(&t.vis),
                    macro_cfg,
                    Detail::None,
                    Vec::new(),
                );
            }
            _ => {}
        }
    }

    fn item_macro(
        &mut self,
        m: &syn::ItemMacro,
        parent: Option<u32>,
        macro_cfg: &[String],
        outer: &HashSet<String>,
        nesting: usize,
    ) {
        let is_rules = m.mac.path.is_ident("macro_rules");
        if is_rules {
            let Some(ident) = &m.ident else { return };
            let last = m
                .semi_token
                .map(|s| s.span)
                .unwrap_or_else(|| m.mac.delimiter.span().close());
            let com = self.common(&m.attrs, first_path_span(&m.mac.path), last);
            let exported = m.attrs.iter().any(|a| a.path().is_ident("macro_export"));
            let sig_end = bytes(m.mac.delimiter.span().open()).0;
            self.push(
                ItemKind::Macro,
                ident.to_string(),
                parent,
                com,
                sig_end,
                if exported {
                    Visibility::Public
                } else {
                    Visibility::Private
                },
                macro_cfg,
                Detail::MacroRules { exported },
                Vec::new(),
            );
            return;
        }
        // Recorded for whoever can expand it; the items of its body (if it holds items) are
        // read here, between `items.0` and `items.1`.
        let call = self.calls.len();
        let last = m
            .semi_token
            .map(|s| s.span)
            .unwrap_or_else(|| m.mac.delimiter.span().close());
        let com = self.common(&m.attrs, first_path_span(&m.mac.path), last);
        let start = self.items.len() as u32;
        // What the invocation is under, which everything it stands for is under too.
        let mut cfg = com.cfg;
        cfg.extend(macro_cfg.iter().cloned());
        self.calls.push(MacroCall {
            path: path_segs(&m.mac.path),
            parent,
            span: self.span_of(com.start, com.end),
            items: (start, start),
            cfg: cfg.clone(),
            test_marker: com.test_marker,
            content_hash: ContentHash::of(self.slice(com.start, com.end).as_bytes()),
            branches: false,
        });
        let was_test = self.in_test;
        self.in_test |= com.test_marker;
        let branches = self.macro_body(m, parent, &cfg, outer, nesting);
        self.in_test = was_test;
        let c = &mut self.calls[call];
        c.items.1 = self.items.len() as u32;
        c.branches = branches;
    }

    /// The items (or thread-local statics) written in an item-level macro's body, under
    /// `macro_cfg` (the invocation's own cfg included). True when the body was read as the
    /// branches of `cfg_if!`.
    fn macro_body(
        &mut self,
        m: &syn::ItemMacro,
        parent: Option<u32>,
        macro_cfg: &[String],
        outer: &HashSet<String>,
        nesting: usize,
    ) -> bool {
        if nesting >= MAX_MACRO_NESTING {
            return false;
        }
        // `cfg_if! { if #[cfg(unix)] { mod unix; } else { mod other; } }`: each branch's items
        // under the cfg the macro gives them.
        if let Some(branches) = cfg_if_branches::<syn::Item>(&m.mac) {
            for b in branches {
                let mut cfg = macro_cfg.to_vec();
                cfg.push(b.cfg);
                let was_test = self.in_test;
                self.in_test |= b.test;
                self.items(&b.items, parent, &cfg, outer, nesting + 1);
                self.in_test = was_test;
            }
            return true;
        }
        // `cfg_rt! { pub mod runtime; … }`: the body is often plain items, sometimes led by
        // inner attributes (`cfg_feature! { #![feature = "client"] pub mod client; }`).
        if let Ok((inner_attrs, inner)) = m.mac.parse_body_with(parse_items_with_inner_attrs) {
            if !inner.is_empty() {
                let mut cfg = macro_cfg.to_vec();
                cfg.push(macro_label(&m.mac));
                for a in &inner_attrs {
                    cfg.push(tokens_text(&a.meta.to_token_stream()));
                }
                self.items(&inner, parent, &cfg, outer, nesting + 1);
            }
            return false;
        }
        // `thread_local! { static NAME: T = expr; }` (and wrappers such as
        // `tokio_thread_local!`): not items, but each declaration is a static of the module.
        if let Ok(decls) = m.mac.parse_body_with(parse_thread_locals) {
            for d in decls {
                let first = vis_start(&d.vis).unwrap_or(d.static_token.span);
                let last = d
                    .semi
                    .map(|s| s.span)
                    .unwrap_or_else(|| last_span_of_expr(&d.init));
                let com = self.common(&d.attrs, first, last);
                let sig_end = bytes(d.eq_token.span).0;
                let refs = self.collect_refs(outer, |r| {
                    r.visit_type(&d.ty);
                    r.visit_expr(&d.init);
                });
                let mut cfg = macro_cfg.to_vec();
                cfg.push(macro_label(&m.mac));
                self.push(
                    ItemKind::Static,
                    d.ident.to_string(),
                    parent,
                    com,
                    sig_end,
                    vis_of(&d.vis),
                    &cfg,
                    Detail::None,
                    refs,
                );
            }
        }
        false
    }

    fn use_tree(&self, tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseEntry>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                out.push(UseEntry {
                    path,
                    alias: None,
                    glob: false,
                    line: self.lines.line_of(bytes(n.ident.span()).0),
                });
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                path.push(r.ident.to_string());
                out.push(UseEntry {
                    path,
                    alias: Some(r.rename.to_string()),
                    glob: false,
                    line: self.lines.line_of(bytes(r.ident.span()).0),
                });
            }
            syn::UseTree::Glob(g) => {
                out.push(UseEntry {
                    path: prefix.clone(),
                    alias: None,
                    glob: true,
                    line: self.lines.line_of(bytes(g.star_token.span).0),
                });
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix, out);
                }
            }
        }
    }
}

/// A use tree as rustfmt writes it: `a::b::{self, c as d, e::*}`.
fn use_tree_text(tree: &syn::UseTree, out: &mut String) {
    match tree {
        syn::UseTree::Path(p) => {
            out.push_str(&p.ident.to_string());
            out.push_str("::");
            use_tree_text(&p.tree, out);
        }
        syn::UseTree::Name(n) => out.push_str(&n.ident.to_string()),
        syn::UseTree::Rename(r) => {
            out.push_str(&r.ident.to_string());
            out.push_str(" as ");
            out.push_str(&r.rename.to_string());
        }
        syn::UseTree::Glob(_) => out.push('*'),
        syn::UseTree::Group(g) => {
            out.push('{');
            for (i, t) in g.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                use_tree_text(t, out);
            }
            out.push('}');
        }
    }
}

/// Attribute tokens (a `cfg` predicate) in one canonical spacing, whatever the source's:
/// `all(unix, not(target_os = "linux"))`. Twins' ids are keyed on this text.
pub(crate) fn tokens_text(tokens: &proc_macro2::TokenStream) -> String {
    fn walk(tokens: proc_macro2::TokenStream, out: &mut String) {
        use proc_macro2::{Delimiter, TokenTree};
        for tt in tokens {
            match tt {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::None => ("", ""),
                    };
                    out.push_str(open);
                    walk(g.stream(), out);
                    let trimmed = out.trim_end().trim_end_matches(',').len();
                    out.truncate(trimmed);
                    out.push_str(close);
                }
                TokenTree::Ident(_) | TokenTree::Literal(_) => {
                    if out.ends_with(|c: char| {
                        c.is_alphanumeric() || c == '_' || c == '"' || c == ')'
                    }) {
                        out.push(' ');
                    }
                    out.push_str(&tt.to_string());
                }
                TokenTree::Punct(p) => match p.as_char() {
                    ',' => out.push_str(", "),
                    '=' if p.spacing() == proc_macro2::Spacing::Alone => out.push_str(" = "),
                    c => out.push(c),
                },
            }
        }
    }
    let mut out = String::new();
    walk(tokens.clone(), &mut out);
    out.trim().to_string()
}

fn macro_label(m: &syn::Macro) -> String {
    let segs: Vec<String> = m
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    format!("{}!", segs.join("::"))
}

fn parse_many<T: syn::parse::Parse>(input: syn::parse::ParseStream) -> syn::Result<Vec<T>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(input.parse()?);
    }
    Ok(out)
}

/// One declaration inside `thread_local! { … }`.
struct ThreadLocal {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    static_token: syn::Token![static],
    ident: syn::Ident,
    ty: syn::Type,
    eq_token: syn::Token![=],
    /// The initialiser; `const { … }` initialisers are read as their block.
    init: syn::Expr,
    semi: Option<syn::Token![;]>,
}

fn parse_thread_locals(input: syn::parse::ParseStream) -> syn::Result<Vec<ThreadLocal>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        let static_token = input.parse()?;
        let ident = input.parse()?;
        input.parse::<syn::Token![:]>()?;
        let ty = input.parse()?;
        let eq_token = input.parse()?;
        let init: syn::Expr = if input.peek(syn::Token![const]) && input.peek2(syn::token::Brace) {
            input.parse::<syn::Token![const]>()?;
            syn::Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block: input.parse()?,
            })
        } else {
            input.parse()?
        };
        let semi = input.parse()?;
        out.push(ThreadLocal {
            attrs,
            vis,
            static_token,
            ident,
            ty,
            eq_token,
            init,
            semi,
        });
    }
    Ok(out)
}

fn parse_items_with_inner_attrs(
    input: syn::parse::ParseStream,
) -> syn::Result<(Vec<syn::Attribute>, Vec<syn::Item>)> {
    let attrs = input.call(syn::Attribute::parse_inner)?;
    Ok((attrs, parse_many::<syn::Item>(input)?))
}

/// The `cfg` predicates among attributes (as [`Cx::common`] reads them), and whether one
/// says test.
fn own_cfg(attrs: &[syn::Attribute]) -> (Vec<String>, bool) {
    let mut cfg = Vec::new();
    let mut test = false;
    for a in attrs {
        if let (syn::AttrStyle::Outer, syn::Meta::List(l)) = (&a.style, &a.meta) {
            if l.path.is_ident("cfg") {
                test |= cfg_mentions_test(&l.tokens);
                cfg.push(tokens_text(&l.tokens));
            }
        }
    }
    (cfg, test)
}

/// A foreign item led by `safe` or `unsafe` (`pub safe fn f() -> u64;`, `safe static X: u8;`),
/// as syn leaves it: the item without the qualifier.
fn parse_qualified_foreign(input: syn::parse::ParseStream) -> syn::Result<syn::ForeignItem> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    let vis: syn::Visibility = input.parse()?;
    if input.cursor().ident().is_some_and(|(i, _)| i == "safe") {
        input.parse::<syn::Ident>()?;
    } else {
        input.parse::<syn::Token![unsafe]>()?;
    }
    let mut item: syn::ForeignItem = input.parse()?;
    match &mut item {
        syn::ForeignItem::Fn(f) => (f.attrs, f.vis) = (attrs, vis),
        syn::ForeignItem::Static(st) => (st.attrs, st.vis) = (attrs, vis),
        _ => return Err(input.error("expected a fn or a static")),
    }
    Ok(item)
}

/// Whether a macro path names `cfg_if` (`cfg_if`, `cfg_if::cfg_if`, `$crate::cfg_if`).
fn is_cfg_if(path: &syn::Path) -> bool {
    path.segments.last().is_some_and(|s| s.ident == "cfg_if")
}

/// One branch of `cfg_if!` as written: its `#[cfg(…)]` predicate (`None` for the final
/// `else`) and the tokens between its braces.
struct CfgIfBranch {
    pred: Option<proc_macro2::TokenStream>,
    body: proc_macro2::TokenStream,
}

/// The body of a `cfg_if!` invocation as the `cfg-if` crate's macro takes it (1.0 and 0.1):
/// `if #[cfg(P1)] { … } else if #[cfg(P2)] { … } … else { … }`, any number of `else if`, the
/// `else` optional.
fn parse_cfg_if(input: syn::parse::ParseStream) -> syn::Result<Vec<CfgIfBranch>> {
    use syn::Token;
    let mut out = Vec::new();
    loop {
        input.parse::<Token![if]>()?;
        input.parse::<Token![#]>()?;
        let attr;
        syn::bracketed!(attr in input);
        let name: syn::Ident = attr.parse()?;
        if name != "cfg" {
            return Err(syn::Error::new(name.span(), "expected `cfg`"));
        }
        let pred;
        syn::parenthesized!(pred in attr);
        let pred: proc_macro2::TokenStream = pred.parse()?;
        if pred.is_empty() || !attr.is_empty() {
            return Err(attr.error("expected `#[cfg(predicate)]`"));
        }
        let body;
        syn::braced!(body in input);
        out.push(CfgIfBranch {
            pred: Some(pred),
            body: body.parse()?,
        });
        if input.is_empty() {
            return Ok(out);
        }
        input.parse::<Token![else]>()?;
        if input.peek(Token![if]) {
            continue;
        }
        let body;
        syn::braced!(body in input);
        out.push(CfgIfBranch {
            pred: None,
            body: body.parse()?,
        });
        if !input.is_empty() {
            return Err(input.error("nothing may follow the `else` branch"));
        }
        return Ok(out);
    }
}

/// The predicate each branch's items are under, as the macro gives it: the first branch's
/// own, then `all(not(P1), P2)`, `all(not(any(P1, P2)), P3)`, …, the `else` branch
/// `not(P1)` or `not(any(P1, …, Pn))`. cfg-if 0.1's `#[cfg(a, b)]` is `all(a, b)`.
fn cfg_if_predicates(branches: &[CfgIfBranch]) -> Vec<proc_macro2::TokenStream> {
    use quote::quote;
    let mut prior: Vec<proc_macro2::TokenStream> = Vec::new();
    let mut out = Vec::with_capacity(branches.len());
    for b in branches {
        let not_prior = match prior.as_slice() {
            [] => None,
            [p] => Some(quote!(not(#p))),
            ps => Some(quote!(not(any(#(#ps),*)))),
        };
        match &b.pred {
            Some(p) => {
                let comma = p
                    .clone()
                    .into_iter()
                    .any(|t| matches!(t, proc_macro2::TokenTree::Punct(c) if c.as_char() == ','));
                let p = if comma { quote!(all(#p)) } else { p.clone() };
                out.push(match not_prior {
                    Some(n) => quote!(all(#n, #p)),
                    None => p.clone(),
                });
                prior.push(p);
            }
            None => out.push(not_prior.unwrap_or_default()),
        }
    }
    out
}

/// A `cfg_if!` branch read as items: its predicate as text, whether it says test, its items.
struct CfgIfItems<T> {
    cfg: String,
    test: bool,
    items: Vec<T>,
}

/// The branches of `mac` when it is `cfg_if!` (see [`is_cfg_if`]) and every branch parses as
/// `T`s (items, impl items, trait items); `None` otherwise.
fn cfg_if_branches<T: syn::parse::Parse>(mac: &syn::Macro) -> Option<Vec<CfgIfItems<T>>> {
    use syn::parse::Parser;
    if !is_cfg_if(&mac.path) {
        return None;
    }
    let branches = mac.parse_body_with(parse_cfg_if).ok()?;
    let preds = cfg_if_predicates(&branches);
    branches
        .into_iter()
        .zip(preds)
        .map(|(b, p)| {
            let items = parse_many::<T>.parse2(b.body).ok()?;
            Some(CfgIfItems {
                cfg: tokens_text(&p),
                test: cfg_mentions_test(&p),
                items,
            })
        })
        .collect()
}

fn first_path_span(p: &syn::Path) -> PmSpan {
    p.leading_colon
        .map(|c| c.spans[0])
        .or_else(|| p.segments.first().map(|s| s.ident.span()))
        .unwrap_or_else(PmSpan::call_site)
}

fn sig_first(sig: &syn::Signature) -> PmSpan {
    sig.constness
        .map(|c| c.span)
        .or(sig.asyncness.map(|a| a.span))
        .or(sig.unsafety.map(|u| u.span))
        .or(sig.abi.as_ref().map(|a| a.extern_token.span))
        .unwrap_or(sig.fn_token.span)
}

/// The last token of a type, without re-quoting large types when avoidable.
fn last_span_of_type(ty: &syn::Type) -> PmSpan {
    ty.span()
}

fn first_span_of_type(ty: &syn::Type) -> PmSpan {
    ty.span()
}

fn last_span_of_expr(e: &syn::Expr) -> PmSpan {
    e.span()
}

/// The path head of a type (`[io, Error]`, `Error`) for impl self types; references and
/// parentheses are looked through.
fn type_head(ty: &syn::Type, text: impl Fn(PmSpan) -> String) -> (Vec<String>, String) {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let segs = path_segs(&p.path);
            let name = p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            (segs, name)
        }
        syn::Type::Reference(r) => type_head(&r.elem, text),
        syn::Type::Paren(p) => type_head(&p.elem, text),
        syn::Type::Group(g) => type_head(&g.elem, text),
        other => (Vec::new(), text(other.span())),
    }
}

fn cfg_mentions_test(tokens: &proc_macro2::TokenStream) -> bool {
    // `test`, `all(test, …)`, `any(test, …)`, but not `not(test)`.
    let mut iter = tokens.clone().into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            proc_macro2::TokenTree::Ident(i) if i == "test" => return true,
            proc_macro2::TokenTree::Ident(i) if i == "all" || i == "any" => {
                if let Some(proc_macro2::TokenTree::Group(g)) = iter.peek() {
                    if cfg_mentions_test(&g.stream()) {
                        return true;
                    }
                }
            }
            proc_macro2::TokenTree::Ident(i) if i == "not" => {
                iter.next();
            }
            _ => {}
        }
    }
    false
}

/// The string of `path = "…"`.
fn path_value(nv: &syn::MetaNameValue) -> Option<String> {
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) if nv.path.is_ident("path") => Some(s.value()),
        _ => None,
    }
}

/// One `#[cfg_attr(PRED, path = "…")]` of a module: its predicate (as text), whether that says
/// test, the path.
struct CfgAttrPath {
    pred: String,
    test: bool,
    path: String,
}

/// The `#[cfg_attr(PRED, path = "…")]` attributes of a module (lazy_static picks its
/// implementation this way), in order.
fn cfg_attr_paths(attrs: &[syn::Attribute]) -> Vec<CfgAttrPath> {
    use syn::punctuated::Punctuated;
    let mut found = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("cfg_attr")) {
        let Ok(metas) =
            a.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        else {
            continue;
        };
        let mut it = metas.iter();
        let Some(pred) = it.next() else { continue };
        let tokens = pred.to_token_stream();
        for m in it {
            if let syn::Meta::NameValue(nv) = m {
                if let Some(path) = path_value(nv) {
                    found.push(CfgAttrPath {
                        pred: tokens_text(&tokens),
                        test: cfg_mentions_test(&tokens),
                        path,
                    });
                }
            }
        }
    }
    found
}
