//! Collect the references (calls, types, values, macros) inside a signature or body.

use std::collections::{HashMap, HashSet};

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};

use crate::text::LineIndex;
use crate::{RawRef, Receiver, RecvBase, RefKind};

const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

/// Single-segment value names that are never worth a reference.
const PRELUDE_VALUES: &[&str] = &["None", "Some", "Ok", "Err"];

pub(crate) struct RefCollector<'a> {
    lines: &'a LineIndex,
    /// Generic parameter names in scope: `T` in a body refers to no item.
    generics: &'a HashSet<String>,
    seen: HashSet<(RefKind, Vec<String>, Option<Receiver>)>,
    pub(crate) refs: Vec<RawRef>,
    depth: u32,
    /// Names bound by `use` items inside the blocks being visited (`use some_dep::Client;` in a
    /// fn body): name -> full path. Paths starting with such a name are written out in full.
    local_uses: HashMap<String, Vec<String>>,
    /// Local names (parameters, `let` bindings) whose value the code names: what a method
    /// call on them is a call on.
    locals: HashMap<String, Receiver>,
}

/// Types that hold one value a method call reaches through `Deref`: `Arc<Foo>` is used as
/// a `Foo`.
const WRAPPERS: &[&str] = &["Arc", "Rc", "Box", "Pin", "ManuallyDrop", "Weak"];

/// Macro bodies re-parsed as expressions can nest; past this depth they are left alone.
const MAX_MACRO_DEPTH: u32 = 8;

impl<'a> RefCollector<'a> {
    pub(crate) fn new(lines: &'a LineIndex, generics: &'a HashSet<String>) -> Self {
        RefCollector {
            lines,
            generics,
            seen: HashSet::new(),
            refs: Vec::new(),
            depth: 0,
            local_uses: HashMap::new(),
            locals: HashMap::new(),
        }
    }

    fn push(&mut self, kind: RefKind, path: Vec<String>, span: proc_macro2::Span) {
        self.push_ref(kind, path, None, span)
    }

    fn push_ref(
        &mut self,
        kind: RefKind,
        mut path: Vec<String>,
        recv: Option<Receiver>,
        span: proc_macro2::Span,
    ) {
        if path.is_empty() {
            return;
        }
        if matches!(kind, RefKind::Call | RefKind::Type | RefKind::Value) {
            self.expand_local_use(&mut path);
        }
        if self.seen.insert((kind, path.clone(), recv.clone())) {
            let line = self.lines.line_of(span.byte_range().start as u32);
            self.refs.push(RawRef {
                kind,
                path,
                line,
                recv,
            });
        }
    }

    /// A path whose first segment a block's `use` binds, written out in full.
    fn expand_local_use(&self, path: &mut Vec<String>) {
        if let Some(full) = path.first().and_then(|p| self.local_uses.get(p)) {
            path.splice(0..1, full.iter().cloned());
        }
    }

