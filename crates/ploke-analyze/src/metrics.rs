//! Per-function metrics from the function's own text: size, nesting, cyclomatic complexity,
//! `unsafe` blocks and the places it can panic (`unwrap`, `expect`, `panic!` and kin).

use serde::Serialize;
use syn::visit::{self, Visit};

/// What [`of_fn`] measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct FnMetrics {
    /// Lines of the item, attributes and doc comments included.
    pub lines: u32,
    /// Lines of the body alone.
    pub body_lines: u32,
    /// The deepest nesting of blocks of control flow (`if`, `match`, loops, closures).
    pub nesting: u32,
    /// McCabe's cyclomatic complexity: 1 + each branch (`if`, `while`, `for`, `loop`, each
    /// `match` arm past the first, `&&`, `||`, `?`).
    pub cyclomatic: u32,
    pub unsafe_blocks: u32,
    pub unwraps: u32,
    pub expects: u32,
    /// `panic!`, `unreachable!`, `todo!`, `unimplemented!`.
    pub panics: u32,
}

/// The metrics of the function or method whose whole text is `text` (`None` when it does
/// not parse as one, or has no body).
pub fn of_fn(text: &str) -> Option<FnMetrics> {
    let (attrs_len, block) = match syn::parse_str::<syn::ImplItemFn>(text) {
        Ok(f) => (f.attrs.len(), f.block),
        Err(_) => match syn::parse_str::<syn::TraitItemFn>(text) {
            Ok(syn::TraitItemFn {
                default: Some(b),
                attrs,
                ..
            }) => (attrs.len(), b),
            _ => return None,
        },
    };
    let _ = attrs_len;
    let mut v = Visitor::default();
    v.visit_block(&block);
    let body_lines = {
        let s = block.brace_token.span.open().start().line;
        let e = block.brace_token.span.close().end().line;
        (e.saturating_sub(s) + 1) as u32
    };
    Some(FnMetrics {
        lines: text.lines().count() as u32,
        body_lines,
        nesting: v.max_depth,
        cyclomatic: 1 + v.branches,
        unsafe_blocks: v.unsafe_blocks,
        unwraps: v.unwraps,
        expects: v.expects,
        panics: v.panics,
    })
}

#[derive(Default)]
struct Visitor {
    depth: u32,
    max_depth: u32,
    branches: u32,
    unsafe_blocks: u32,
    unwraps: u32,
    expects: u32,
    panics: u32,
}

impl Visitor {
    fn nested(&mut self, f: impl FnOnce(&mut Self)) {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        f(self);
        self.depth -= 1;
    }

    fn mac(&mut self, m: &syn::Macro) {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if matches!(
            name.as_str(),
            "panic" | "unreachable" | "todo" | "unimplemented"
        ) {
            self.panics += 1;
        }
        // Calls written inside other macros (`assert!(x.unwrap() > 0)`, `println!`).
        if let Ok(exprs) = m.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Visitor {
    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.branches += 1;
        self.visit_expr(&e.cond);
        self.nested(|v| v.visit_block(&e.then_branch));
        if let Some((_, els)) = &e.else_branch {
            match &**els {
                // `else if` is a branch at the same depth.
                syn::Expr::If(_) => self.visit_expr(els),
                other => self.nested(|v| v.visit_expr(other)),
            }
        }
    }

    fn visit_expr_match(&mut self, e: &'ast syn::ExprMatch) {
        self.branches += e.arms.len().saturating_sub(1) as u32;
        self.visit_expr(&e.expr);
        self.nested(|v| {
            for a in &e.arms {
                if let Some((_, g)) = &a.guard {
                    v.branches += 1;
                    v.visit_expr(g);
                }
                v.visit_expr(&a.body);
            }
        });
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.branches += 1;
        self.visit_expr(&e.cond);
        self.nested(|v| v.visit_block(&e.body));
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.branches += 1;
        self.visit_expr(&e.expr);
        self.nested(|v| v.visit_block(&e.body));
    }

    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.branches += 1;
        self.nested(|v| v.visit_block(&e.body));
    }

    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        self.nested(|v| visit::visit_expr_closure(v, e));
    }

    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        if matches!(e.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) {
            self.branches += 1;
        }
        visit::visit_expr_binary(self, e);
    }

    fn visit_expr_try(&mut self, e: &'ast syn::ExprTry) {
        self.branches += 1;
        visit::visit_expr_try(self, e);
    }

    fn visit_expr_unsafe(&mut self, e: &'ast syn::ExprUnsafe) {
        self.unsafe_blocks += 1;
        visit::visit_expr_unsafe(self, e);
    }

    fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
        match e.method.to_string().as_str() {
            "unwrap" | "unwrap_unchecked" => self.unwraps += 1,
            "expect" => self.expects += 1,
            _ => {}
        }
        visit::visit_expr_method_call(self, e);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.mac(m);
    }

    // Items nested in a body are measured on their own.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_branches_nesting_and_panic_sites() {
        let text = r#"/// Doc.
pub fn f(x: Option<u32>, v: &[u32]) -> Result<u32, E> {
    let y = x.unwrap();
    if y > 1 && y < 10 {
        for i in v {
            match i {
                0 => panic!("zero"),
                1 | 2 => {}
                _ if *i > 5 => todo!(),
                _ => {}
            }
        }
    } else if y == 0 {
        unsafe { core::hint::unreachable_unchecked() }
    } else {
        let z = g()?;
        assert!(x.expect("some") > 0);
    }
    Ok(y)
}"#;
        let m = of_fn(text).expect("a function");
        assert_eq!(m.lines, 20);
        assert_eq!(m.body_lines, 19);
        // if, &&, for, 3 extra arms, a guard, else if, ?
        assert_eq!(m.cyclomatic, 1 + 1 + 1 + 1 + 3 + 1 + 1 + 1);
        // if > for > match
        assert_eq!(m.nesting, 3);
        assert_eq!(m.unsafe_blocks, 1);
        assert_eq!((m.unwraps, m.expects, m.panics), (1, 1, 2));
    }

    #[test]
    fn methods_and_default_trait_methods_parse_and_declarations_do_not() {
        assert_eq!(of_fn("fn g(&self) -> u8 { 1 }").unwrap().cyclomatic, 1);
        assert!(of_fn("fn h(&self);").is_none());
        assert!(of_fn("struct S;").is_none());
    }
}
