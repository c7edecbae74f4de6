#!/usr/bin/env python3
"""List the items of a Rust crate's library with tree-sitter: an item list that owes
nothing to `syn` or to ploke, for `cargo xtask coverage-top`.

    list-items.py CRATE_DIR [--bins] [--report REPORT.json] > ITEMS.jsonl

One JSON object per item, in the format of `../shared/bench/items/*.jsonl`:
`file` (relative to CRATE_DIR), `kind` (fn, method, struct, enum, union, trait, type,
const, static, mod, macro, impl), `name`, `module` (path below the crate root, "" at the
root), `start_line` (first line of the contiguous attributes and comments above the
item), `end_line`, `decl_line` (the line the item itself starts on), `test`, and
`impl_trait` for items of trait impls. Two extra fields say where a miss may come from:
`in_macro` (the item is written inside the body of that item-level macro invocation,
e.g. `cfg_rt! { ... }`) and `reached_via` (the item's file is reached through a `mod x;`
written in an unusual place: `"cfg_rt!"` in the body of an invocation, `"macro_rules!
crate_root"` in a macro_rules! template that an item-level invocation expands, as
serde_core's `crate_root!();`, `"fn body"` in a function, as getrandom's
`fn f() { #[path = "../utils/lazy.rs"] mod lazy; }`, `"#[cfg_attr(path)]"` through a
`#[cfg_attr(cond, path = "x.rs")]`, as lazy_static's).

Names follow the benchmark lists: `foo` for free fns, `Type::method` for fns of
`impl Type` / `impl Trait for Type` (last path segment of the self type, no generics,
references dropped; a slice, tuple or `dyn` type is written out without generics, paths
or lifetimes: `[MaybeUninit]`), `Trait::method` for fns of trait definitions (their
associated types are not listed, their consts are), `impl Type` / `impl Trait for Type`
for impl blocks, plain names otherwise; associated types and consts of impls are
`Type::Name`. Fns and statics of `extern { ... }` blocks are fns and statics.

Files: the library's module tree only, followed from `src/lib.rs` (or `[lib] path`)
through `mod x;` declarations (with `#[path]`, and every `#[cfg_attr(.., path = ..)]`),
including those written inside item-level macro invocations, inside `macro_rules!`
templates that an item-level invocation expands, and inside fn bodies; `--bins` adds
`src/main.rs` and `src/bin/*`. Like the benchmark lists, every `#[cfg]` branch counts.

Macros: the items of an item-level `name! { ... }` or `name![ ... ]` invocation (not
`name!( ... )`, e.g. `thread_local!(static X: … = …);`) are listed as the benchmark
lists do: tree-sitter parses the body as items and recovers from the macro's own
syntax, and an item counts when the part before its name parses (so syn's
`ast_struct! { pub struct ExprArray #full { ... } }` lists `ExprArray`).
`cfg_if!`/`cfg_select!` branches are read as items too (no benchmark crate has them).
Not listed: items nested in function bodies, items of `macro_rules!` templates, enum
variants and fields, `use` and `extern crate`.

On the eight crates of `../shared/bench/items` this reproduces the lists exactly (same
items, names, kinds, modules and start lines) except for tokio files that no `mod`
reaches, which the benchmark lists include.

`--report` writes a JSON summary: files reached, `.rs` files under `src/` not reached,
files tree-sitter could only parse with errors.
"""

import argparse
import json
import os
import re
import sys
import tomllib

import tree_sitter_rust
from tree_sitter import Language, Parser

PARSER = Parser(Language(tree_sitter_rust.language()))

ITEM_KINDS = {
    "function_item": "fn",
    "function_signature_item": "fn",
    "struct_item": "struct",
    "enum_item": "enum",
    "union_item": "union",
    "trait_item": "trait",
    "type_item": "type",
    "const_item": "const",
    "static_item": "static",
    "mod_item": "mod",
    "macro_definition": "macro",
    "impl_item": "impl",
}
# Macros whose body is a chain of `{ items }` branches picked by cfg.
CFG_SELECT = {"cfg_if", "cfg_select", "cfg_match"}
# Nodes that stand between items and are neither items nor their attributes.
TRIVIA = {"attribute_item", "line_comment", "block_comment"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TEST_ATTR = re.compile(r"#\s*\[\s*(test\s*\]|cfg\s*\(.*\btest\b)", re.S)


def text(node):
    return node.text.decode("utf-8", "replace")


def squash(s):
    """One line, single spaces, no space inside brackets: `(& str , u16)` -> `(&str, u16)`."""
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"([(\[&<]) ", r"\1", s)
    return re.sub(r" ([)\],>])", r"\1", s)