    /// The type path a written type names for method calls: references and smart pointers
    /// looked through; `None` for generics, primitives, tuples, slices, trait objects.
    fn type_of(&self, ty: &syn::Type) -> Option<Vec<String>> {
        match ty {
            syn::Type::Reference(r) => self.type_of(&r.elem),
            syn::Type::Paren(p) => self.type_of(&p.elem),
            syn::Type::Group(g) => self.type_of(&g.elem),
            syn::Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                if WRAPPERS.contains(&last.ident.to_string().as_str()) {
                    if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                        return a.args.iter().find_map(|g| match g {
                            syn::GenericArgument::Type(t) => self.type_of(t),
                            _ => None,
                        });
                    }
                }
                let mut segs = Self::path_segments(&p.path);
                if self.is_generic_or_primitive(&segs) || self.generics.contains(&segs[0]) {
                    return None;
                }
                self.expand_local_use(&mut segs);
                Some(segs)
            }
            _ => None,
        }
    }

    /// What the code says an expression's value is, for the receiver of a method call.
    fn receiver_of(&self, e: &syn::Expr) -> Option<Receiver> {
        match e {
            syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let name = p.path.segments[0].ident.to_string();
                if name == "self" {
                    return Some(Receiver {
                        base: RecvBase::SelfValue,
                        fields: Vec::new(),
                    });
                }
                self.locals.get(&name).cloned()
            }
            syn::Expr::Field(f) => {
                let syn::Member::Named(name) = &f.member else {
                    return None;
                };
                let mut r = self.receiver_of(&f.base)?;
                r.fields.push(name.to_string());
                Some(r)
            }
            syn::Expr::Reference(r) => self.receiver_of(&r.expr),
            syn::Expr::Paren(p) => self.receiver_of(&p.expr),
            syn::Expr::Group(g) => self.receiver_of(&g.expr),
            syn::Expr::Struct(s) if s.qself.is_none() => {
                let mut segs = Self::path_segments(&s.path);
                if self.is_generic_or_primitive(&segs) {
                    return None;
                }
                self.expand_local_use(&mut segs);
                Some(Receiver {
                    base: RecvBase::Typed(segs),
                    fields: Vec::new(),
                })
            }
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return None;
                };
                if p.qself.is_some() {
                    return None;
                }
                let mut segs = Self::path_segments(&p.path);
                if segs.len() < 2 {
                    return None;
                }
                segs.pop();
                let ty = segs.last()?;
                // `Arc::new(Foo::new())` is a `Foo` to a method call.
                if WRAPPERS.contains(&ty.as_str()) {
                    return c.args.first().and_then(|a| self.receiver_of(a));
                }
                // `Type::new(…)`, `module::Type::with(…)`: constructors of `Type`.
                if !ty.starts_with(|ch: char| ch.is_ascii_uppercase())
                    || self.generics.contains(&segs[0])
                {
                    return None;
                }
                self.expand_local_use(&mut segs);
                Some(Receiver {
                    base: RecvBase::Typed(segs),
                    fields: Vec::new(),
                })
            }
            // `x.clone()`, `x.as_ref()` are still `x`.
            syn::Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "clone" | "as_ref" | "borrow" | "as_mut" | "by_ref"
                ) =>
            {
                self.receiver_of(&m.receiver)
            }
            _ => None,
        }
    }

    /// Binds the name a pattern introduces to what it holds.
    fn bind(&mut self, pat: &syn::Pat, value: Option<Receiver>) {
        if let syn::Pat::Ident(p) = pat {
            let name = p.ident.to_string();
            match value {
                Some(v) => {
                    self.locals.insert(name, v);
                }
                // A new binding of the name hides the old one's type.
                None => {
                    self.locals.remove(&name);
                }
            }
        }
    }

    fn path_segments(path: &syn::Path) -> Vec<String> {
        let mut out = Vec::with_capacity(path.segments.len() + 1);
        if path.leading_colon.is_some() {
            out.push(String::new());
        }
        for seg in &path.segments {
            out.push(seg.ident.to_string());
        }
        out
    }

    fn is_generic_or_primitive(&self, segs: &[String]) -> bool {
        segs.len() == 1
            && (self.generics.contains(&segs[0]) || PRIMITIVES.contains(&segs[0].as_str()))
    }

    fn type_path(&mut self, path: &syn::Path) {
        let segs = Self::path_segments(path);
        if segs.is_empty() {
            return;
        }
        // `T::Assoc` where T is generic names no item of ours.
        if self.generics.contains(&segs[0]) && segs.len() <= 2 {
            return;
        }
        if !self.is_generic_or_primitive(&segs) {
            let span = path
                .segments
                .first()
                .map(|s| s.ident.span())
                .unwrap_or_else(proc_macro2::Span::call_site);
            self.push(RefKind::Type, segs, span);
        }
    }

    fn macro_body(&mut self, mac: &syn::Macro) {
        if self.depth >= MAX_MACRO_DEPTH {
            return;
        }
        self.depth += 1;
        // Most body macros take expressions (`assert!`, `format!`, `try_ready!`); others take
        // statements. Reading them recovers the calls written inside.
        let parsed_exprs =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated);
        match parsed_exprs {
            Ok(exprs) => {
                for e in &exprs {
                    self.visit_expr(e);
                }
            }
            Err(_) => {
                if let Ok(stmts) = mac.parse_body_with(syn::Block::parse_within) {
                    for s in &stmts {
                        self.visit_stmt(s);
                    }
                }
            }
        }
        self.depth -= 1;
    }
}