def strip_generics(s):
    out, depth = [], 0
    for ch in s:
        if ch == "<":
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def type_name(node):
    """The name of an impl's self type or trait, as the benchmark lists write it."""
    if node is None:
        return "?"
    t = node.type
    if t == "reference_type":
        return type_name(node.child_by_field_name("type"))
    if t == "generic_type":
        return type_name(node.child_by_field_name("type"))
    if t in ("scoped_type_identifier", "scoped_identifier"):
        return type_name(node.child_by_field_name("name"))
    if t in ("type_identifier", "identifier", "primitive_type"):
        return text(node)
    s = squash(strip_generics(text(node)))
    # Lifetimes and paths inside compound types: `dyn E + '_` -> `dyn E`, `&'a str` ->
    # `&str`, `a::B` -> `B`.
    s = re.sub(r"\s*\+\s*'[A-Za-z_]\w*", "", s)
    s = re.sub(r"'[A-Za-z_]\w*\s*", "", s)
    s = re.sub(r"\b(?:[A-Za-z_]\w*::)+", "", s)
    return squash(s)


class Lister:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.items = []
        self.files = {}  # rel path -> {"module": ..., "via": None | str}
        self.queue = []  # (abs path, module, is_mod_rs, via)
        self.macro_mods = {}  # macro_rules! name -> `mod x;` of its templates (see mod_decls)
        self.invocations = []  # (macro name, ctx) of item-level invocations seen
        self.applied = set()  # (macro name, module, file) whose template mods are declared
        self.error_files = []

    # ---- files ----

    def rel(self, path):
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def add_file(self, path, mod_rs, via):
        path = os.path.realpath(path)
        if not os.path.isfile(path) or not path.startswith(self.root + os.sep):
            return False
        rel = self.rel(path)
        if rel in self.files:
            return True
        module = file_module(rel)
        self.files[rel] = {"module": module, "via": via}
        self.queue.append((path, module, mod_rs, via))
        return True

    def run(self, roots):
        for path in roots:
            self.add_file(path, True, None)
        while True:
            while self.queue:
                self.list_file(*self.queue.pop(0))
            # Mods declared by macro_rules! bodies, for invocations seen so far.
            grew = False
            for name, ctx in list(self.invocations):
                key = (name, ctx["module"], ctx["file"])
                if name in self.macro_mods and key not in self.applied:
                    self.applied.add(key)
                    for decl in self.macro_mods[name]:
                        via = ctx["via"] or f"macro_rules! {name}"
                        self.declare_mod(decl, dict(ctx, via=via))
                    grew = True
            if not grew and not self.queue:
                break

    def list_file(self, path, module, mod_rs, via):
        with open(path, "rb") as f:
            src = f.read()
        tree = PARSER.parse(src)
        rel = self.rel(path)
        if tree.root_node.has_error:
            self.error_files.append(rel)
        d = os.path.dirname(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        ctx = {
            "file": rel,
            "module": module,
            # Where `mod x;` looks for x.rs: beside a mod.rs/lib.rs, else in a dir named
            # after the file.
            "dir": d if mod_rs else os.path.join(d, stem),
            # Where `#[path]` is relative to, outside inline modules.
            "path_dir": d,
            "container": None,  # None | ("impl", self type, trait or None) | ("trait", name, None)
            # As in the benchmark lists, a file is a test file by its path (`tests/`,
            # `tests.rs`), not by the `#[cfg(test)]` on its `mod` declaration.
            "test": "tests" in rel[:-3].split("/") or rel.endswith(("_test.rs", "_tests.rs")),
            "via": via,
            "in_macro": None,
        }
        self.walk(tree.root_node, ctx)

    # ---- items ----

    def emit(self, ctx, kind, name, start, node, **extra):
        item = {
            "file": ctx["file"],
            "kind": kind,
            "name": name,
            "module": ctx["module"],
            "start_line": start + 1,
            "end_line": node.end_point[0] + 1,
            "decl_line": node.start_point[0] + 1,
            "test": extra.pop("test", ctx["test"]),
        }
        c = ctx["container"]
        if c and c[0] == "impl" and c[2] is not None and kind != "impl":
            item["impl_trait"] = c[2]
        item.update({k: v for k, v in extra.items() if v is not None})
        if ctx["in_macro"]:
            item["in_macro"] = ctx["in_macro"]
        if ctx["via"]:
            item["reached_via"] = ctx["via"]
        self.items.append(item)

    def walk(self, container, ctx):
        """The items among `container`'s children (a source file, a `{ ... }` body)."""
        trivia = []
        for node in container.children:
            t = node.type
            if t in TRIVIA:
                if t != "attribute_item" and text(node).startswith(("//!", "/*!")):
                    trivia = []
                else:
                    trivia.append(node)
                continue
            if t == "ERROR" or (ctx["in_macro"] and not header_ok(node)):
                # Tree-sitter could not parse this stretch. In a file, items inside still
                # count; in a macro body they are debris of the macro's own syntax
                # (bitflags!'s `struct F: u8 { const A = …; }` gives `const Self`), but an
                # item whose head parses counts, as in the benchmark lists (rustls's
                # `enum_builder! { pub enum E { A => 1 } }` lists `enum E`).
                if t == "ERROR" and not ctx["in_macro"]:
                    self.walk(node, ctx)
                trivia = []
                continue
            # The item's span starts at the attributes and comments right above it, as in
            # the benchmark lists: a blank line ends the run (even before an attribute),
            # a comment that ends the previous line's code belongs to the run.
            start = node.start_point[0]
            for tr in reversed(trivia):
                if last_row(tr) < start - 1:
                    break
                start = tr.start_point[0]
            attrs = [text(tr) for tr in trivia if tr.type == "attribute_item"]
            trivia = []
            self.item(node, ctx, start, attrs)

    def item(self, node, ctx, start, attrs):
        t = node.type
        test = ctx["test"] or any(is_test_attr(a) for a in attrs)
        if t == "expression_statement" and node.named_child_count == 1:
            node = node.named_children[0]
            t = node.type
        if t == "macro_invocation":
            self.invocation(node, ctx, test)
            return
        if t == "foreign_mod_item":
            # `extern "C" { fn f(); static S: u8; }`: free fns and statics of the module.
            body = node.child_by_field_name("body")
            if body is not None:
                self.walk(body, dict(ctx, test=test))
            return
        kind = ITEM_KINDS.get(t)
        if kind is None:
            return
        c = ctx["container"]
        if t == "impl_item":
            self_ty = type_name(node.child_by_field_name("type"))
            tr = node.child_by_field_name("trait")
            trait = type_name(tr) if tr is not None else None
            name = f"impl {trait} for {self_ty}" if trait else f"impl {self_ty}"
            self.emit(ctx, "impl", name, start, node, test=test, impl_trait=trait)
            body = node.child_by_field_name("body")
            if body is not None:
                self.walk(body, dict(ctx, container=("impl", self_ty, trait), test=test))
            return
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        name = text(name_node)
        if c is not None and kind in ("fn", "type", "const"):
            kind = "method" if kind == "fn" else kind
            name = f"{c[1]}::{name}"
        self.emit(ctx, kind, name, start, node, test=test)
        if t == "function_item":
            # Items inside fns are not listed, but a `mod x;` there still adds a file.
            body = node.child_by_field_name("body")
            for decl in mod_decls(body, deep=True) if body is not None else []:
                self.declare_mod(decl, dict(ctx, via=ctx["via"] or "fn body"))
        elif t == "trait_item":
            body = node.child_by_field_name("body")
            if body is not None:
                self.walk(body, dict(ctx, container=("trait", name, None), test=test))
        elif t == "mod_item":
            decl = {"name": name, "attrs": attrs, "body": node.child_by_field_name("body")}
            self.declare_mod(decl, dict(ctx, test=test))
        elif t == "macro_definition":
            self.macro_rules(node, name)

    def declare_mod(self, decl, ctx):
        name = decl["name"]
        module = f"{ctx['module']}::{name}" if ctx["module"] else name
        path_attr = attr_path(decl["attrs"])
        body = decl["body"]
        if body is not None:
            # Inline module: its children live in dir/name, `#[path]` inside is relative
            # to that directory too.
            sub = os.path.join(ctx["dir"], name)
            self.walk(body, dict(ctx, module=module, dir=sub, path_dir=sub, container=None))
            return
        via = ctx["via"] or (f"{ctx['in_macro']}!" if ctx["in_macro"] else None)
        if path_attr:
            self.add_file(os.path.join(ctx["path_dir"], path_attr), True, via)
        else:
            for p in (os.path.join(ctx["dir"], name + ".rs"),
                      os.path.join(ctx["dir"], name, "mod.rs")):
                if self.add_file(p, p.endswith("mod.rs"), via):
                    break
        # `#[cfg_attr(cond, path = "x.rs")]`: under some configuration the module is that
        # file instead; every configuration counts, as for `#[cfg]`.
        for alt in attr_paths(decl["attrs"]):
            self.add_file(os.path.join(ctx["path_dir"], alt), True, via or "#[cfg_attr(path)]")

    def invocation(self, node, ctx, test):
        mac = node.child_by_field_name("macro")
        name = text(mac).split("::")[-1] if mac is not None else "?"
        self.invocations.append((name, ctx))
        body = next((c for c in node.children if c.type == "token_tree"), None)
        if body is None:
            return
        inner = dict(ctx, in_macro=ctx["in_macro"] or name, test=test)
        if name in CFG_SELECT:
            # `cfg_if! { if #[cfg(unix)] { items } else { items } }`, `cfg_select! { unix =>
            # { items } _ => { items } }`: the branches are items. (An extension: no
            # benchmark crate uses these, but many of the most used crates do.)
            for branch in body.children:
                if branch.type == "token_tree" and branch.text.startswith(b"{"):
                    tree = reparse(branch)
                    if tree is not None:
                        self.walk(tree.root_node, inner)
        elif body.text.startswith((b"{", b"[")):
            # `name! { ... }` bodies are read as items, as in the benchmark lists (which
            # have no `name![ ... ]` at item level; quote's `__quote![ macro_rules! … ]`).
            tree = reparse(body)
            if tree is not None:
                self.walk(tree.root_node, inner)
        else:
            # `name!( ... )` is nearly always a call with arguments, not a block of items,
            # and the benchmark lists do not read it; a `mod x;` in it still adds a file.
            tree = reparse(body)
            for decl in mod_decls(tree.root_node) if tree is not None else []:
                self.declare_mod(decl, inner)

    def macro_rules(self, node, name):
        """Remember the `mod x;` declarations of a macro_rules! body (its transcribers)."""
        for rule in node.children:
            if rule.type != "macro_rule":
                continue
            right = rule.child_by_field_name("right")
            tree = reparse(right) if right is not None else None
            if tree is not None:
                for decl in mod_decls(tree.root_node):
                    self.macro_mods.setdefault(name, []).append(decl)


def header_ok(node):
    """No stretch tree-sitter could not parse in an item before its name (or, for an impl,
    before its body)."""
    if not node.has_error:
        return True
    stop = node.child_by_field_name("name") or node.child_by_field_name("body")
    if stop is None:
        return False
    return not any(c.type == "ERROR" for c in node.children if c.start_byte < stop.start_byte)


def is_test_attr(attr):
    """`#[test]`, `#[cfg(test)]`, `#[cfg(any(test, fuzzing))]`; not `#[cfg(not(test))]`."""
    return bool(TEST_ATTR.match(attr)) and not re.search(r"not\s*\(\s*test\b", attr)


def file_module(rel):
    """The module path the benchmark lists give a file: its path below src/ (and src/bin/),
    whatever `#[path]` named the module: `src/io/core.rs` -> `io::core`."""
    parts = rel[:-3].split("/") if rel.endswith(".rs") else rel.split("/")
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[0] == "bin":
        parts = parts[1:]
    if parts and parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def last_row(node):
    """The last row a node covers (a line comment's node ends at the start of the next)."""
    row, col = node.end_point
    return row - 1 if col == 0 and row > node.start_point[0] else row


def reparse(token_tree):
    """Parse the inside of a `{ ... }` / `( ... )` token tree as a source file, padded so
    that lines and columns are those of the original file."""
    src = token_tree.text
    if len(src) < 2:
        return None
    row, col = token_tree.start_point
    pad = b"\n" * row + b" " * (col + 1)
    return PARSER.parse(pad + src[1:-1])


def mod_decls(node, deep=False, out=None):
    """`mod x;` declarations under `node`: in a macro template (which parses with errors)
    or, with `deep`, anywhere in a function body."""
    out = [] if out is None else out
    pending = []
    for c in node.children:
        if c.type == "attribute_item":
            pending.append(text(c))
            continue
        if c.type == "mod_item" and c.child_by_field_name("body") is None:
            n = c.child_by_field_name("name")
            if n is not None and IDENT.fullmatch(text(n)):
                out.append({"name": text(n), "attrs": pending, "body": None})
        elif deep or c.type in ("ERROR", "declaration_list", "token_tree", "macro_invocation"):
            mod_decls(c, deep, out)
        if c.type not in TRIVIA:
            pending = []
    return out


def attr_path(attrs):
    """The `x` of `#[path = "x"]`."""
    for a in attrs:
        m = re.fullmatch(r'#\[path="([^"]*)"\]', re.sub(r"\s+", "", a))
        if m:
            return m.group(1)
    return None


def attr_paths(attrs):
    """The `x` of every `#[cfg_attr(..., path = "x")]`."""
    out = []
    for a in attrs:
        m = re.match(r'#\[cfg_attr\(.*,path="([^"]*)"\)\]', re.sub(r"\s+", "", a))
        if m:
            out.append(m.group(1))
    return out


def roots(crate_dir, bins):
    out = []
    lib = os.path.join(crate_dir, "src", "lib.rs")
    try:
        with open(os.path.join(crate_dir, "Cargo.toml"), "rb") as f:
            manifest = tomllib.load(f)
        lib = os.path.join(crate_dir, manifest.get("lib", {}).get("path", "src/lib.rs"))
        if bins:
            for b in manifest.get("bin", []):
                if "path" in b:
                    out.append(os.path.join(crate_dir, b["path"]))
    except (OSError, tomllib.TOMLDecodeError):
        pass
    out.insert(0, lib)
    if bins:
        out.append(os.path.join(crate_dir, "src", "main.rs"))
        bindir = os.path.join(crate_dir, "src", "bin")
        if os.path.isdir(bindir):
            for e in sorted(os.listdir(bindir)):
                p = os.path.join(bindir, e)
                out.append(os.path.join(p, "main.rs") if os.path.isdir(p) else p)
    return [p for p in out if p.endswith(".rs")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("crate_dir")
    ap.add_argument("--bins", action="store_true", help="also list src/main.rs and src/bin/*")
    ap.add_argument("--report", help="write a JSON summary of the files here")
    args = ap.parse_args()
    lister = Lister(args.crate_dir)
    lister.run(roots(args.crate_dir, args.bins))
    out = sys.stdout
    for item in lister.items:
        out.write(json.dumps(item) + "\n")
    if args.report:
        src = os.path.join(lister.root, "src")
        unreached = []
        for d, _, names in os.walk(src):
            for n in names:
                rel = lister.rel(os.path.join(d, n))
                if n.endswith(".rs") and rel not in lister.files:
                    unreached.append(rel)
        report = {
            "files": sorted(lister.files),
            "reached_via": {f: v["via"] for f, v in lister.files.items() if v["via"]},
            "unreached": sorted(unreached),
            "parse_errors": sorted(lister.error_files),
            "items": len(lister.items),
        }
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