/// The names a use tree binds, with the paths they stand for (globs and `as _` bind none).
fn use_bindings(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_bindings(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            if n.ident == "self" {
                // `use a::b::{self}` binds `b`.
                if let Some(last) = prefix.last() {
                    out.push((last.clone(), prefix.clone()));
                }
            } else {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                out.push((n.ident.to_string(), path));
            }
        }
        syn::UseTree::Rename(r) => {
            if r.rename == "_" {
                return;
            }
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((r.rename.to_string(), path));
        }
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_bindings(t, prefix, out);
            }
        }
    }
}

impl RefCollector<'_> {
    /// The generic arguments of every segment (`Vec<Item>`, `Fn(A) -> B`).
    fn path_arguments(&mut self, path: &syn::Path) {
        for seg in &path.segments {
            match &seg.arguments {
                syn::PathArguments::AngleBracketed(a) => {
                    self.visit_angle_bracketed_generic_arguments(a)
                }
                syn::PathArguments::Parenthesized(p) => {
                    self.visit_parenthesized_generic_arguments(p)
                }
                syn::PathArguments::None => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for RefCollector<'_> {
    fn visit_block(&mut self, node: &'ast syn::Block) {
        // `use` items in a block are in scope in the whole block (and only there).
        let mut bindings = Vec::new();
        for stmt in &node.stmts {
            if let syn::Stmt::Item(syn::Item::Use(u)) = stmt {
                let mut prefix = Vec::new();
                if u.leading_colon.is_some() {
                    prefix.push(String::new());
                }
                use_bindings(&u.tree, &mut prefix, &mut bindings);
            }
        }
        // `let` bindings end with the block.
        let locals = self.locals.clone();
        if bindings.is_empty() {
            visit::visit_block(self, node);
            self.locals = locals;
            return;
        }
        let saved = self.local_uses.clone();
        for (name, path) in bindings {
            // A path that is only the name itself (`use foo;`) says nothing more.
            if path.len() > 1 || path.first().is_some_and(|s| *s != name) {
                self.local_uses.insert(name, path);
            }
        }
        visit::visit_block(self, node);
        self.local_uses = saved;
        self.locals = locals;
    }

    /// `&self` / `&mut self` carry a `Self` type that is not written: no reference. An explicit
    /// `self: Box<Self>` names its types.
    fn visit_receiver(&mut self, node: &'ast syn::Receiver) {
        if node.colon_token.is_some() {
            self.visit_type(&node.ty);
        }
    }

    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*node.func {
            if p.qself.is_none() {
                let segs = Self::path_segments(&p.path);
                let span = p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.span())
                    .unwrap_or_else(proc_macro2::Span::call_site);
                if !(segs.len() == 1 && PRELUDE_VALUES.contains(&segs[0].as_str())) {
                    if segs.len() >= 2 && self.generics.contains(&segs[0]) {
                        // `T::new()` on a generic: only the method name is known.
                        let last = segs[segs.len() - 1].clone();
                        self.push(RefKind::Method, vec![last], span);
                    } else {
                        self.push(RefKind::Call, segs, span);
                    }
                }
                for seg in &p.path.segments {
                    if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                        self.visit_angle_bracketed_generic_arguments(a);
                    }
                }
            } else {
                self.visit_expr(&node.func);
            }
        } else {
            self.visit_expr(&node.func);
        }
        for a in &node.args {
            self.visit_expr(a);
        }
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let recv = self.receiver_of(&node.receiver);
        self.push_ref(
            RefKind::Method,
            vec![node.method.to_string()],
            recv,
            node.method.span(),
        );
        visit::visit_expr_method_call(self, node);
    }

    /// Parameters and typed `let`s: `x: &Foo` makes `x.f()` a call of `Foo`'s `f`.
    fn visit_pat_type(&mut self, node: &'ast syn::PatType) {
        visit::visit_pat_type(self, node);
        let value = self.type_of(&node.ty).map(|t| Receiver {
            base: RecvBase::Typed(t),
            fields: Vec::new(),
        });
        self.bind(&node.pat, value);
    }

    fn visit_local(&mut self, node: &'ast syn::Local) {
        visit::visit_local(self, node);
        // `let x = Foo::new()`, `let s = &self.sem` (a typed `let` was bound by its
        // pattern's type).
        if !matches!(node.pat, syn::Pat::Type(_)) {
            let value = node.init.as_ref().and_then(|i| self.receiver_of(&i.expr));
            self.bind(&node.pat, value);
        }
    }

    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        if let Some(q) = &node.qself {
            self.visit_type(&q.ty);
        }
        let segs = Self::path_segments(&node.path);
        let span = node
            .path
            .segments
            .first()
            .map(|s| s.ident.span())
            .unwrap_or_else(proc_macro2::Span::call_site);
        let upper = segs.len() == 1
            && segs[0].starts_with(|c: char| c.is_ascii_uppercase())
            && !PRELUDE_VALUES.contains(&segs[0].as_str())
            && !self.generics.contains(&segs[0]);
        if (segs.len() >= 2 && !self.generics.contains(&segs[0])) || upper {
            self.push(RefKind::Value, segs, span);
        }
        for seg in &node.path.segments {
            if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                self.visit_angle_bracketed_generic_arguments(a);
            }
        }
    }

    fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
        self.type_path(&node.path);
        for f in &node.fields {
            self.visit_expr(&f.expr);
        }
        if let Some(r) = &node.rest {
            self.visit_expr(r);
        }
    }

    fn visit_pat_struct(&mut self, node: &'ast syn::PatStruct) {
        self.type_path(&node.path);
        for f in &node.fields {
            self.visit_pat(&f.pat);
        }
    }

    fn visit_pat_tuple_struct(&mut self, node: &'ast syn::PatTupleStruct) {
        let segs = Self::path_segments(&node.path);
        if !(segs.len() == 1 && PRELUDE_VALUES.contains(&segs[0].as_str())) {
            let span = node
                .path
                .segments
                .first()
                .map(|s| s.ident.span())
                .unwrap_or_else(proc_macro2::Span::call_site);
            self.push(RefKind::Value, segs, span);
        }
        for p in &node.elems {
            self.visit_pat(p);
        }
    }

    fn visit_type_path(&mut self, node: &'ast syn::TypePath) {
        if let Some(q) = &node.qself {
            self.visit_type(&q.ty);
            // `<T as Trait>::Assoc`: the trait is the reference.
            let n = q.position.min(node.path.segments.len());
            if n > 0 {
                let mut p = node.path.clone();
                p.segments = p.segments.into_iter().take(n).collect();
                self.type_path(&p);
            }
        } else {
            self.type_path(&node.path);
        }
        self.path_arguments(&node.path);
    }

    fn visit_trait_bound(&mut self, node: &'ast syn::TraitBound) {
        self.type_path(&node.path);
        self.path_arguments(&node.path);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        let segs = Self::path_segments(&node.path);
        let span = node
            .path
            .segments
            .last()
            .map(|s| s.ident.span())
            .unwrap_or_else(proc_macro2::Span::call_site);
        self.push(RefKind::Macro, segs, span);
        self.macro_body(node);
    }

    // Attributes hold no references worth following, and their tokens can be large.
    fn visit_attribute(&mut self, _node: &'ast syn::Attribute) {}
}
